#include "tests/nbd/support.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <stdexcept>
#include <thread>

#ifndef FSFAULT_NBD_BIN
#error "FSFAULT_NBD_BIN must be defined by the build ($<TARGET_FILE:fsfault-nbd>)"
#endif

namespace fsfault::it {

using Clock = std::chrono::steady_clock;

const char* server_binary() { return FSFAULT_NBD_BIN; }

std::string sha256_file(const std::string& path) {
  RunResult r = run({"sha256sum", path});
  if (r.exit_code != 0 || r.output.size() < 64) {
    ADD_FAILURE() << "sha256sum failed: " << r.output;
    return "";
  }
  return r.output.substr(0, 64);
}

namespace {

// In the child after fork: die with the parent, then exec.
// Only async-signal-safe calls here: argv is prepared before fork.
std::vector<char*> c_argv(const std::vector<std::string>& argv) {
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  return args;
}

[[noreturn]] void exec_child(char* const* args, int out_fd, pid_t parent) {
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (::getppid() != parent) ::_exit(127);  // the parent died before prctl
  // The server blocks SIGINT/SIGTERM itself; start with a clean mask.
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  int devnull = ::open("/dev/null", O_RDONLY);
  if (devnull >= 0) ::dup2(devnull, 0);
  if (out_fd >= 0) {
    ::dup2(out_fd, 1);
    ::dup2(out_fd, 2);
  }
  ::execvp(args[0], args);
  ::_exit(127);
}

}  // namespace

RunResult run(const std::vector<std::string>& argv, std::chrono::milliseconds timeout) {
  RunResult res;
  int p[2];
  if (::pipe2(p, O_CLOEXEC) < 0) {
    res.output = "pipe failed";
    return res;
  }
  auto args = c_argv(argv);
  pid_t parent = ::getpid();
  pid_t pid = ::fork();
  if (pid < 0) {
    ::close(p[0]);
    ::close(p[1]);
    res.output = "fork failed";
    return res;
  }
  if (pid == 0) exec_child(args.data(), p[1], parent);
  ::close(p[1]);
  auto deadline = Clock::now() + timeout;
  char buf[4096];
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) {
      res.timed_out = true;
      ::kill(pid, SIGKILL);
      break;
    }
    pollfd pfd{p[0], POLLIN, 0};
    int n = ::poll(&pfd, 1, static_cast<int>(left.count()));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) continue;
    ssize_t got = ::read(p[0], buf, sizeof buf);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) break;
    res.output.append(buf, static_cast<std::size_t>(got));
  }
  ::close(p[0]);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (WIFEXITED(status)) res.exit_code = WEXITSTATUS(status);
  if (WIFSIGNALED(status)) res.signal = WTERMSIG(status);
  return res;
}

bool have_tool(const std::string& name) {
  RunResult r = run({"sh", "-c", "command -v " + name});
  return r.exit_code == 0;
}

// ---- ServerProcess ----------------------------------------------------------

ServerProcess::~ServerProcess() {
  if (pid_ > 0) {
    int status;
    signal_and_wait(SIGKILL, &status, std::chrono::seconds(5));
  }
}

