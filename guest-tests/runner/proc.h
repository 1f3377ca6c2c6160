// Child processes that never outlive the runner.
//
// Every child (QEMU, fsfault-nbd, apt-get, ...) is started through spawn():
//  - it stays in the runner's process group (a terminal's ^C reaches it too);
//  - PR_SET_PDEATHSIG(SIGKILL) kills it if the runner dies, even by SIGKILL
//    (the signal follows the *thread* that forked: each scenario's thread
//    lives until its children are reaped);
//  - its pid sits in a registry that the SIGINT/SIGTERM handler walks to
//    SIGKILL everything before the runner exits.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

namespace fsfault::vm {

struct SpawnOptions {
  int stdin_fd = -1;   // -1: /dev/null
  int stdout_fd = -1;  // -1: /dev/null
  int stderr_fd = -1;  // -1: /dev/null
  std::string cwd;
};

pid_t spawn(const std::vector<std::string>& argv, const SpawnOptions& o);
// Blocks; returns the exit status, 128+signal when killed, -1 on error.
int wait_child(pid_t pid);
// Waits up to timeout_ms; returns true and sets *status when it exited.
bool wait_child_for(pid_t pid, int timeout_ms, int* status);
// SIGTERM, then SIGKILL after grace_ms; reaps.
void stop_child(pid_t pid, int grace_ms);
// Reads two pipes to EOF.
void drain_two(int fd1, int fd2, std::string& out1, std::string& out2);

// Installs SIGINT/SIGTERM/SIGHUP handlers that kill every registered child.
void install_signal_handlers();
// Non-zero once a termination signal arrived (the signal number).
int interrupted();

}  // namespace fsfault::vm
