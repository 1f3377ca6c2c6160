// One step kind = one function with this signature, and one row in step_table.cpp.
#pragma once

#include <nlohmann/json.hpp>

#include <map>
#include <memory>
#include <string>

namespace fsfault::guest {

struct BackgroundProgram;  // steps/background_steps.cpp

// What carries over from step to step.
struct RunState {
  bool stop = false;  // a step with stop_on_error failed: run no further step
  // Programs `spawn` started, by name, until `stop` or `wait` ends them.
  std::map<std::string, std::shared_ptr<BackgroundProgram>> background;
};

struct StepCall {
  const nlohmann::json& spec;  // the step as the scenario wrote it
  const std::string& id;       // positional id: "3", or "2#0/1" inside a repeat
  nlohmann::json& out;         // the step's record; the step adds its own facts
  RunState& state;
};

// Runs the step; returns its errno (0 on success), recorded as errno/errno_name/ok.
using StepFunction = int (*)(const StepCall&);

// steps/mount_steps.cpp
int run_mount(const StepCall& c);
int run_umount(const StepCall& c);
// steps/fanotify_steps.cpp
int run_watch(const StepCall& c);
int run_read_events(const StepCall& c);
int run_fionread(const StepCall& c);
// steps/file_steps.cpp
int run_stat(const StepCall& c);
int run_lstat(const StepCall& c);
int run_read(const StepCall& c);
int run_write(const StepCall& c);
int run_append(const StepCall& c);
int run_create(const StepCall& c);
int run_mkdir(const StepCall& c);
int run_readdir(const StepCall& c);
int run_fsync(const StepCall& c);
int run_hold(const StepCall& c);
int run_unlink(const StepCall& c);
int run_rmdir(const StepCall& c);
// steps/system_steps.cpp
int run_drop_caches(const StepCall& c);
int run_sync(const StepCall& c);
int run_read_file(const StepCall& c);
int run_write_file(const StepCall& c);
int run_kmsg(const StepCall& c);
int run_sleep(const StepCall& c);
// steps/control_steps.cpp
int run_phase(const StepCall& c);
int run_repeat(const StepCall& c);
// steps/exec_step.cpp
int run_exec(const StepCall& c);
// steps/background_steps.cpp
int run_spawn(const StepCall& c);
int run_stop(const StepCall& c);
int run_wait(const StepCall& c);
// Ends every program still running at the end of the scenario, recording each like `stop`.
void stop_background_programs(RunState& state);

}  // namespace fsfault::guest
