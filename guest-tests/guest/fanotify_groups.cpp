#include "guest-tests/guest/fanotify_groups.h"

#include <sys/fanotify.h>

#include <cstdio>

namespace fsfault::guest {

std::map<std::string, Group>& groups() {
  static std::map<std::string, Group> all;
  return all;
}

std::map<std::string, int>& fsid_disks() {
  static std::map<std::string, int> all;
  return all;
}

std::string fsid_key(const __kernel_fsid_t& f) {
  char b[64];
  snprintf(b, sizeof b, "%08x:%08x", static_cast<unsigned>(f.val[0]), static_cast<unsigned>(f.val[1]));
  return b;
}

unsigned long long mask_from_name(const std::string& n) {
  static const std::map<std::string, unsigned long long> m = {
      {"ACCESS", FAN_ACCESS}, {"MODIFY", FAN_MODIFY}, {"ATTRIB", FAN_ATTRIB},
      {"CLOSE_WRITE", FAN_CLOSE_WRITE}, {"CLOSE_NOWRITE", FAN_CLOSE_NOWRITE},
      {"OPEN", FAN_OPEN}, {"CREATE", FAN_CREATE}, {"DELETE", FAN_DELETE},
      {"MOVED_FROM", FAN_MOVED_FROM}, {"MOVED_TO", FAN_MOVED_TO}, {"FS_ERROR", FAN_FS_ERROR},
      {"ONDIR", FAN_ONDIR}, {"DELETE_SELF", FAN_DELETE_SELF}, {"MOVE_SELF", FAN_MOVE_SELF}};
  auto it = m.find(n);
  return it == m.end() ? 0 : it->second;
}

}  // namespace fsfault::guest
