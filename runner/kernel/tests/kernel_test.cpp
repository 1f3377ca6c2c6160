#include "runner/kernel/kernel.h"

#include <gtest/gtest.h>

using namespace fsfault::vm;

namespace {
// Shapes from a real 6.1 cloud kernel (depmod output) and a 7.x one (.ko.xz).
const char* kDep61 =
    "kernel/fs/xfs/xfs.ko: kernel/lib/libcrc32c.ko\n"
    "kernel/lib/libcrc32c.ko:\n"
    "kernel/drivers/virtio/virtio_pci_modern_dev.ko:\n"
    "kernel/drivers/virtio/virtio_pci_legacy_dev.ko:\n"
    "kernel/drivers/virtio/virtio_pci.ko: kernel/drivers/virtio/virtio_pci_legacy_dev.ko "
    "kernel/drivers/virtio/virtio_pci_modern_dev.ko kernel/drivers/virtio/virtio_ring.ko "
    "kernel/drivers/virtio/virtio.ko\n"
    "kernel/drivers/virtio/virtio_ring.ko: kernel/drivers/virtio/virtio.ko\n"
    "kernel/drivers/virtio/virtio.ko:\n"
    "kernel/drivers/char/virtio_console.ko: kernel/drivers/virtio/virtio_ring.ko kernel/drivers/virtio/virtio.ko\n"
    "kernel/drivers/block/virtio_blk.ko: kernel/drivers/virtio/virtio_ring.ko kernel/drivers/virtio/virtio.ko\n";
const char* kBuiltin61 = "kernel/fs/ext4/ext4.ko\nkernel/fs/jbd2/jbd2.ko\n";

size_t pos(const std::vector<std::string>& v, const std::string& s) {
  return static_cast<size_t>(std::find(v.begin(), v.end(), s) - v.begin());
}
}  // namespace

TEST(Modules, NameOfPath) {
  EXPECT_EQ(module_name("kernel/fs/xfs/xfs.ko"), "xfs");
  EXPECT_EQ(module_name("kernel/fs/xfs/xfs.ko.xz"), "xfs");
  EXPECT_EQ(module_name("kernel/crypto/crc32c-generic.ko.zst"), "crc32c_generic");
}

TEST(Modules, ClosureInDependencyOrder) {
  ModuleDb db = parse_module_db(kDep61, kBuiltin61);
  auto order = module_closure(db, {"virtio_pci", "virtio_blk", "virtio_console", "xfs", "ext4"});
  EXPECT_EQ(order.size(), 9u);  // ext4 is built in: nothing to load
  EXPECT_LT(pos(order, "virtio"), pos(order, "virtio_ring"));
  EXPECT_LT(pos(order, "virtio_ring"), pos(order, "virtio_pci"));
  EXPECT_LT(pos(order, "virtio_pci_modern_dev"), pos(order, "virtio_pci"));
  EXPECT_LT(pos(order, "libcrc32c"), pos(order, "xfs"));
  EXPECT_EQ(std::count(order.begin(), order.end(), "virtio"), 1);
}

TEST(Modules, CompressedModules) {
  ModuleDb db = parse_module_db(
      "kernel/fs/xfs/xfs.ko.xz: kernel/lib/libcrc32c.ko.xz\nkernel/lib/libcrc32c.ko.xz:\n", "");
  auto order = module_closure(db, {"xfs"});
  ASSERT_EQ(order.size(), 2u);
  EXPECT_EQ(order[0], "libcrc32c");
  EXPECT_EQ(db.path_of["xfs"], "kernel/fs/xfs/xfs.ko.xz");
}

TEST(Modules, MissingModuleIsNamed) {
  ModuleDb db = parse_module_db(kDep61, kBuiltin61);
  try {
    module_closure(db, {"virtio_blk", "btrfs", "nosuch"});
    FAIL() << "expected a throw";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("btrfs, nosuch"), std::string::npos) << e.what();
  }
}

TEST(Mirror, FromDeb822AndOneLine) {
  std::string d822 =
      "Types: deb\n# comment\nURIs: http://deb.debian.org/debian-security\nSuites: bookworm-security\n\n"
      "Types: deb deb-src\nURIs: http://mirror.example/debian\nSuites: bookworm\nComponents: main\n";
  EXPECT_EQ(mirror_from_texts({d822}, ""), "http://mirror.example/debian");
  EXPECT_EQ(mirror_from_texts({}, "# x\ndeb [arch=amd64 signed-by=/k.gpg] http://m.example/debian bookworm main\n"),
            "http://m.example/debian");
  EXPECT_EQ(mirror_from_texts({}, ""), "");
}

TEST(DebianKernel, PackagesBeforeAndAfterTheSplit) {
  // bookworm 6.1: one package carries vmlinuz and the modules.
  EXPECT_EQ(kernel_packages("linux-image-6.1.0-50-cloud-amd64",
                            "kmod, linux-base (>= 4.3~), initramfs-tools (>= 0.120+deb8u2) | linux-initramfs-tool"),
            (std::vector<std::string>{"linux-image-6.1.0-50-cloud-amd64"}));
  // sid 7.x: linux-image-ABI is a stub; vmlinuz, modules and modules.builtin live in siblings.
  EXPECT_EQ(kernel_packages("linux-image-7.2.13+deb14-cloud-amd64",
                            "dracut | initramfs-tools (>= 0.120+deb8u2) | linux-initramfs-tool, "
                            "linux-base-7.2.13+deb14-cloud-amd64 (= 7.2.13-1), "
                            "linux-binary-7.2.13+deb14-cloud-amd64 (= 7.2.13-1), "
                            "linux-modules-7.2.13+deb14-cloud-amd64 (= 7.2.13-1)"),
            (std::vector<std::string>{"linux-image-7.2.13+deb14-cloud-amd64", "linux-base-7.2.13+deb14-cloud-amd64",
                                      "linux-binary-7.2.13+deb14-cloud-amd64",
                                      "linux-modules-7.2.13+deb14-cloud-amd64"}));
}

TEST(DebianKernel, ControlField) {
  std::string stanza = "Package: linux-image-x\nVersion: 7.2.13-1\nDepends: a, b (= 1)\nDescription: d\n";
  EXPECT_EQ(control_field(stanza, "Version"), "7.2.13-1");
  EXPECT_EQ(control_field(stanza, "Depends"), "a, b (= 1)");
  EXPECT_EQ(control_field(stanza, "Pre-Depends"), "");
}
