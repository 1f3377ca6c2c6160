#include "guest-tests/runner/proc.h"

#include "guest-tests/runner/util.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <stdexcept>
#include <thread>

namespace fsfault::vm {

namespace {

constexpr int kMaxChildren = 256;
std::atomic<pid_t> g_children[kMaxChildren];
std::atomic<int> g_signal{0};

void reg(pid_t p) {
  for (auto& c : g_children) {
    pid_t z = 0;
    if (c.compare_exchange_strong(z, p)) return;
  }
}

void unreg(pid_t p) {
  for (auto& c : g_children) {
    pid_t v = p;
    if (c.compare_exchange_strong(v, 0)) return;
  }
}

void on_signal(int sig) {
  // Async-signal-safe only: kill() and atomics.
  g_signal.store(sig);
  for (auto& c : g_children) {
    pid_t p = c.load();
    if (p > 0) kill(p, SIGKILL);
  }
}

}  // namespace

void install_signal_handlers() {
  struct sigaction sa{};
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESTART;
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  sigaction(SIGHUP, &sa, nullptr);
  signal(SIGPIPE, SIG_IGN);
}

int interrupted() { return g_signal.load(); }

pid_t spawn(const std::vector<std::string>& argv, const SpawnOptions& o) {
  if (argv.empty()) return -1;
  if (interrupted()) return -1;
  std::string exe = which(argv[0]);
  if (exe.empty()) return -1;
  // Everything the child needs is prepared before fork (the runner is
  // multi-threaded: only async-signal-safe calls after fork).
  std::vector<char*> av;
  for (auto& a : argv) av.push_back(const_cast<char*>(a.c_str()));
  av.push_back(nullptr);
  int devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
  pid_t parent = getpid();
  const char* cwd = o.cwd.empty() ? nullptr : o.cwd.c_str();
  pid_t pid = fork();
  if (pid == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(127);  // the runner died before prctl
    sigset_t all;
    sigemptyset(&all);
    sigprocmask(SIG_SETMASK, &all, nullptr);
    signal(SIGPIPE, SIG_DFL);
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    dup2(o.stdin_fd >= 0 ? o.stdin_fd : devnull, 0);
    dup2(o.stdout_fd >= 0 ? o.stdout_fd : devnull, 1);
    dup2(o.stderr_fd >= 0 ? o.stderr_fd : devnull, 2);
    if (cwd && chdir(cwd) != 0) _exit(127);
    execv(exe.c_str(), av.data());
    _exit(127);
  }
  if (devnull >= 0) close(devnull);
  if (pid > 0) {
    reg(pid);
    // A signal may have landed between the check above and reg().
    if (interrupted()) kill(pid, SIGKILL);
  }
  return pid;
}

int wait_child(pid_t pid) {
  int st = 0;
  for (;;) {
    pid_t r = waitpid(pid, &st, 0);
    if (r < 0 && errno == EINTR) continue;
    unreg(pid);
    if (r < 0) return -1;
    break;
  }
  return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

bool wait_child_for(pid_t pid, int timeout_ms, int* status) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  for (;;) {
    int st = 0;
    pid_t r = waitpid(pid, &st, WNOHANG);
    if (r == pid) {
      unreg(pid);
      if (status) *status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
      return true;
    }
    if (r < 0 && errno != EINTR) {
      unreg(pid);
      if (status) *status = -1;
      return true;
    }
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

void stop_child(pid_t pid, int grace_ms) {
  if (pid <= 0) return;
  int st;
  if (wait_child_for(pid, 0, &st)) return;
  kill(pid, SIGTERM);
  if (wait_child_for(pid, grace_ms, &st)) return;
  kill(pid, SIGKILL);
  wait_child(pid);
}

void drain_two(int fd1, int fd2, std::string& out1, std::string& out2) {
  pollfd p[2] = {{fd1, POLLIN, 0}, {fd2, POLLIN, 0}};
  int open_fds = 2;
  char buf[65536];
  while (open_fds > 0) {
    int r = poll(p, 2, 200);
    if (r < 0 && errno != EINTR) break;
    for (int i = 0; i < 2; ++i) {
      if (p[i].fd < 0 || !(p[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      ssize_t n = read(p[i].fd, buf, sizeof buf);
      if (n > 0) {
        (i == 0 ? out1 : out2).append(buf, static_cast<size_t>(n));
      } else if (n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN)) {
        p[i].fd = -1;
        --open_fds;
      }
    }
  }
}

}  // namespace fsfault::vm
