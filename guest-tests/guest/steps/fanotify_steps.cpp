// watch, read-events, fionread: fanotify groups as the scenario names them.
#include "guest-tests/guest/steps/step.h"

#include "guest-tests/guest/disks.h"
#include "guest-tests/guest/fanotify_groups.h"
#include "guest-tests/guest/fanotify_reading.h"
#include "guest-tests/guest/small_files.h"

#include <fcntl.h>
#include <sys/fanotify.h>
#include <sys/statfs.h>

#include <cerrno>
#include <cstring>
#include <vector>

namespace fsfault::guest {

using json = nlohmann::json;

namespace {

// Creates the group's fanotify fd on first use; 0 or the errno.
int open_group(const StepCall& c, Group& g) {
  if (g.fd >= 0) return 0;
  if (c.spec.contains("max_queued_events")) {
    // Read once when the group is created (fs/notify/fanotify/fanotify_user.c,
    // fanotify_init: group->max_events = fanotify_max_queued_events).
    std::string v = std::to_string(c.spec["max_queued_events"].get<long long>());
    if (!write_existing_file("/proc/sys/fs/fanotify/max_queued_events", v)) c.out["max_queued_events_errno"] = errno;
    c.out["max_queued_events"] = c.spec["max_queued_events"];
  }
  g.fd = fanotify_init(FAN_CLASS_NOTIF | FAN_REPORT_FID | FAN_NONBLOCK | FAN_CLOEXEC, O_RDONLY);
  if (g.fd < 0) return errno;
  watch_first_event(g.fd, g.name);
  return 0;
}

// Marks each disk's filesystem with mask and learns its fsid; 0 or the errno.
int mark_disks(const std::vector<int>& ds, unsigned long long mask, Group& g, json& fsids) {
  for (int d : ds) {
    const std::string& mp = disks().at(d).mountpoint;
    if (fanotify_mark(g.fd, FAN_MARK_ADD | FAN_MARK_FILESYSTEM, mask, AT_FDCWD, mp.c_str()) < 0) return errno;
    struct statfs sf{};
    if (statfs(mp.c_str(), &sf) == 0) {
      __kernel_fsid_t f;
      memcpy(&f, &sf.f_fsid, sizeof f);
      fsid_disks()[fsid_key(f)] = d;
      fsids.push_back(json{{"disk", d}, {"fsid", fsid_key(f)}});
    }
  }
  return 0;
}

}  // namespace

int run_watch(const StepCall& c) {
  std::string gname = c.spec.value("group", std::string("default"));
  Group& g = groups()[gname];
  g.name = gname;
  if (int err = open_group(c, g)) return err;
  std::vector<int> ds;
  if (c.spec.contains("disks")) {
    for (auto& d : c.spec["disks"]) ds.push_back(d.get<int>());
  } else {
    ds.push_back(c.spec.value("disk", 0));
  }
  unsigned long long mask = FAN_FS_ERROR;
  if (c.spec.contains("events"))
    for (auto& e : c.spec["events"]) mask |= mask_from_name(e.get<std::string>());
  c.out["mask"] = mask;
  json fsids = json::array();
  int err = mark_disks(ds, mask, g, fsids);
  c.out["fsids"] = fsids;
  c.out["group"] = gname;
  return err;
}

int run_read_events(const StepCall& c) {
  auto it = groups().find(c.spec.value("group", std::string("default")));
  if (it == groups().end() || it->second.fd < 0) return EBADF;
  c.out.update(read_events(it->second, c.spec.value("timeout_ms", 5000), c.spec.value("settle_ms", 500),
                           c.spec.value("min", 1)));
  return 0;
}

int run_fionread(const StepCall& c) {
  auto it = groups().find(c.spec.value("group", std::string("default")));
  if (it == groups().end()) return EBADF;
  c.out["fionread"] = fionread(it->second.fd);
  return 0;
}

}  // namespace fsfault::guest
