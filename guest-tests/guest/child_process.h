// Starting a program from a step (exec, spawn): argv or `sh -c`, an optional cwd, stdout and stderr
// into one pipe, execv's errno reported back; and waiting for it with a bound.
#pragma once

#include <sys/types.h>

#include <nlohmann/json.hpp>

#include <optional>

namespace fsfault::guest {

struct StartedChild {
  pid_t pid = -1;
  int output_fd = -1;  // read end of the child's stdout+stderr (-1 with stdout = "channel")
  int error = 0;       // why it did not start (fork, chdir or execv errno); pid is reaped then
};

// spec: argv = [...] or sh = "..." (busybox /bin/sh -c), cwd, stdout = "channel" (raw onto the host
// channel; runner tests only). own_group: the child leads a process group, so that stopping it
// reaches everything it started.
StartedChild start_child(const nlohmann::json& spec, bool own_group);

// The wait status once pid exited within limit_ms (-1: wait forever), else nullopt.
std::optional<int> wait_child(pid_t pid, long long limit_ms);

// 128+signal for a killed child, its exit code otherwise (as a shell reports it).
int exit_code(int wait_status);

}  // namespace fsfault::guest
