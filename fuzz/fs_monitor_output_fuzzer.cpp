// Fuzzes the reader of the kernel fs-monitor sample's output and its comparison with the
// harness's FS_ERROR record (format = "fs-monitor"): the program under test prints anything.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "runner/judge/fs_monitor_output.h"
#include "runner/judge/fs_monitor_parity.h"

using namespace fsfault::vm;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string output(reinterpret_cast<const char*>(data), size);
  FsMonitorOutput p = parse_fs_monitor(output);
  size_t lines = 1;
  for (char c : output) lines += c == '\n';
  if (p.records.size() + p.problems.size() > lines) abort();  // at most one of either per line
  Trace t;
  t.completed = true;
  t.records.push_back(json{{"type", "event"}, {"mask_names", {"FS_ERROR"}}, {"error", 5}, {"error_count", 1},
                           {"handle_type", 1}, {"handle_bytes", 8}, {"ino", 14}, {"gen", 0}});
  Outcome o;
  o.verdict = Verdict::pass;
  judge_fs_monitor_parity(json{{"output", output}, {"ok", true}}, "step 1 (stop)", t, o);
  // Parity holds only for exactly one matching record and nothing unexpected.
  if (o.reasons.empty() != (p.records.size() == 1 && p.problems.empty() && p.records[0].error == 5 &&
                            p.records[0].error_count == 1 && p.records[0].ino == 14 && p.records[0].gen == 0 &&
                            !p.records[0].superblock))
    abort();
  return 0;
}
