// Provision once, run many: the kernel, the initramfs, the accelerator and the saved guest(s) of
// a catalogue run, decided once, then any number of scenarios run against them. `run_catalogue`
// (vm-test, repro) is one session over its selection; `fsfault explore` keeps one session for a
// whole campaign, its minimization included, instead of provisioning per batch of trials.
#pragma once

#include "runner/vm/catalogue_run.h"
#include "runner/vm/vm.h"

#include <mutex>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

namespace fsfault::vm {

// The steps of opening a session, apart so that run_catalogue can keep its output in order
// (gates printed between configuring and the saved guest).

// The fsfault-nbd, the kernel (fetched or checked), its config against what `scenarios` need, the
// initramfs with their modules; prints nothing. Throws std::runtime_error, `log` holding details.
RunConfig provision_session(const CatalogueOptions& o, const std::vector<Scenario>& scenarios,
                            std::ostringstream& log);

// Accelerator, limits, paths and the repro.sh prefix; prints "accel:" and "kernel:".
void configure_session(const CatalogueOptions& o, RunConfig& base);

// The saved guest scenarios restore instead of booting (and its shares variant when `shares`),
// built when missing or stale; without one every scenario boots cold, and the output says why.
void prepare_saved_guests(const CatalogueOptions& o, RunConfig& base, bool shares);

// The kernel and config gates of one scenario (and its `skip`): a skip or error outcome, or
// nullopt when it is to run.
std::optional<Outcome> gate_scenario(const Scenario& s, const KernelInfo& kernel);

// One result line as vm-test prints it (and its reasons, unless it passed or was skipped).
std::string result_line(const Result& r);

class CatalogueSession {
 public:
  // Opens a session for scenarios like `sample` (their modules and config needs; explore's trials
  // all frame one image, so one trial stands for all): provision, configure, saved guests,
  // printing what run_catalogue prints before its first scenario. Throws std::runtime_error with
  // the provisioning log in its message. o.cache must be set.
  CatalogueSession(const CatalogueOptions& o, const std::vector<Scenario>& sample);
  // An already provisioned configuration (run_catalogue's).
  CatalogueSession(const CatalogueOptions& o, RunConfig base) : o_(o), base_(std::move(base)) {}

  // Runs one scenario: its gates, then its VM, artifacts in out_dir ("" none kept); prints its
  // result line. After a termination signal: "interrupted", nothing booted. Thread-safe.
  Result run(const Scenario& s, const std::string& out_dir);
  const RunConfig& config() const { return base_; }
  // Serializes whole lines from several runs (the runner's log lines take it too).
  void say(const std::string& text);

 private:
  CatalogueOptions o_;
  RunConfig base_;
  std::mutex mutex_;
};

}  // namespace fsfault::vm
