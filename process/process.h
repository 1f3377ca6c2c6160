// Child processes: the one place that forks, execs and reaps.
//
// Used by images/ (mkfs, debugfs, xfs_db: run to completion, output captured) and by the VM runner
// (QEMU, fsfault-nbd, apt-get: long-lived, must never outlive the runner). Every child
//  - gets PR_SET_PDEATHSIG(SIGKILL), so it dies with the thread that forked it even when the parent
//    is killed with SIGKILL (prctl(2): the signal follows the forking *thread*);
//  - stays in the caller's process group (a terminal's ^C reaches it too) unless own_group asks for
//    a new group, in which case every signal goes to the whole group (a shell and its pipeline);
//  - is registered while it runs: install_termination_handlers() makes SIGINT/SIGTERM/SIGHUP
//    SIGKILL every registered child before anything else happens;
//  - is killed and reaped when its `Child` handle is destroyed while it still runs.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace fsfault::proc {

struct ProcessResult {
  int exit_code = -1;  // 128+signal when killed by a signal
  std::string out;
  std::string err;
  bool timed_out = false;  // killed because ProcessOptions::timeout passed
};

struct ProcessOptions {
  std::map<std::string, std::string> env;  // added to (or replacing) the inherited environment
  std::filesystem::path cwd;               // empty: inherit
  // Child::spawn only (run_process captures both): where stdout/stderr go; -1 means /dev/null.
  int stdout_fd = -1;
  int stderr_fd = -1;
  // run_process only: 0 means no limit; past it the child (its group with own_group) is SIGKILLed.
  std::chrono::milliseconds timeout{0};
  // The child leads a new process group and signals reach all of its descendants.
  bool own_group = false;
};

// A running child. Move-only; destroying a handle whose child still runs SIGKILLs and reaps it.
class Child {
 public:
  Child() = default;
  // Starts argv[0] (looked up by find_tool, process/tool_lookup.h, when it has no '/'). Throws std::runtime_error when the
  // program cannot be started (missing, not executable, bad cwd) or after a termination signal.
  static Child spawn(const std::vector<std::string>& argv, const ProcessOptions& opts = {});
  ~Child();
  Child(Child&& other) noexcept;
  Child& operator=(Child&& other) noexcept;
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;

  pid_t pid() const { return pid_; }
  bool running() const { return pid_ > 0; }
  // The exit status (128+signal) once the child exited within `limit`, else nullopt.
  std::optional<int> wait_for(std::chrono::milliseconds limit);
  int wait();
  // SIGTERM, SIGKILL after `grace`; reaps. Returns the exit status (-1 when there was no child).
  int stop(std::chrono::milliseconds grace);
  void signal(int sig);

 private:
  friend ProcessResult run_process(const std::vector<std::string>& argv, const ProcessOptions& opts);
  int reap(int status);
  pid_t pid_ = -1;
  bool own_group_ = false;
  int status_ = -1;
};

// Runs argv[0] (looked up by find_tool, process/tool_lookup.h, when it has no '/') and waits for it, capturing stdout and
// stderr. Throws std::runtime_error when the program cannot be started.
ProcessResult run_process(const std::vector<std::string>& argv, const ProcessOptions& opts = {});

// SIGINT, SIGTERM and SIGHUP: SIGKILL every registered child, remember the signal, carry on (the
// caller polls termination_signal() and winds down). SIGPIPE is ignored.
void install_termination_handlers();
// 0 until a termination signal arrived, then its number.
int termination_signal();



// "exited (status 3)" or "exited (signal 9, SIGKILL)" for an exit status as Child reports it
// (128+signal when killed by a signal).
std::string describe_exit(int status);


// Throws std::runtime_error naming the command, its exit status and its output
// when r is not a clean exit 0.
void require_success(const ProcessResult& r, const std::vector<std::string>& argv);

}  // namespace fsfault::proc
