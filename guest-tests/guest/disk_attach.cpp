#include "guest-tests/guest/disk_attach.h"

#include "guest-tests/guest/channel.h"
#include "guest-tests/guest/clock.h"
#include "guest-tests/guest/records.h"
#include "guest-tests/guest/small_files.h"

#include <fcntl.h>
#include <unistd.h>

namespace fsfault::guest {

namespace {

using json = nlohmann::json;

// How long the kernel may take from the host's device_add to the block device (pciehp's slot
// work, then virtio-blk's probe): ~0.1 s measured under TCG; 20 s bounds a loaded host.
constexpr long long kAppearMs = 20000;

std::string trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ' || s.back() == '\0')) s.pop_back();
  return s;
}

// Whether the block device opens: devtmpfs makes /dev/NAME at device_add, before add_disk has
// made the disk live, and until then an open (a mount's too) fails with ENXIO. Seen once on 7.2
// in a restored guest: "/dev/vda: Can't open blockdev", the mount step failing with ENXIO.
bool block_device_opens(const std::string& dev) {
  int fd = open(dev.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  close(fd);
  return true;
}

// Waits until /sys/block/NAME and /dev/NAME exist and the device opens; the serial the device
// reports, or nullopt.
std::optional<std::string> wait_for_block_device(const std::string& dev) {
  const std::string name = dev.substr(dev.rfind('/') + 1);
  const long long t0 = now_ms();
  while (now_ms() - t0 < kAppearMs) {
    if (access(("/sys/block/" + name).c_str(), F_OK) == 0 && access(dev.c_str(), F_OK) == 0 &&
        block_device_opens(dev))
      return trim(read_whole_file("/sys/block/" + name + "/serial").value_or(""));
    usleep(5000);
  }
  return std::nullopt;
}

std::string attach_one(size_t i, const std::string& dev) {
  const long long t0 = now_ms();
  record(json{{"type", "attach"}, {"disk", i}});
  auto reply = host_channel().recv(30000);
  if (!reply) return "the host did not answer the attach of disk " + std::to_string(i);
  if (!reply->value("ok", false)) return reply->value("error", std::string("the host could not attach the disk"));
  const std::string want = reply->value("serial", std::string());
  auto serial = wait_for_block_device(dev);
  if (!serial) return dev + " did not appear (or open) within " + std::to_string(kAppearMs) + " ms of its hot-plug";
  if (*serial != want) return dev + " has serial '" + *serial + "', expected '" + want + "' (disks named out of order)";
  record(json{{"type", "attached"}, {"disk", i}, {"dev", dev}, {"ms", now_ms() - t0}});
  return "";
}

}  // namespace

std::string attach_disks(const json& scenario_disks) {
  if (!scenario_disks.is_array()) return "";
  for (size_t i = 0; i < scenario_disks.size(); ++i) {
    std::string why = attach_one(i, scenario_disks[i].value("dev", std::string()));
    if (!why.empty()) return why;
  }
  return "";
}

}  // namespace fsfault::guest
