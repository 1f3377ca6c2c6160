#include "runner/kernel/kernel_build.h"

#include "base/files.h"
#include "runner/kernel/kernel.h"
#include "runner/kernel/run_tool.h"
#include "runner/vm_config.h"
#include "runner/test_temp_dir.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <future>
#include <optional>
#include <functional>
#include <filesystem>
#include <sstream>

using namespace fsfault::vm;
namespace fs = std::filesystem;

namespace {

// A file with the bzImage setup header's "HdrS" magic and a version string (what
// provision_kernel reads of an image before booting it).
std::string fake_bzimage(const std::string& version) {
  std::string img(0x400, '\0');
  img.replace(0x202, 4, "HdrS");
  img[0x20e] = 0x00;
  img[0x20f] = 0x01;  // version at 0x100 + 0x200
  img.replace(0x300, version.size(), version);
  return img;
}

std::string message_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const std::exception& e) {
    return e.what();
  }
  return "(no exception)";
}

// A build of d/broken, a tree whose configuration step fails (real make), cached in d/cache.
KernelBuildRequest broken_tree_build(fsfault::vm::testing::TempDir& d) {
  d.put("broken/arch/x86/Kconfig", "");
  d.put("broken/Makefile", "x86_64_defconfig:\n\t@echo 'this tree does not configure' >&2; exit 3\n");
  KernelBuildRequest req;
  req.cache_root = (d.dir / "cache").string();
  req.fragments_dir = FSFAULT_SOURCE_DIR;
  req.source = (d.dir / "broken").string();
  return req;
}

}  // namespace

TEST(KernelBuild, NamesAndTheMachineCache) {
  EXPECT_EQ(default_kernel_name("sid", true), "fi-sid");
  EXPECT_EQ(default_kernel_name("bookworm", false), "min-bookworm");
  fsfault::vm::testing::TempDir d;
  d.put("linux-patched/Makefile", "");
  EXPECT_EQ(default_kernel_name((d.dir / "linux-patched").string() + "/", true), "fi-linux-patched");
  const char* old = std::getenv("XDG_CACHE_HOME");
  std::string saved = old ? old : "";
  ::setenv("XDG_CACHE_HOME", "/var/cache/x", 1);
  EXPECT_EQ(machine_cache_root(), "/var/cache/x/fsfault");
  ::unsetenv("XDG_CACHE_HOME");
  EXPECT_EQ(machine_cache_root(), std::string(std::getenv("HOME")) + "/.cache/fsfault");
  if (old) ::setenv("XDG_CACHE_HOME", saved.c_str(), 1);
}

TEST(KernelBuild, BadSourcesAreNamed) {
  fsfault::vm::testing::TempDir d;
  std::ostringstream log;
  KernelBuildRequest req;
  req.cache_root = d.dir.string();
  req.fragments_dir = FSFAULT_SOURCE_DIR;
  req.source = "hamm";
  EXPECT_NE(message_of([&] { build_kernel(req, log); }).find("--source hamm: neither a Debian suite"), std::string::npos);
  d.put("notatree/README", "x");
  req.source = (d.dir / "notatree").string();
  EXPECT_NE(message_of([&] { build_kernel(req, log); }).find("not a kernel source tree"), std::string::npos);
}

// A tree whose configuration step fails (real make): the error names the step and the log, the log
// holds make's output, and the cache holds no build, no link and no objects.
TEST(KernelBuild, AFailedBuildNamesItsLogAndLeavesNothing) {
  fsfault::vm::testing::TempDir d;
  KernelBuildRequest req = broken_tree_build(d);
  req.fault_injection = true;
  std::ostringstream log;
  std::string why = message_of([&] { build_kernel(req, log); });
  EXPECT_NE(why.find("make x86_64_defconfig kvm_guest.config failed"), std::string::npos) << why;
  auto at = why.find("log /");
  ASSERT_NE(at, std::string::npos) << why;
  std::string log_path = why.substr(at + 4);
  EXPECT_NE(fsfault::base::read_file(log_path).find("this tree does not configure"), std::string::npos);
  for (auto& e : fs::directory_iterator(d.dir / "cache/kernels/built"))
    if (e.path().filename() != ".lock") {
      EXPECT_EQ(e.path().extension(), ".log") << e.path();  // only the log
    }
  EXPECT_TRUE(fs::is_empty(d.dir / "cache/kernels/obj"));
  EXPECT_EQ(built_kernel_path(req.cache_root, "fi-broken"), "");
}

// Another kernel's build in progress holds its own key's lock (before: the whole cache
// directory's) for its whole make; this build must not wait for it. The broken tree fails at
// configure, so an unblocked build returns at once.
TEST(KernelBuild, AnotherBuildInProgressDoesNotBlock) {
  fsfault::vm::testing::TempDir d;
  KernelBuildRequest req = broken_tree_build(d);
  std::optional<DirLock> other_key(std::in_place, (d.dir / "cache/kernels/locks/0123456789abcdef").string());
  std::optional<DirLock> whole_cache(std::in_place, (d.dir / "cache/kernels/built").string());
  auto build = std::async(std::launch::async, [&] {
    std::ostringstream log;
    return message_of([&] { build_kernel(req, log); });
  });
  const bool returned = build.wait_for(std::chrono::seconds(60)) == std::future_status::ready;
  other_key.reset();
  whole_cache.reset();
  EXPECT_TRUE(returned) << "the build waited for another build's lock";
  EXPECT_NE(build.get().find("failed"), std::string::npos);
}

// What `fsfault kernel build` leaves (cache/kernels/built/NAME -> NAME-KEY with the image and its
// .config) is a kernel by that name, from the run's cache: `--kernel fi-sid`.
TEST(KernelBuild, ABuiltKernelIsANameForProvisioning) {
  fsfault::vm::testing::TempDir d;
  d.put("cache/kernels/built/fi-test-0123/arch/x86/boot/bzImage", fake_bzimage("7.2.13 (root@fsfault) #1 SMP"));
  d.put("cache/kernels/built/fi-test-0123/.config", "CONFIG_FANOTIFY=y\nCONFIG_FAILSLAB=y\n");
  fs::create_directory_symlink("fi-test-0123", d.dir / "cache/kernels/built/fi-test");
  EXPECT_EQ(built_kernel_path((d.dir / "cache").string(), "fi-test"), (d.dir / "cache/kernels/built/fi-test").string());
  EXPECT_EQ(built_kernel_path((d.dir / "cache").string(), "fi-other"), "");
  std::ostringstream log;
  KernelInfo k = provision_kernel("fi-test", "", (d.dir / "cache/kernels").string(), log);
  EXPECT_EQ(k.label, "fi-test");
  EXPECT_EQ(k.version.str(), "7.2.13");
  ASSERT_TRUE(k.config.has_value());
  EXPECT_TRUE(k.config->builtin("CONFIG_FAILSLAB"));
  EXPECT_NE(k.config->origin().find("fi-test"), std::string::npos) << k.config->origin();
}
