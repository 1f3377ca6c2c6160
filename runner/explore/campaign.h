// `fsfault explore`: draws trials, runs them as scenarios through the catalogue runner (J VMs at
// a time), judges the invariants, groups findings by signature, minimizes each and writes it out
// as a scenario (docs/explore.md).
#pragma once

#include "runner/explore/finding.h"
#include "runner/vm/catalogue_run.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace fsfault::vm::explore {

struct CampaignOptions {
  CatalogueOptions run;  // kernel, accel, jobs, timeout, ...; run.out is set from `out`
  std::string image;     // a recipe name, a recipe file or a raw image
  std::vector<std::string> targets, actions, workloads;
  std::string mount_options;  // "" → the filesystem's default (default_mount_options)
  std::string control_image;  // a second, unfaulted disk (TrialDisk::control_image); "" none
  std::string catalogue;      // scenarios whose known gaps are recognised; "" the source tree's
  Bounds bounds;              // of the invariants that have one (latency)
  long trials = 100;
  double minutes = 0;   // > 0: run until then instead of `trials`
  std::uint64_t seed = 1;
  int repeats = 2;      // K: runs of each minimization candidate, all must reproduce
  int max_min_calls = 12;  // oracle calls per finding
  int max_minimized = 4;   // findings minimized (most trials first); the rest written as found
  std::optional<std::uint64_t> replay;  // run just this trial
  std::string out;
};

// Returns the exit code: 0 no new finding (none, or only known gaps), 1 new findings, 2 the
// campaign could not start, 128+signal.
int run_campaign(CampaignOptions& o);

}  // namespace fsfault::vm::explore
