// exec: runs a program (or `sh -c`) in the guest and records its exit status and output.
#include "guest-tests/guest/steps/step.h"

#include "guest-tests/guest/channel.h"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <vector>

namespace fsfault::guest {

namespace {

struct Pipe {
  int read = -1;
  int write = -1;
};

// A close-on-exec pipe, or {-1, -1} when none can be made (the step runs without it).
Pipe cloexec_pipe() {
  int p[2] = {-1, -1};
  if (pipe2(p, O_CLOEXEC) < 0) return {};
  return {p[0], p[1]};
}

std::vector<std::string> exec_argv(const nlohmann::json& s) {
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
  ssize_t w = write(fd, &e, sizeof e);
  (void)w;
}

// In the forked child: output to `output` (or raw onto the host channel), errno of a failed
// chdir or exec to `exec_errno`.
[[noreturn]] void exec_child(std::vector<std::string>& argv, const std::string& cwd, bool to_channel,
                             const Pipe& output, const Pipe& exec_errno) {
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
  int e = errno;
  if (exec_errno.write >= 0) send_errno(exec_errno.write, e);
  _exit(127);
}

// Everything the child writes until it closes, keeping the first 64 KiB and a bit.
std::string read_output(int fd) {
  std::string output;
  if (fd < 0) return output;
  char b[4096];
  ssize_t n;
  while ((n = read(fd, b, sizeof b)) > 0)
    if (output.size() < 65536) output.append(b, static_cast<size_t>(n));
  close(fd);
  return output;
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

int run_exec(const StepCall& c) {
  std::vector<std::string> argv = exec_argv(c.spec);
  // stdout = "channel": the child writes raw bytes onto the host channel (runner tests of a
  // guest that floods the host with garbage; the port opens only once, so no other way in).
  const bool to_channel = c.spec.value("stdout", std::string()) == "channel";
  Pipe output = cloexec_pipe();
  // A second close-on-exec pipe carries execv's errno: it closes unread when the exec worked.
  Pipe exec_errno = cloexec_pipe();
  std::string cwd = c.spec.value("cwd", std::string());
  pid_t pid = fork();
  if (pid == 0) exec_child(argv, cwd, to_channel, output, exec_errno);
  if (output.write >= 0) close(output.write);
  if (exec_errno.write >= 0) close(exec_errno.write);
  c.out["output"] = read_output(output.read);
  int child_errno = read_exec_errno(exec_errno.read);
  int err = 0, st = 0;
  if (pid < 0 || waitpid(pid, &st, 0) < 0) err = errno;
  else if (child_errno) err = child_errno;  // e.g. ENOENT: the [[file]] was not shipped
  else c.out["exit"] = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
  return err;
}

}  // namespace fsfault::guest
