#include "runner/kernel/modules.h"

#include "runner/kernel/tests/cached_kernels.h"
#include "runner/kernel/tests/module_tree.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>

using namespace fsfault::vm;
namespace fs = std::filesystem;

namespace {

size_t pos(const std::vector<Module>& v, const std::string& name) {
  return static_cast<size_t>(
      std::find_if(v.begin(), v.end(), [&](const Module& m) { return m.name == name; }) - v.begin());
}

#define NEED_TREE(tree) \
  if (!(tree).skip_reason.empty()) GTEST_SKIP() << "no test modules tree: " << (tree).skip_reason

}  // namespace

TEST(Modules, NameOfPath) {
  EXPECT_EQ(module_name("kernel/fs/xfs/xfs.ko"), "xfs");
  EXPECT_EQ(module_name("kernel/fs/xfs/xfs.ko.xz"), "xfs");
  EXPECT_EQ(module_name("kernel/crypto/crc32c-generic.ko.zst"), "crc32c_generic");
}

TEST(Modules, ClosureInDependencyOrderThroughLibkmod) {
  test_support::ModuleTree tree;
  NEED_TREE(tree);
  ModuleIndex index(tree.dir);
  auto order = module_closure(index, {"virtio_pci", "virtio_blk", "virtio_console", "xfs", "ext4"});
  EXPECT_EQ(order.size(), 8u);  // ext4 is built in: nothing to load
  EXPECT_LT(pos(order, "virtio"), pos(order, "virtio_ring"));
  EXPECT_LT(pos(order, "virtio_ring"), pos(order, "virtio_pci"));
  EXPECT_LT(pos(order, "virtio_pci_modern_dev"), pos(order, "virtio_pci"));
  EXPECT_LT(pos(order, "virtio_ring"), pos(order, "virtio_blk"));
  EXPECT_LT(pos(order, "libcrc32c"), pos(order, "xfs"));
  EXPECT_EQ(std::count_if(order.begin(), order.end(), [](const Module& m) { return m.name == "virtio"; }), 1);
  ASSERT_LT(pos(order, "xfs"), order.size());
  EXPECT_EQ(order[pos(order, "xfs")].path, "kernel/fs/xfs/xfs.ko.xz");
  EXPECT_EQ(order[pos(order, "virtio_blk")].path, "kernel/drivers/block/virtio_blk.ko.zst");
}

TEST(Modules, BuiltinFromModulesBuiltinNotFromTheHost) {
  test_support::ModuleTree tree;
  NEED_TREE(tree);
  ModuleIndex index(tree.dir);
  EXPECT_TRUE(index.is_builtin("ext4"));
  EXPECT_FALSE(index.path_of("ext4"));
  EXPECT_FALSE(index.is_builtin("xfs"));
  EXPECT_EQ(index.path_of("xfs").value_or(""), "kernel/fs/xfs/xfs.ko.xz");
  EXPECT_EQ(index.path_of("crc32c-generic").value_or(""), "kernel/crypto/crc32c-generic.ko");
  // Built into any host kernel (its /sys/module has it), but not in this tree's modules.builtin.
  EXPECT_FALSE(index.is_builtin("printk"));
  EXPECT_FALSE(index.is_builtin("nosuch"));
}

TEST(Modules, MissingModulesAreNamed) {
  test_support::ModuleTree tree;
  NEED_TREE(tree);
  ModuleIndex index(tree.dir);
  try {
    module_closure(index, {"virtio_blk", "btrfs", "nosuch"});
    FAIL() << "expected a throw";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("btrfs, nosuch"), std::string::npos) << e.what();
  }
}

TEST(Modules, LibkmodReadsOnlyTheBinaryIndex) {
  // kmod 30 has no fallback to the text modules.dep: a tree without modules.dep.bin has no
  // modules, which is why provisioning runs depmod on trees that lack it.
  test_support::ModuleTree tree;
  NEED_TREE(tree);
  ASSERT_TRUE(fs::exists(tree.dir + "/modules.dep"));
  fs::remove(tree.dir + "/modules.dep.bin");
  ModuleIndex index(tree.dir);
  EXPECT_FALSE(index.path_of("xfs"));
}

TEST(Modules, ReadModuleDecompressesWhatDebianShips) {
  test_support::ModuleTree tree;
  NEED_TREE(tree);
  EXPECT_EQ(read_module(tree.dir + "/kernel/fs/xfs/xfs.ko.xz"), tree.plain.at("xfs"));
  EXPECT_EQ(read_module(tree.dir + "/kernel/drivers/block/virtio_blk.ko.zst"), tree.plain.at("virtio_blk"));
  EXPECT_EQ(read_module(tree.dir + "/kernel/drivers/virtio/virtio.ko"), tree.plain.at("virtio"));
  EXPECT_EQ(tree.plain.at("xfs").substr(0, 4), "\x7f" "ELF");
  EXPECT_THROW(read_module(tree.dir + "/kernel/nosuch.ko.xz"), std::runtime_error);
}

// The kernels the VM tests download (build/kernels/<suite>/<package>/lib/modules/<release>).
class DebianKernelModules : public ::testing::TestWithParam<std::string> {};

TEST_P(DebianKernelModules, ClosureOfTheGuestModules) {
  std::string modules_dir;
  std::error_code ec;
  for (auto& pkg : fs::directory_iterator(std::string(FSFAULT_KERNELS_DIR) + "/" + GetParam(), ec))
    for (auto& rel : fs::directory_iterator(pkg.path() / "lib/modules", ec))
      if (fs::exists(rel.path() / "modules.dep.bin")) modules_dir = rel.path().string();
  if (modules_dir.empty()) {
    const std::string why = "no " + GetParam() + " kernel in " + FSFAULT_KERNELS_DIR + " (a VM test with --kernel " +
                            GetParam() + " downloads it)";
    if (fsfault::vm::testing::cached_kernels_required()) FAIL() << why;
    GTEST_SKIP() << why;
  }
  ModuleIndex index(modules_dir);
  std::vector<std::string> want = required_modules();
  want.push_back("xfs");
  auto order = module_closure(index, want);
  // Debian cloud kernels: ext4 built in, xfs and virtio_blk modules (docs/kernel-facts.md).
  EXPECT_TRUE(index.is_builtin("ext4"));
  ASSERT_LT(pos(order, "xfs"), order.size());
  ASSERT_LT(pos(order, "virtio_blk"), order.size());
  for (auto& d : index.dependencies_of("xfs")) EXPECT_LT(pos(order, d), pos(order, "xfs")) << d;
  std::string xfs = read_module(modules_dir + "/" + order[pos(order, "xfs")].path);
  EXPECT_EQ(xfs.substr(0, 4), "\x7f" "ELF") << order[pos(order, "xfs")].path;
}

INSTANTIATE_TEST_SUITE_P(Kernels, DebianKernelModules, ::testing::Values("bookworm", "sid"));
