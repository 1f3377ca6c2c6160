// Fuzzes scenario loading (runner/scenario/scenario.h) the way the runner
// uses it: parse_scenario_text, then the plan sent to the guest, the kernel
// gate, and each disk's generated schedule. The only accepted failure of the
// parser is std::runtime_error (it names the file); the generated schedule
// TOML must always be syntactically valid TOML, since fsfault-nbd loads it.
#include <cstdint>
#include <cstdlib>
#include <stdexcept>
#include <string>

#include <toml++/toml.h>

#include "runner/scenario/scenario.h"

using namespace fsfault::vm;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  Scenario s;
  try {
    s = parse_scenario_text(text, "fuzz.toml");
  } catch (const std::runtime_error& e) {
    if (std::string(e.what()).rfind("fuzz.toml", 0) != 0) std::abort();  // must name the file
    return 0;
  }
  (void)guest_plan(s).dump();
  try {
    (void)kernel_gate(s.kernel, parse_kernel_version("6.1.0-50-cloud-amd64"));
  } catch (const std::runtime_error&) {
    // "bad kernel gate: ...": the runner reports it as the scenario's error.
  }
  for (int d = 0; d < static_cast<int>(s.disks.size()); ++d) {
    std::string sched = schedule_toml(s, d);
    try {
      (void)toml::parse(std::string_view(sched), std::string_view("generated.toml"));
    } catch (const toml::parse_error&) {
      std::abort();  // the runner would hand the server a schedule it cannot read
    }
  }
  return 0;
}
