// RunDir and the sweep of directories whose runner died (SIGKILL leaves them behind).
#include "runner/vm/run_dir.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace fs = std::filesystem;
using fsfault::vm::RunDir;
using fsfault::vm::sweep_stale_run_dirs;

namespace {

class RunDirTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/fsfault-rundir-test.XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    base_ = tmpl;
  }
  void TearDown() override { fs::remove_all(base_); }
  std::string base_;
};

// A child process makes a RunDir, reports its path and is SIGKILLed: no destructor runs.
std::string dir_of_killed_owner(const std::string& base) {
  int p[2];
  if (pipe(p) != 0) return "";
  pid_t pid = fork();
  if (pid == 0) {
    close(p[0]);
    RunDir d("fsfault-vm", base);
    std::string path = d.path() + "\n";
    (void)!write(p[1], path.data(), path.size());
    pause();
    _exit(0);
  }
  close(p[1]);
  std::string path;
  char ch;
  while (read(p[0], &ch, 1) == 1 && ch != '\n') path += ch;
  close(p[0]);
  kill(pid, SIGKILL);
  waitpid(pid, nullptr, 0);
  return path;
}

}  // namespace

TEST_F(RunDirTest, RemovedWithItsOwner) {
  std::string path;
  {
    RunDir d("fsfault-vm", base_);
    path = d.path();
    std::ofstream(path + "/chan.sock") << "x";
    EXPECT_TRUE(fs::is_directory(path));
  }
  EXPECT_FALSE(fs::exists(path));
}

TEST_F(RunDirTest, SweepRemovesOnlyDirectoriesOfDeadOwners) {
  std::string stale = dir_of_killed_owner(base_);
  ASSERT_FALSE(stale.empty());
  ASSERT_TRUE(fs::is_directory(stale)) << "SIGKILL leaves the directory behind";
  RunDir live("fsfault-vm", base_);
  fs::create_directory(base_ + "/fsfault-vm.nolock");  // not made by RunDir: never touched
  RunDir other_prefix("fsfault-probe", base_);

  auto removed = sweep_stale_run_dirs("fsfault-vm", base_);
  ASSERT_EQ(removed.size(), 1u);
  EXPECT_EQ(removed[0], stale);
  EXPECT_FALSE(fs::exists(stale));
  EXPECT_TRUE(fs::is_directory(live.path()));
  EXPECT_TRUE(fs::is_directory(base_ + "/fsfault-vm.nolock"));
  EXPECT_TRUE(fs::is_directory(other_prefix.path()));
}
