#include "runner/kernel/initramfs.h"

#include "base/files.h"
#include "runner/kernel/modules.h"
#include "runner/kernel/tests/module_tree.h"
#include "runner/test_temp_dir.h"

#include <archive.h>
#include <archive_entry.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstdlib>
#include <filesystem>
#include <map>
#include <memory>
#include <sstream>

using namespace fsfault::vm;
namespace base = fsfault::base;
namespace fs = std::filesystem;

namespace {

struct Entry {
  std::string name;
  unsigned mode = 0;
  int64_t ino = 0, uid = -1, gid = -1, mtime = -1;
  unsigned rmaj = 0, rmin = 0;
  std::string data, symlink;
};

// The archive read back through libarchive's cpio reader.
std::vector<Entry> read_cpio(const std::string& path) {
  std::unique_ptr<archive, decltype(&archive_read_free)> a(archive_read_new(), archive_read_free);
  archive_read_support_filter_none(a.get());
  archive_read_support_format_cpio(a.get());
  EXPECT_EQ(archive_read_open_filename(a.get(), path.c_str(), 1 << 16), ARCHIVE_OK);
  std::vector<Entry> out;
  archive_entry* e;
  while (archive_read_next_header(a.get(), &e) == ARCHIVE_OK) {
    Entry x{archive_entry_pathname(e), archive_entry_mode(e), archive_entry_ino64(e), archive_entry_uid(e),
            archive_entry_gid(e), archive_entry_mtime(e), static_cast<unsigned>(archive_entry_rdevmajor(e)),
            static_cast<unsigned>(archive_entry_rdevminor(e)), "", archive_entry_symlink(e) ? archive_entry_symlink(e) : ""};
    char buf[4096];
    for (la_ssize_t n; (n = archive_read_data(a.get(), buf, sizeof buf)) > 0;) x.data.append(buf, static_cast<size_t>(n));
    out.push_back(x);
  }
  EXPECT_EQ(archive_format(a.get()), ARCHIVE_FORMAT_CPIO_SVR4_NOCRC);  // "newc"
  return out;
}

}  // namespace

TEST(Initramfs, ArchiveIsCpioNewcOwnedByRootWithFixedTimesAndInodes) {
  fsfault::vm::testing::TempDir t;
  const std::string root = t.dir.string() + "/root";
  fs::create_directories(root + "/dev");
  fs::create_directories(root + "/bin");
  base::write_file(root + "/init", "#!/bin/sh\n");
  chmod((root + "/init").c_str(), 0755);
  fs::create_symlink("busybox", root + "/bin/sh");
  write_initramfs_archive(root, t.dir.string() + "/a.cpio");
  auto entries = read_cpio(t.dir.string() + "/a.cpio");
  ASSERT_EQ(entries.size(), 5u);
  // Sorted names; /dev/console (char 5:1) added last; inode numbers from 1.
  std::vector<std::string> names;
  for (auto& e : entries) names.push_back(e.name);
  EXPECT_EQ(names, (std::vector<std::string>{"bin", "bin/sh", "dev", "init", "dev/console"}));
  for (size_t i = 0; i < entries.size(); ++i) {
    EXPECT_EQ(entries[i].ino, static_cast<int64_t>(i + 1)) << entries[i].name;
    EXPECT_EQ(entries[i].uid, 0) << entries[i].name;
    EXPECT_EQ(entries[i].gid, 0) << entries[i].name;
    EXPECT_EQ(entries[i].mtime, 0) << entries[i].name;
  }
  EXPECT_EQ(entries[1].symlink, "busybox");
  EXPECT_EQ(entries[3].mode, static_cast<unsigned>(S_IFREG | 0755));
  EXPECT_EQ(entries[3].data, "#!/bin/sh\n");
  EXPECT_EQ(entries[4].mode, static_cast<unsigned>(S_IFCHR | 0600));
  EXPECT_EQ(entries[4].rmaj, 5u);
  EXPECT_EQ(entries[4].rmin, 1u);
}

