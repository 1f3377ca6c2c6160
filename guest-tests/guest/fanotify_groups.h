// fanotify groups by the scenario's name, and what is known about the filesystems they watch.
#pragma once

#include <linux/types.h>

#include <map>
#include <string>

namespace fsfault::guest {

struct Group {
  int fd = -1;
  std::string name;
  long long events = 0;  // events read so far: the next event record's index
};

// Groups by name, created by the first watch step naming them.
std::map<std::string, Group>& groups();
// fsid (fsid_key) -> disk index, learnt from statfs at watch time: lets an event name its disk.
std::map<std::string, int>& fsid_disks();
// "%08x:%08x" of the fsid's two words.
std::string fsid_key(const __kernel_fsid_t& f);
// The FAN_* bit a scenario's event name stands for ("CREATE" -> FAN_CREATE); 0 when unknown.
unsigned long long mask_from_name(const std::string& n);

}  // namespace fsfault::guest
