// images/process: the one spawn/reap implementation, shared by images/ and the VM runner.
// These run real children (sh, sleep) and check what the kernel says about them afterwards.
#include "process/process.h"

#include <gtest/gtest.h>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <string>
#include <thread>

using fsfault::proc::Child;
using fsfault::proc::ProcessOptions;
using fsfault::proc::run_process;
using namespace std::chrono_literals;

namespace {

// Dead: no such process, or a zombie nobody reaped yet (PID 1 in a container may not reap).
bool gone(pid_t pid) {
  if (::kill(pid, 0) != 0) return errno == ESRCH;
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string field;
  for (int i = 0; i < 3 && stat >> field; ++i) {
  }
  return field == "Z";
}

bool gone_within(pid_t pid, std::chrono::milliseconds limit) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (!gone(pid)) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(10ms);
  }
  return true;
}

}  // namespace

TEST(Process, CapturesOutputAndStatus) {
  auto r = run_process({"sh", "-c", "echo out; echo err >&2; exit 3"});
  EXPECT_EQ(r.out, "out\n");
  EXPECT_EQ(r.err, "err\n");
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_FALSE(r.timed_out);
}

TEST(Process, UnstartableProgramThrows) {
  EXPECT_THROW(run_process({"/nonexistent/fsfault-no-such-tool"}), std::runtime_error);
  EXPECT_THROW(Child::spawn({"fsfault-no-such-tool-on-path"}), std::runtime_error);
  ProcessOptions bad_cwd;
  bad_cwd.cwd = "/nonexistent-dir";
  EXPECT_THROW(run_process({"true"}, bad_cwd), std::runtime_error);
}

TEST(Process, TimeoutKillsTheWholeGroup) {
  // The shell starts a grandchild that holds stdout open: killing only the shell would leave the
  // grandchild running and the pipe open, and run_process would hang.
  ProcessOptions o;
  o.timeout = 300ms;
  o.own_group = true;
  auto r = run_process({"sh", "-c", "sleep 30 & echo $!; wait"}, o);
  EXPECT_TRUE(r.timed_out);
  EXPECT_EQ(r.exit_code, 128 + SIGKILL);
  pid_t grandchild = std::stoi(r.out);
  EXPECT_TRUE(gone_within(grandchild, 2000ms)) << "grandchild " << grandchild << " survived";
}

TEST(Process, DestroyingAHandleKillsAndReaps) {
  pid_t pid;
  {
    Child c = Child::spawn({"sleep", "30"});
    pid = c.pid();
    ASSERT_GT(pid, 0);
    EXPECT_FALSE(c.wait_for(50ms).has_value());
  }
  // Reaped by the handle: the pid no longer exists at all (not even as a zombie).
  EXPECT_EQ(::kill(pid, 0), -1);
  EXPECT_EQ(errno, ESRCH);
}

TEST(Process, StopSendsTermBeforeKill) {
  ProcessOptions o;
  o.own_group = true;
  Child c = Child::spawn({"sh", "-c", "trap 'exit 7' TERM; sleep 30 & wait"}, o);
  std::this_thread::sleep_for(200ms);  // let the shell install its trap
  EXPECT_EQ(c.stop(5000ms), 7);
  EXPECT_FALSE(c.running());
}

TEST(Process, ChildDiesWithItsParent) {
  // PR_SET_PDEATHSIG: a child whose parent vanishes without cleaning up (here: _exit, as after a
  // SIGKILL) is killed by the kernel.
  int p[2];
  ASSERT_EQ(::pipe(p), 0);
  pid_t parent = ::fork();
  ASSERT_GE(parent, 0);
  if (parent == 0) {
    ::close(p[0]);
    pid_t pid = -1;
    try {
      Child c = Child::spawn({"sleep", "30"});
      pid = c.pid();
      (void)!::write(p[1], &pid, sizeof pid);
      ::_exit(0);  // no destructor runs
    } catch (...) {
      ::_exit(1);
    }
  }
  ::close(p[1]);
  pid_t child = -1;
  ASSERT_EQ(::read(p[0], &child, sizeof child), static_cast<ssize_t>(sizeof child));
  ::close(p[0]);
  int st = 0;
  ::waitpid(parent, &st, 0);
  EXPECT_TRUE(gone_within(child, 2000ms)) << "sleep " << child << " outlived its parent";
}