TEST(Initramfs, SameTreeSameBytes) {
  fsfault::vm::testing::TempDir t;
  const std::string root = t.dir.string() + "/root";
  fs::create_directories(root + "/etc");
  base::write_file(root + "/etc/a", "a");
  write_initramfs_archive(root, t.dir.string() + "/1.cpio");
  // Other mtimes and a second later: the same bytes.
  sleep(1);
  base::write_file(root + "/etc/a", "a");
  fs::last_write_time(root + "/etc", fs::file_time_type::clock::now() - std::chrono::hours(5));
  write_initramfs_archive(root, t.dir.string() + "/2.cpio");
  std::string one = base::read_file(t.dir.string() + "/1.cpio"), two = base::read_file(t.dir.string() + "/2.cpio");
  EXPECT_EQ(one, two);
  ASSERT_GT(one.size(), 10u);
  EXPECT_EQ(one.substr(0, 6), "070701");  // cpio newc, uncompressed (the kernel reads it as it is)
  EXPECT_EQ(one.substr(46, 8), "00000000");  // c_mtime 0
  EXPECT_FALSE(fs::exists(t.dir.string() + "/1.cpio.part"));
}

TEST(Initramfs, BuildsFromARealModulesTree) {
  test_support::ModuleTree tree;
  if (!tree.skip_reason.empty()) GTEST_SKIP() << "no test modules tree: " << tree.skip_reason;
  fsfault::vm::testing::TempDir t;
  KernelInfo k;
  k.modules_dir = tree.dir;
  k.release = tree.release;
  base::write_file(t.dir.string() + "/guest", "guest harness");
  std::ostringstream log;
  std::string path;
  try {
    path = build_initramfs(k, t.dir.string() + "/guest", t.dir.string() + "/cache", {"nosuch_extra", "ext4"}, log);
  } catch (const std::runtime_error& e) {
    if (std::string(e.what()).find("busybox") != std::string::npos) GTEST_SKIP() << e.what();
    throw;
  }
  EXPECT_NE(log.str().find("warning: module nosuch_extra is not available"), std::string::npos) << log.str();
  std::map<std::string, Entry> by_name;
  for (auto& e : read_cpio(path)) by_name[e.name] = e;
  EXPECT_EQ(by_name["init"].data, "guest harness");
  const std::string mods = "lib/modules/" + tree.release + "/";
  // Decompressed into plain .ko; the guest's list in load order; depmod's index beside them.
  EXPECT_EQ(by_name[mods + "kernel/fs/xfs/xfs.ko"].data, tree.plain.at("xfs"));
  EXPECT_EQ(by_name[mods + "kernel/drivers/block/virtio_blk.ko"].data, tree.plain.at("virtio_blk"));
  EXPECT_FALSE(by_name.count(mods + "kernel/fs/xfs/xfs.ko.xz"));
  EXPECT_TRUE(by_name.count(mods + "modules.dep.bin"));
  const std::string list = by_name["etc/fsfault/modules.load"].data;
  EXPECT_LT(list.find("/libcrc32c.ko\n"), list.find("/xfs.ko\n")) << list;
  EXPECT_LT(list.find("/virtio.ko\n"), list.find("/virtio_pci.ko\n")) << list;
  EXPECT_NE(list.find("/crc32c-generic.ko\n"), std::string::npos) << list;  // optional, present
  // Reused while the inputs stand; rebuilt to the same bytes.
  std::string first = base::read_file(path);
  EXPECT_EQ(build_initramfs(k, t.dir.string() + "/guest", t.dir.string() + "/cache", {}, log), path);
  fs::remove(path);
  EXPECT_EQ(build_initramfs(k, t.dir.string() + "/guest", t.dir.string() + "/cache", {}, log), path);
  EXPECT_EQ(base::read_file(path), first);
  // Another harness: another initramfs.
  base::write_file(t.dir.string() + "/guest", "guest harness 2");
  EXPECT_NE(build_initramfs(k, t.dir.string() + "/guest", t.dir.string() + "/cache", {}, log), path);
}

TEST(Initramfs, RequiredModuleMissingIsAnError) {
  test_support::ModuleTree tree;
  if (!tree.skip_reason.empty()) GTEST_SKIP() << "no test modules tree: " << tree.skip_reason;
  fs::remove(tree.dir + "/kernel/drivers/char/virtio_console.ko.xz");
  ASSERT_EQ(system(("depmod -b " + tree.base + " " + tree.release).c_str()), 0);
  fsfault::vm::testing::TempDir t;
  base::write_file(t.dir.string() + "/guest", "guest harness");
  KernelInfo k;
  k.modules_dir = tree.dir;
  k.release = tree.release;
  std::ostringstream log;
  try {
    build_initramfs(k, t.dir.string() + "/guest", t.dir.string() + "/cache", {}, log);
    FAIL() << "expected a throw";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("virtio_console"), std::string::npos) << e.what();
  }
}
