#include "guest-tests/guest/child_process.h"

#include "guest-tests/guest/channel.h"
#include "guest-tests/guest/shares.h"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <string>
#include <vector>

namespace fsfault::guest {

namespace {

struct Pipe {
  int read = -1;
  int write = -1;
};

// A close-on-exec pipe, or {-1, -1} when none can be made (the child runs without it).
Pipe cloexec_pipe() {
  int p[2] = {-1, -1};
  if (pipe2(p, O_CLOEXEC) < 0) return {};
  return {p[0], p[1]};
}

std::vector<std::string> child_argv(const nlohmann::json& s) {
  std::vector<std::string> argv;
  if (s.contains("argv")) {
    for (auto& a : s["argv"]) argv.push_back(a.get<std::string>());
  } else {
    argv = {"/bin/sh", "-c", s.value("sh", std::string("true"))};
  }
  if (argv.empty()) argv.push_back("");
  return argv;
}

void send_errno(int fd, int e) {
  if (fd >= 0) (void)!write(fd, &e, sizeof e);
}

// In the forked child: into the host's root first with root = "host" (shares.h), output to
// `output` (or raw onto the host channel), errno of a failed chroot, chdir or exec to `exec_errno`.
[[noreturn]] void exec_child(std::vector<std::string>& argv, const std::string& cwd, bool host_root,
                             bool to_channel, const Pipe& output, const Pipe& exec_errno) {
  if (host_root) {
    if (int e = enter_host_root()) {
      send_errno(exec_errno.write, e);
      _exit(127);
    }
  }
  if (!cwd.empty() && chdir(cwd.c_str()) < 0) {
    send_errno(exec_errno.write, errno);
    _exit(127);
  }
  if (output.write >= 0) {
    dup2(output.write, 1);
    dup2(output.write, 2);
  }
  if (to_channel) dup2(host_channel().fd(), 1);
  std::vector<char*> av;
  for (auto& a : argv) av.push_back(a.data());
  av.push_back(nullptr);
  execv(av[0], av.data());
  if (errno == ENOEXEC) {
    // A script without "#!": run it with busybox sh, as execvp(3) would.
    std::vector<char*> sh{const_cast<char*>("/bin/sh")};
    sh.insert(sh.end(), av.begin(), av.end());
    execv("/bin/sh", sh.data());
  }
  send_errno(exec_errno.write, errno);
  _exit(127);
}

// execv's errno, or 0 when the pipe closed unread (the exec worked).
int read_exec_errno(int fd) {
  int exec_errno = 0;
  if (fd < 0) return exec_errno;
  if (read(fd, &exec_errno, sizeof exec_errno) != static_cast<ssize_t>(sizeof exec_errno)) exec_errno = 0;
  close(fd);
  return exec_errno;
}

}  // namespace

StartedChild start_child(const nlohmann::json& spec, bool own_group) {
  std::vector<std::string> argv = child_argv(spec);
  const bool to_channel = spec.value("stdout", std::string()) == "channel";
  Pipe output = to_channel ? Pipe{} : cloexec_pipe();
  // A second close-on-exec pipe carries execv's errno: it closes unread when the exec worked.
  Pipe exec_errno = cloexec_pipe();
  std::string cwd = spec.value("cwd", std::string());
  StartedChild c;
  c.pid = fork();
  if (c.pid == 0) {
    if (own_group) setpgid(0, 0);
    exec_child(argv, cwd, spec.value("root", std::string()) == "host", to_channel, output, exec_errno);
  }
  if (c.pid > 0 && own_group) setpgid(c.pid, c.pid);  // both sides: no race with an early kill
  if (output.write >= 0) close(output.write);
  if (exec_errno.write >= 0) close(exec_errno.write);
  c.output_fd = output.read;
  if (c.pid < 0) {
    c.error = errno;
  } else if (int e = read_exec_errno(exec_errno.read)) {
    c.error = e;  // e.g. ENOENT: the [[file]] was not shipped
    waitpid(c.pid, nullptr, 0);
  }
  if (c.error && c.output_fd >= 0) {
    close(c.output_fd);
    c.output_fd = -1;
  }
  return c;
}

std::optional<int> wait_child(pid_t pid, long long limit_ms) {
  int st = 0;
  if (limit_ms < 0) return waitpid(pid, &st, 0) == pid ? std::optional<int>(st) : std::nullopt;
  for (long long waited = 0;; waited += 10) {
    pid_t r = waitpid(pid, &st, WNOHANG);
    if (r == pid) return st;
    if (r < 0 || waited >= limit_ms) return std::nullopt;
    usleep(10000);
  }
}

int exit_code(int wait_status) {
  return WIFEXITED(wait_status) ? WEXITSTATUS(wait_status) : 128 + WTERMSIG(wait_status);
}

}  // namespace fsfault::guest
