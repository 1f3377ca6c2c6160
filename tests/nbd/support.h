// Support for the fsfault-nbd integration tests: the shared temp-dir and file
// helpers (nbd-server/tests/test_util.h), a child-process runner for the real tools (nbdinfo, qemu-io, nbdcopy, ...) and
// a fixture that starts the real `fsfault-nbd` binary, waits for its socket
// and always kills it on teardown (children also die with the test through
// PR_SET_PDEATHSIG, so a crashed test leaves no orphans).
#pragma once

#include <sys/types.h>

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "nbd-server/tests/test_util.h"

namespace fsfault::it {

// Path of the server binary under test (from CMake: $<TARGET_FILE:fsfault-nbd>).
const char* server_binary();

using nbd::testing::random_bytes;
using nbd::testing::read_file;
using nbd::testing::TempDir;
using nbd::testing::write_file;
std::string sha256_file(const std::string& path);  // hex, via sha256sum

struct RunResult {
  int exit_code = -1;   // -1 when killed by a signal / timed out
  int signal = 0;
  bool timed_out = false;
  std::string output;   // stdout and stderr interleaved
};
// Runs argv[0] (searched in PATH) and waits at most `timeout`.
RunResult run(const std::vector<std::string>& argv,
              std::chrono::milliseconds timeout = std::chrono::seconds(30));
bool have_tool(const std::string& name);

// One fsfault-nbd process.
class ServerProcess {
 public:
  ServerProcess() = default;
  ~ServerProcess();
  ServerProcess(const ServerProcess&) = delete;
  ServerProcess& operator=(const ServerProcess&) = delete;

  // Starts the server with `args` (plus --socket socket_path), logging to
  // log_path, and waits until the socket accepts connections. Returns false
  // (with a gtest failure) if it does not come up within 10 s.
  bool start(const std::vector<std::string>& args, const std::string& socket_path,
             const std::string& log_path);
  // Sends `sig`; returns the exit status after waiting up to `timeout`
  // (SIGKILL afterwards). raw wait status in *status.
  bool signal_and_wait(int sig, int* status,
                       std::chrono::milliseconds timeout = std::chrono::seconds(10));
  bool alive();
  pid_t pid() const { return pid_; }
  const std::string& socket() const { return socket_; }
  std::string log() const;

 private:
  pid_t pid_ = -1;
  std::string socket_, log_path_;
};

// Fixture: a temp dir and helpers to build images and start servers.
class ServerTest : public ::testing::Test {
 protected:
  void TearDown() override;

  // Creates DIR/name with `size` random bytes (seeded) and returns its path.
  std::string make_image(const std::string& name, std::size_t size, std::uint32_t seed);
  // Starts a server on DIR/<sock>; extra args come first (e.g. --image ...).
  ServerProcess& start_server(const std::vector<std::string>& args,
                              const std::string& sock = "nbd.sock");
  // An nbd+unix URI for export `name` of server `s`.
  static std::string uri(const ServerProcess& s, const std::string& name);

  TempDir dir_;
  std::vector<std::unique_ptr<ServerProcess>> servers_;
};

// A connected raw unix socket for hostile-client tests (-1 on failure).
int connect_unix(const std::string& path);
bool send_all(int fd, const void* p, std::size_t n);
// Reads exactly n bytes within timeout; false on EOF, error or timeout.
bool recv_exact(int fd, void* p, std::size_t n,
                std::chrono::milliseconds timeout = std::chrono::seconds(5));
// True when the peer closes the connection (EOF or reset) within timeout,
// after discarding whatever it still sends.
bool wait_closed(int fd, std::chrono::milliseconds timeout = std::chrono::seconds(5));

}  // namespace fsfault::it
