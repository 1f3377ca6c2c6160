// `fsfault kernel sample NAME`: one of the kernel's own sample programs (samples/ in the source),
// compiled with the host's cc from the Debian linux-source that `fsfault kernel build` fetches
// (kernel_source.h), cached per machine and run in the guest through root = "host". A scenario
// names it as the argv element "{kernel-sample:NAME}" (docs/scenarios.md), which the runner
// replaces with its host path, or skips the scenario naming the command that builds it.
#pragma once

#include "runner/scenario/scenario.h"

#include <optional>
#include <ostream>
#include <string>

namespace fsfault::vm {

struct BuiltSample {
  std::string path;  // the executable, under cache_root/kernels/samples/<suite>/<package_version>/
  bool cached = false;
};

// name: "fs-monitor" (samples/fanotify/fs-monitor.c). suite: bookworm, trixie, sid. Compiled once
// per source version; the newest build is also what cache_root/kernels/samples/NAME points to.
BuiltSample build_kernel_sample(const std::string& name, const std::string& suite, const std::string& cache_root,
                                std::ostream& log);

// The built sample cache_root/kernels/samples/NAME points to, or nothing when none was built.
std::optional<std::string> kernel_sample_path(const std::string& name, const std::string& cache_root);

// Replaces each "{kernel-sample:NAME}" in the scenario's argv elements (nested steps too) with
// the sample's path. Returns a skip reason naming the command that builds it when one is not
// built or NAME is no sample fsfault knows; the scenario is left as it was then.
std::optional<std::string> expand_kernel_samples(Scenario& s, const std::string& cache_root);

}  // namespace fsfault::vm
