// Mounting: the pseudo filesystems init needs, and a scenario disk with mount(8)-style options.
#pragma once

#include <nlohmann/json.hpp>

#include <string>

namespace fsfault::guest {

// proc, sysfs, devtmpfs and a tmpfs on /tmp (mountpoints created; /mnt too).
void mount_pseudo_filesystems();

struct MountOptions {
  unsigned long flags = 0;  // MS_* for the options the harness understands
  std::string data;         // the rest, comma-joined, for the filesystem
};
// Splits "ro,noatime,errors=remount-ro" into flags and filesystem data ("rw" is dropped).
MountOptions parse_mount_options(const std::string& opts);

// Mounts the mount step's disk (fs and options default to the disk's); fills dev, mountpoint,
// fs, options (or detail) into out; 0 or the errno.
int mount_disk(const nlohmann::json& step, nlohmann::json& out);

}  // namespace fsfault::guest
