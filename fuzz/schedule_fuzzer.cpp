// Fuzzes schedule loading: faults::Schedule::parse on arbitrary text (with and
// without an image map and a disk size, as the server and the control socket
// call it). The only accepted failure is a ScheduleError carrying a position;
// a schedule that parses must also compile and answer requests in the real
// FaultEngine.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "faults/fault_engine.h"
#include "faults/schedule.h"
#include "faults/target_map.h"

namespace faults = fsfault::faults;

namespace {

const faults::TargetMap& map() {
  static const faults::TargetMap m = faults::TargetMap::parse(R"({
    "image": "fuzz", "fs": "ext4", "size_bytes": 1048576, "sector_size": 512,
    "targets": {"superblock": {"ranges": [[2, 3]]},
                "inode:/data/f1": {"ranges": [[100, 107], [300, 300]], "ino": 12, "gen": 7},
                "inode:/data/f10": {"ranges": [[2000, 2047]]}}})",
                                                               "fuzz.map.json");
  return m;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return -1;
  const std::uint8_t mode = data[0];
  std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);
  const faults::TargetMap* m = (mode & 1) ? &map() : nullptr;
  const std::uint64_t disk = (mode & 2) ? 1048576 : 0;
  faults::ParseOptions opts;
  if (mode & 4) opts.extra_top_level_keys = {"name", "step", "disk", "expect"};
  faults::Schedule s;
  try {
    s = faults::Schedule::parse(text, "fuzz.toml", m, disk, opts);
  } catch (const faults::ScheduleError& e) {
    if (e.message().empty()) std::abort();
    return 0;
  }
  for (const auto& r : s.rules) {
    if (r.name.empty()) std::abort();
    for (const auto& x : r.ranges) {
      if (x.first > x.last) std::abort();
    }
  }
  // Counter-based paths only: a fixed clock keeps after_ms deterministic.
  faults::FaultEngine engine([] { return std::uint64_t{0}; });
  engine.load(std::move(s));
  static const faults::Request requests[] = {
      {faults::Op::Read, 0, 4096},          {faults::Op::Write, 1024, 512},
      {faults::Op::Flush, 0, 0},            {faults::Op::Read, 51200, 65536},
      {faults::Op::Trim, 0, 1048576},       {faults::Op::Zero, 1047552, 1024},
      {faults::Op::BlockStatus, 0, 1048576}, {faults::Op::Read, 1048064, 512},
  };
  for (int round = 0; round < 2; ++round) {
    if (round == 1) engine.set_phase("armed");
    for (const auto& r : requests) (void)engine.evaluate(r);
  }
  (void)engine.stats();
  return 0;
}
