// The xfs health monitor (7.x): a second error channel beside fanotify, one fd per filesystem
// that read()s fixed 64-byte records, with an explicit LOST record counting what it dropped.
// Layout from include/uapi xfs_fs.h of 7.2 (fs/xfs/libxfs/xfs_fs.h: struct xfs_health_monitor,
// struct xfs_health_monitor_event, XFS_IOC_HEALTH_MONITOR); docs/kernel-facts.md cites it.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>

namespace fsfault::guest {

struct HealthMonitorArgs {  // struct xfs_health_monitor
  uint64_t flags;           // XFS_HEALTH_MONITOR_VERBOSE = 1: every status, not only deltas
  uint8_t format;           // XFS_HEALTH_MONITOR_FMT_V0 = 0
  uint8_t pad[23];          // must be zero (xfs_healthmon_validate())
};
static_assert(sizeof(HealthMonitorArgs) == 32);

struct HealthEvent {  // struct xfs_health_monitor_event
  uint32_t domain;    // XFS_HEALTH_MONITOR_DOMAIN_*
  uint32_t type;      // XFS_HEALTH_MONITOR_TYPE_*
  uint64_t time_ns;
  uint64_t e[4];  // the union; its widest member (filerange) is 32 bytes
  uint64_t pad[2];
};
static_assert(sizeof(HealthEvent) == 64);

// Opens a monitor on the filesystem whose root directory is `root` (the ioctl answers EPERM on any
// other directory, EEXIST when the filesystem already has one). Returns the fd or -errno.
int open_health_monitor(const std::string& root, bool verbose);

// One record {"type":"health", "domain", "event", "time_ns", …} with the union decoded for its
// domain and type (lostcount for LOST, reasons for SHUTDOWN, mask/ino/gno, pos/len/error).
nlohmann::json health_record(const HealthEvent& ev);

}  // namespace fsfault::guest
