#include "process/process.h"
#include "process/command_line.h"
#include "process/tool_lookup.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fmt/format.h>

#include <array>
#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <thread>
#include <utility>

extern char** environ;

namespace fsfault::proc {

namespace {

using Clock = std::chrono::steady_clock;

// Live children, as kill(2) targets (pid, or -pgid for a group leader). A fixed array of atomics:
// the signal handler may only read it with async-signal-safe operations.
constexpr std::size_t kMaxChildren = 512;
std::array<std::atomic<pid_t>, kMaxChildren> g_children{};
std::atomic<int> g_termination{0};

void register_child(pid_t target) {
  for (auto& slot : g_children) {
    pid_t empty = 0;
    if (slot.compare_exchange_strong(empty, target)) return;
  }
  // Full: the child is still reaped by its handle and killed by PDEATHSIG; only the signal
  // handler's early kill misses it.
}

void unregister_child(pid_t target) {
  for (auto& slot : g_children) {
    pid_t expected = target;
    if (slot.compare_exchange_strong(expected, 0)) return;
  }
}

void on_termination(int sig) {
  g_termination.store(sig);
  for (auto& slot : g_children) {
    pid_t target = slot.load();
    if (target != 0) ::kill(target, SIGKILL);
  }
}

int decode_status(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

// Everything the child needs is built before fork(): callers are multi-threaded, so the child
// may only make async-signal-safe calls until execve.
struct ExecPlan {
  std::string exe;
  std::vector<std::string> args, env_strings;
  std::vector<char*> argv, envp;
};

ExecPlan plan_exec(const std::vector<std::string>& argv, const ProcessOptions& opts) {
  if (argv.empty()) throw std::runtime_error("cannot run an empty command");
  ExecPlan p;
  p.exe = argv[0].find('/') == std::string::npos ? find_tool(argv[0]).string() : argv[0];
  std::map<std::string, std::string> env;
  for (char** e = environ; e && *e; ++e) {
    std::string kv = *e;
    auto eq = kv.find('=');
    if (eq != std::string::npos) env[kv.substr(0, eq)] = kv.substr(eq + 1);
  }
  env["LC_ALL"] = "C";  // parsers rely on the tools' untranslated output
  env["TZ"] = "UTC";
  for (const auto& [k, v] : opts.env) env[k] = v;
  for (const auto& [k, v] : env) p.env_strings.push_back(k + "=" + v);
  for (auto& s : p.env_strings) p.envp.push_back(s.data());
  p.envp.push_back(nullptr);
  p.args = argv;
  for (auto& a : p.args) p.argv.push_back(a.data());
  p.argv.push_back(nullptr);
  return p;
}

// Forks and execs; the child's stdout/stderr go to out_fd/err_fd (-1: /dev/null). Returns the pid
// once execve succeeded; throws with the child's errno when it did not.
pid_t start(const std::vector<std::string>& argv, const ProcessOptions& opts, int out_fd, int err_fd) {
  if (int sig = g_termination.load())
    throw std::runtime_error("not starting " + argv.at(0) + ": terminating on signal " + std::to_string(sig));
  ExecPlan p = plan_exec(argv, opts);
  int exec_pipe[2];
  if (::pipe2(exec_pipe, O_CLOEXEC) != 0) throw std::runtime_error(std::string("pipe: ") + std::strerror(errno));
  int devnull = ::open("/dev/null", O_RDWR | O_CLOEXEC);
  const pid_t parent = ::getpid();
  const char* cwd = opts.cwd.empty() ? nullptr : opts.cwd.c_str();
  pid_t pid = ::fork();
  if (pid < 0) {
    int e = errno;
    ::close(exec_pipe[0]);
    ::close(exec_pipe[1]);
    if (devnull >= 0) ::close(devnull);
    throw std::runtime_error(std::string("fork: ") + std::strerror(e));
  }
  if (pid == 0) {
    auto fail = [&](int e) {
      (void)!::write(exec_pipe[1], &e, sizeof e);
      ::_exit(127);
    };
    if (opts.own_group) ::setpgid(0, 0);
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(127);  // the parent died before prctl took effect
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    // Ignored signals stay ignored across execve; handled ones reset anyway.
    ::signal(SIGPIPE, SIG_DFL);
    ::dup2(devnull, 0);
    ::dup2(out_fd >= 0 ? out_fd : devnull, 1);
    ::dup2(err_fd >= 0 ? err_fd : devnull, 2);
    if (cwd && ::chdir(cwd) != 0) fail(errno);
    ::execve(p.exe.c_str(), p.argv.data(), p.envp.data());
    fail(errno);
  }
  // Set the group from both sides so that no signal can reach the child before it has one.
  if (opts.own_group) ::setpgid(pid, pid);
  register_child(opts.own_group ? -pid : pid);
  // A termination signal may have arrived between the check above and the registration.
  if (g_termination.load()) ::kill(opts.own_group ? -pid : pid, SIGKILL);
  if (devnull >= 0) ::close(devnull);
  ::close(exec_pipe[1]);
  int exec_errno = 0;
  ssize_t got;
  do {
    got = ::read(exec_pipe[0], &exec_errno, sizeof exec_errno);
  } while (got < 0 && errno == EINTR);
  ::close(exec_pipe[0]);
  if (got == static_cast<ssize_t>(sizeof exec_errno)) {
    int st = 0;
    while (::waitpid(pid, &st, 0) < 0 && errno == EINTR) {
    }
    unregister_child(opts.own_group ? -pid : pid);
    throw std::runtime_error("cannot run " + describe_command(argv) + ": " + std::strerror(exec_errno));
  }
  return pid;
}

}  // namespace

Child Child::spawn(const std::vector<std::string>& argv, const ProcessOptions& opts) {
  Child c;
  c.pid_ = start(argv, opts, opts.stdout_fd, opts.stderr_fd);
  c.own_group_ = opts.own_group;
  return c;
}

Child::~Child() {
  if (pid_ > 0) {
    signal(SIGKILL);
    wait();
  }
}

Child::Child(Child&& other) noexcept
    : pid_(std::exchange(other.pid_, -1)), own_group_(other.own_group_), status_(other.status_) {}

Child& Child::operator=(Child&& other) noexcept {
  if (this != &other) {
    if (pid_ > 0) {
      signal(SIGKILL);
      wait();
    }
    pid_ = std::exchange(other.pid_, -1);
    own_group_ = other.own_group_;
    status_ = other.status_;
  }
  return *this;
}

void Child::signal(int sig) {
  if (pid_ > 0) ::kill(own_group_ ? -pid_ : pid_, sig);
}

int Child::reap(int status) {
  unregister_child(own_group_ ? -pid_ : pid_);
  // The leader is gone; with own_group its descendants must not linger either.
  if (own_group_) ::kill(-pid_, SIGKILL);
  pid_ = -1;
  status_ = decode_status(status);
  return status_;
}

std::optional<int> Child::wait_for(std::chrono::milliseconds limit) {
  if (pid_ <= 0) return status_;
  const auto deadline = Clock::now() + limit;
  for (;;) {
    int status = 0;
    pid_t r = ::waitpid(pid_, &status, WNOHANG);
    if (r == pid_) return reap(status);
    if (r < 0 && errno != EINTR) return reap(0);
    if (Clock::now() >= deadline) return std::nullopt;
    // waitpid has no timeout; a short sleep keeps this simple and cheap for a handful of children.
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

int Child::wait() {
  if (pid_ <= 0) return status_;
  int status = 0;
  pid_t r;
  do {
    r = ::waitpid(pid_, &status, 0);
  } while (r < 0 && errno == EINTR);
  return reap(r == pid_ ? status : 0);
}

int Child::stop(std::chrono::milliseconds grace) {
  if (pid_ <= 0) return status_;
  if (auto st = wait_for(std::chrono::milliseconds(0))) return *st;
  signal(SIGTERM);
  if (auto st = wait_for(grace)) return *st;
  signal(SIGKILL);
  return wait();
}

ProcessResult run_process(const std::vector<std::string>& argv, const ProcessOptions& opts) {
  int out_pipe[2], err_pipe[2];
  if (::pipe2(out_pipe, O_CLOEXEC) != 0) throw std::runtime_error(std::string("pipe: ") + std::strerror(errno));
  if (::pipe2(err_pipe, O_CLOEXEC) != 0) {
    int e = errno;
    ::close(out_pipe[0]);
    ::close(out_pipe[1]);
    throw std::runtime_error(std::string("pipe: ") + std::strerror(e));
  }
  Child child;
  try {
    child.pid_ = start(argv, opts, out_pipe[1], err_pipe[1]);
    child.own_group_ = opts.own_group;
  } catch (...) {
    for (int fd : {out_pipe[0], out_pipe[1], err_pipe[0], err_pipe[1]}) ::close(fd);
    throw;
  }
  ::close(out_pipe[1]);
  ::close(err_pipe[1]);

  ProcessResult r;
  const bool limited = opts.timeout.count() > 0;
  const auto deadline = Clock::now() + opts.timeout;
  pollfd fds[2] = {{out_pipe[0], POLLIN, 0}, {err_pipe[0], POLLIN, 0}};
  std::string* sinks[2] = {&r.out, &r.err};
  int open_fds = 2;
  char buf[65536];
  while (open_fds > 0) {
    int wait_ms = -1;
    if (limited && !r.timed_out) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
      if (left <= 0) {
        // Killing the child (its whole group with own_group) closes the pipes' write ends.
        r.timed_out = true;
        child.signal(SIGKILL);
      } else {
        wait_ms = static_cast<int>(left);
      }
    }
    int n = ::poll(fds, 2, wait_ms);
    if (n < 0) {
      if (errno == EINTR) continue;
      break;
    }
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || fds[i].revents == 0) continue;
      ssize_t got = ::read(fds[i].fd, buf, sizeof buf);
      if (got > 0) {
        sinks[i]->append(buf, static_cast<std::size_t>(got));
      } else if (got == 0 || (errno != EINTR && errno != EAGAIN)) {
        ::close(fds[i].fd);
        fds[i].fd = -1;
        --open_fds;
      }
    }
  }
  for (auto& f : fds)
    if (f.fd >= 0) ::close(f.fd);
  r.exit_code = child.wait();
  return r;
}

void install_termination_handlers() {
  struct sigaction sa {};
  sa.sa_handler = on_termination;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESTART;
  ::sigaction(SIGINT, &sa, nullptr);
  ::sigaction(SIGTERM, &sa, nullptr);
  ::sigaction(SIGHUP, &sa, nullptr);
  ::signal(SIGPIPE, SIG_IGN);
}

int termination_signal() { return g_termination.load(); }



std::string describe_exit(int status) {
  if (status < 0) return "exited (status unknown)";
  if (status <= 128) return "exited (status " + std::to_string(status) + ")";
  const int sig = status - 128;
  const char* abbrev = ::sigabbrev_np(sig);
  return "exited (signal " + std::to_string(sig) + (abbrev ? std::string(", SIG") + abbrev : std::string()) + ")";
}


void require_success(const ProcessResult& r, const std::vector<std::string>& argv) {
  if (r.exit_code != 0) {
    throw std::runtime_error(fmt::format("{} failed (exit {}):\n{}{}", describe_command(argv),
                                         r.exit_code, r.out, r.err));
  }
}

}  // namespace fsfault::proc
