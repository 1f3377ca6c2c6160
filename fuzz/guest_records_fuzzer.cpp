// Fuzzes the host's handling of the guest's JSONL records (the kernel under
// test is not trusted): read_jsonl() reads the input as a records file, then
// judge() checks a fixed scenario that uses every [[expect]] kind against it.
// judge() must always return a verdict; nothing may escape it.
#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <string>
#include <type_traits>

#include "runner/judge/judge.h"
#include "runner/scenario/scenario.h"

using namespace fsfault::vm;

namespace {

constexpr const char* kScenario = R"(
name = "fuzz/judge"
kernel = ">=5.16"
step = [
  { do = "watch" },
  { do = "stat", path = "/data/f1", errno = "EIO" },
  { do = "repeat", times = 2, steps = [ { do = "read", path = "/data/f2", errno = "ENOENT" } ] },
  { do = "mount", must_succeed = true },
  { do = "read-events", timeout_ms = 5000 },
]
[[disk]]
image = "ext4-basic"
[[disk]]
image = "xfs-basic"
mount = false
[[rule]]
name = "r1"
match = { op = "read" }
action = { fail = "EIO" }
[[expect]]
event = "FS_ERROR"
error = "EIO"
error_count = ">=1"
fid = "inode:/data/f1"
disk = 0
[[expect]]
event = "FS_ERROR"
group = "g2"
count = "0-3"
index = 1
handle_type = 1
error_count_sum = "<=4"
fid = "empty"
[[expect]]
kmsg = "EXT4-fs error.*inode #[0-9]+"
count = ">=1"
[[expect]]
faults = ">=1"
rule = "r1"
disk = 0
[[expect]]
step = "3"
field = "fionread"
value = "<=64"
)";

const Scenario& scenario() {
  static const Scenario s = parse_scenario_text(kScenario, "fuzz.toml");
  return s;
}

// Image maps for the fid expectations, whatever type Trace keeps them as.
template <typename Maps>
void add_maps(Maps& maps) {
  using Map = typename Maps::value_type;
  const char* text = R"({"image": "ext4-basic", "fs": "ext4", "size_bytes": 67108864, "sector_size": 512,
    "targets": {"inode:/data/f1": {"ranges": [[2050, 2050]], "ino": 14, "gen": 1}}})";
  if constexpr (std::is_same_v<Map, json>) {
    maps.push_back(json::parse(text));
  } else {
    maps.push_back(Map::parse(text, "fuzz.map.json"));
  }
  maps.push_back(Map{});
}

int records_fd() {
  static int fd = [] {
    int f = ::memfd_create("records.jsonl", MFD_CLOEXEC);
    if (f < 0) std::abort();
    return f;
  }();
  return fd;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const Scenario& s = scenario();
  int fd = records_fd();
  if (::ftruncate(fd, 0) != 0 || ::pwrite(fd, data, size, 0) != static_cast<ssize_t>(size)) std::abort();
  Trace t;
  t.records = read_jsonl("/proc/self/fd/" + std::to_string(fd));
  t.completed = true;
  t.faults.push_back(json{{"rule", "r1"}, {"disk", 0}, {"action", "fail"}});
  add_maps(t.maps);
  Outcome o = judge(s, t);
  if (o.verdict != Verdict::pass && o.verdict != Verdict::fail && o.verdict != Verdict::error) std::abort();
  if (o.verdict != Verdict::pass && o.reasons.empty()) std::abort();
  return 0;
}
