// Running a catalogue of scenarios: selection (files, --filter, --shard), one kernel and
// initramfs for all, kernel gates, parallel VMs, the summary and the KTAP/JUnit reports.
// Shared by `fsfault vm-test` and `fsfault repro`.
#pragma once

#include "runner/report/report.h"
#include "runner/scenario/scenario.h"

#include <string>
#include <vector>

namespace fsfault::vm {

struct CatalogueOptions {
  std::string kernel = "bookworm";  // a Debian release or a bzImage path
  std::string modules;              // modules tree for a bzImage
  std::string out;                  // per-scenario artifacts under out/<name>; "" → none kept
  std::string ktap_file, junit_file;
  std::string accel = "auto";  // auto, kvm or tcg
  int timeout_s = 300;
  std::string nbd_server;  // "" → fsfault-nbd next to this executable (required)
  std::string cache;       // kernels and images; "" → the build directory
  int mem_mb = 512;
  bool verbose = false;
  int jobs = 1;
  std::vector<std::string> recipe_dirs;  // --recipes: searched after images/recipes
  std::vector<ShareSpec> shares;         // --share: host directories in every guest
  bool cold = false;                     // --cold: boot every scenario, restore none
};

// What a selection found: loadable scenarios, and files that did not load (each an error result
// named "invalid/<stem>").
struct Selection {
  std::vector<Scenario> scenarios;
  std::vector<Result> invalid;
};

// The scenarios of the .toml files under `roots` whose names match `filter` (globs), then shard
// `shard` ("K/N", "" for all). Throws std::runtime_error on a missing root, a bad shard or a
// duplicate name.
Selection select_scenarios(const std::vector<std::string>& roots, const std::string& filter,
                           const std::string& shard);

// Where a scenario's artifacts go below --out: its name with anything odd replaced.
std::string artifact_subdir(const std::string& name);

// Runs `scenarios` (after printing `preset` results), prints one line per scenario and a summary,
// writes the reports. The exit code: 0 all passed or skipped, 1 some did not, 2 the runner could
// not start (e.g. no fsfault-nbd), 128+signal when interrupted.
int run_catalogue(CatalogueOptions& o, const std::vector<Scenario>& scenarios, std::vector<Result> preset);

}  // namespace fsfault::vm