bool ServerProcess::start(const std::vector<std::string>& args, const std::string& socket_path,
                          const std::string& log_path) {
  socket_ = socket_path;
  log_path_ = log_path;
  std::vector<std::string> argv = {server_binary()};
  argv.insert(argv.end(), args.begin(), args.end());
  argv.push_back("--socket");
  argv.push_back(socket_path);
  int log_fd = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (log_fd < 0) {
    ADD_FAILURE() << "cannot open " << log_path;
    return false;
  }
  auto cargs = c_argv(argv);
  pid_t parent = ::getpid();
  pid_ = ::fork();
  if (pid_ < 0) {
    ::close(log_fd);
    ADD_FAILURE() << "fork failed";
    return false;
  }
  if (pid_ == 0) exec_child(cargs.data(), log_fd, parent);
  ::close(log_fd);
  auto deadline = Clock::now() + std::chrono::seconds(10);
  while (Clock::now() < deadline) {
    if (!alive()) {
      ADD_FAILURE() << "fsfault-nbd exited during start-up:\n" << log();
      return false;
    }
    int fd = connect_unix(socket_path);
    if (fd >= 0) {
      ::close(fd);  // the server sees a client that left before its flags
      return true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ADD_FAILURE() << "fsfault-nbd did not listen on " << socket_path << " within 10 s:\n" << log();
  return false;
}

bool ServerProcess::alive() {
  if (pid_ <= 0) return false;
  int status;
  pid_t r = ::waitpid(pid_, &status, WNOHANG);
  if (r == pid_) {
    pid_ = -1;
    return false;
  }
  return true;
}

bool ServerProcess::signal_and_wait(int sig, int* status, std::chrono::milliseconds timeout) {
  if (pid_ <= 0) return false;
  ::kill(pid_, sig);
  auto deadline = Clock::now() + timeout;
  for (;;) {
    pid_t r = ::waitpid(pid_, status, WNOHANG);
    if (r == pid_) {
      pid_ = -1;
      return true;
    }
    if (Clock::now() >= deadline) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  ::kill(pid_, SIGKILL);
  ::waitpid(pid_, status, 0);
  pid_ = -1;
  return false;
}

std::string ServerProcess::log() const {
  try {
    auto v = read_file(log_path_);
    return std::string(v.begin(), v.end());
  } catch (...) {
    return "(no log)";
  }
}

// ---- ServerTest ---------------------------------------------------------------

void ServerTest::TearDown() {
  for (auto& s : servers_) {
    if (s->alive()) {
      if (HasFailure()) std::fprintf(stderr, "---- server log ----\n%s\n", s->log().c_str());
      int status;
      // A live server must still exit cleanly on SIGTERM.
      bool exited = s->signal_and_wait(SIGTERM, &status);
      EXPECT_TRUE(exited) << "fsfault-nbd did not exit within 10 s of SIGTERM\n" << s->log();
      if (exited) {
        EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
            << "fsfault-nbd exit status " << status << "\n" << s->log();
      }
    }
  }
  servers_.clear();
}

std::string ServerTest::make_image(const std::string& name, std::size_t size, std::uint32_t seed) {
  std::string path = dir_.file(name);
  write_file(path, random_bytes(size, seed));
  return path;
}

ServerProcess& ServerTest::start_server(const std::vector<std::string>& args,
                                        const std::string& sock) {
  servers_.push_back(std::make_unique<ServerProcess>());
  ServerProcess& s = *servers_.back();
  std::vector<std::string> a = args;
  a.push_back("--overlay-dir");
  a.push_back(dir_.path());
  if (!s.start(a, dir_.file(sock), dir_.file(sock + ".log"))) {
    throw std::runtime_error("server did not start");
  }
  return s;
}

std::string ServerTest::uri(const ServerProcess& s, const std::string& name) {
  return "nbd+unix:///" + name + "?socket=" + s.socket();
}

// ---- raw sockets ----------------------------------------------------------------

int connect_unix(const std::string& path) {
  sockaddr_un addr{};
  if (path.size() >= sizeof addr.sun_path) return -1;
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) < 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

bool send_all(int fd, const void* p, std::size_t n) {
  const char* c = static_cast<const char*>(p);
  while (n > 0) {
    ssize_t w = ::send(fd, c, n, MSG_NOSIGNAL);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return false;
    c += w;
    n -= static_cast<std::size_t>(w);
  }
  return true;
}

namespace {
// Waits until fd is readable or the deadline passes (EINTR retried); false on
// timeout or a poll error.
bool wait_readable(int fd, Clock::time_point deadline) {
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) return false;
    pollfd pfd{fd, POLLIN, 0};
    int r = ::poll(&pfd, 1, static_cast<int>(left.count()));
    if (r < 0 && errno == EINTR) continue;
    return r > 0;
  }
}
}  // namespace

bool recv_exact(int fd, void* p, std::size_t n, std::chrono::milliseconds timeout) {
  char* c = static_cast<char*>(p);
  auto deadline = Clock::now() + timeout;
  while (n > 0) {
    if (!wait_readable(fd, deadline)) return false;
    ssize_t got = ::recv(fd, c, n, 0);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) return false;
    c += got;
    n -= static_cast<std::size_t>(got);
  }
  return true;
}

bool wait_closed(int fd, std::chrono::milliseconds timeout) {
  auto deadline = Clock::now() + timeout;
  char buf[4096];
  for (;;) {
    if (!wait_readable(fd, deadline)) return false;
    ssize_t got = ::recv(fd, buf, sizeof buf, 0);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) return true;  // EOF or ECONNRESET
  }
}

}  // namespace fsfault::it
