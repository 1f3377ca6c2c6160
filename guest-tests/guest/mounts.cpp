#include "guest-tests/guest/mounts.h"

#include "guest-tests/guest/disks.h"

#include <sys/mount.h>
#include <sys/stat.h>

#include <cerrno>

namespace fsfault::guest {

void mount_pseudo_filesystems() {
  mkdir("/proc", 0755);
  mkdir("/sys", 0755);
  mkdir("/dev", 0755);
  mkdir("/mnt", 0755);
  mkdir("/tmp", 01777);
  mount("proc", "/proc", "proc", 0, nullptr);
  mount("sysfs", "/sys", "sysfs", 0, nullptr);
  mount("devtmpfs", "/dev", "devtmpfs", 0, nullptr);
  mount("tmpfs", "/tmp", "tmpfs", 0, nullptr);
}

MountOptions parse_mount_options(const std::string& opts) {
  MountOptions m;
  size_t pos = 0;
  while (pos <= opts.size() && !opts.empty()) {
    size_t c = opts.find(',', pos);
    std::string o = opts.substr(pos, c == std::string::npos ? std::string::npos : c - pos);
    if (o == "ro") m.flags |= MS_RDONLY;
    else if (o == "remount") m.flags |= MS_REMOUNT;
    else if (o == "sync") m.flags |= MS_SYNCHRONOUS;
    else if (o == "noatime") m.flags |= MS_NOATIME;
    else if (o == "rw") {
    } else if (!o.empty()) m.data += (m.data.empty() ? "" : ",") + o;
    if (c == std::string::npos) break;
    pos = c + 1;
  }
  return m;
}

int mount_disk(const nlohmann::json& step, nlohmann::json& out) {
  int disk = step.value("disk", 0);
  if (disk < 0 || disk >= static_cast<int>(disks().size())) {
    out["detail"] = "no such disk";
    return EINVAL;
  }
  Disk& d = disks()[disk];
  std::string fs = step.value("fs", d.fs);
  std::string opts = step.value("options", d.options);
  MountOptions m = parse_mount_options(opts);
  mkdir(d.mountpoint.c_str(), 0755);
  out["dev"] = d.dev;
  out["mountpoint"] = d.mountpoint;
  out["fs"] = fs;
  out["options"] = opts;
  if (mount(d.dev.c_str(), d.mountpoint.c_str(), fs.c_str(), m.flags, m.data.empty() ? nullptr : m.data.c_str()) < 0)
    return errno;
  return 0;
}

}  // namespace fsfault::guest
