#include "runner/kernel/initramfs.h"

#include "base/files.h"
#include "base/sha256.h"
#include "process/tool_lookup.h"
#include "runner/kernel/modules.h"
#include "runner/kernel/run_tool.h"

#include <archive.h>
#include <archive_entry.h>
#include <sys/stat.h>

#include <algorithm>
#include <filesystem>
#include <memory>
#include <sstream>
#include <stdexcept>

namespace fsfault::vm {

namespace fs = std::filesystem;

namespace {

// The cpio newc writer (Documentation/driver-api/early-userspace/buffer-format.rst), uncompressed:
// under TCG the guest's gunzip of a ~7 MB archive cost more than reading 20 MB as it is (measured
// 3.1-4.2 s against 3.6-5.5 s to the harness, docs/performance.md §5). Entries carry only what the
// caller sets, so nothing of the host (owner, times) leaks.
class CpioWriter {
 public:
  explicit CpioWriter(const std::string& path) : a_(archive_write_new(), archive_write_free) {
    archive_write_set_format_cpio_newc(a_.get());
    archive_write_add_filter_none(a_.get());
    archive_write_set_bytes_in_last_block(a_.get(), 1);  // no padding
    check(archive_write_open_filename(a_.get(), path.c_str()));
  }
  void add(const std::string& name, mode_t mode, unsigned nlink, const std::string& data = "",
           const std::string& symlink = "", unsigned rmaj = 0, unsigned rmin = 0) {
    std::unique_ptr<archive_entry, decltype(&archive_entry_free)> e(archive_entry_new(), archive_entry_free);
    archive_entry_set_pathname(e.get(), name.c_str());
    archive_entry_set_mode(e.get(), mode);
    archive_entry_set_ino(e.get(), next_ino_++);
    archive_entry_set_nlink(e.get(), nlink);
    archive_entry_set_uid(e.get(), 0);
    archive_entry_set_gid(e.get(), 0);
    archive_entry_set_mtime(e.get(), 0, 0);
    archive_entry_set_rdevmajor(e.get(), rmaj);
    archive_entry_set_rdevminor(e.get(), rmin);
    if (!symlink.empty()) archive_entry_set_symlink(e.get(), symlink.c_str());
    archive_entry_set_size(e.get(), static_cast<la_int64_t>(data.size()));
    check(archive_write_header(a_.get(), e.get()));
    if (!data.empty() && archive_write_data(a_.get(), data.data(), data.size()) != static_cast<la_ssize_t>(data.size()))
      check(ARCHIVE_FATAL);
  }
  void close() { check(archive_write_close(a_.get())); }  // writes "TRAILER!!!"

 private:
  void check(int rc) {
    if (rc == ARCHIVE_OK) return;
    const char* why = archive_error_string(a_.get());
    throw std::runtime_error(std::string("initramfs archive: ") + (why ? why : "libarchive error"));
  }
  std::unique_ptr<archive, decltype(&archive_write_free)> a_;
  unsigned next_ino_ = 1;
};

struct Inputs {
  std::string busybox;    // busybox-static
  std::string guest_bin;  // the guest harness, /init
};

Inputs find_inputs(const std::string& guest_bin) {
  auto busybox = proc::lookup_tool("busybox");
  if (!busybox) throw std::runtime_error("busybox (busybox-static) not found on PATH");
  if (!base::exists(guest_bin)) throw std::runtime_error("guest harness not found: " + guest_bin);
  return {busybox->string(), guest_bin};
}

// The modules the guest loads, in load order.
std::vector<Module> modules_to_load(const KernelInfo& k, const std::vector<std::string>& extra_modules,
                                    std::ostream& log) {
  if (k.modules_dir.empty()) {
    log << "initramfs: no modules: virtio_pci, virtio_blk and virtio_console must be built into the kernel\n";
    return {};
  }
  ModuleIndex index(k.modules_dir);
  std::vector<std::string> want = required_modules();
  for (auto& m : optional_modules())
    if (index.path_of(m)) want.push_back(m);
  // Shares ([[share]], --share, root = "host"): Debian builds virtiofs (and fuse, which
  // module_closure adds as its dependency) as modules. Loading them always keeps one initramfs
  // per kernel; a kernel without them fails only the scenarios that share.
  for (const char* m : {"virtiofs"})
    if (index.path_of(m)) want.push_back(m);
  for (auto& m : extra_modules)
    if (index.path_of(m) || index.is_builtin(m)) want.push_back(m);
    else log << "initramfs: warning: module " << m << " is not available for " << k.release << "\n";
  return module_closure(index, want);
}

// cache_dir/initramfs/<release>-<key>.cpio, the key hashing every input's content or identity.
std::string initramfs_path(const KernelInfo& k, const Inputs& in, const std::vector<Module>& load,
                           const std::string& dir) {
  base::Sha256 key;
  key.update("fsfault-initramfs-v5\n");  // v5: uncompressed (v4: gzip; libarchive, libkmod modules)
  key.update(base::sha256_file(in.guest_bin) + "\n");
  key.update(base::sha256_file(in.busybox) + "\n");
  key.update(k.release + "|" + k.modules_dir + "\n");
  for (auto& m : load) {
    struct stat st{};
    stat((k.modules_dir + "/" + m.path).c_str(), &st);
    key.update(m.name + ":" + std::to_string(st.st_size) + ":" + std::to_string(st.st_mtime) + "\n");
  }
  return dir + "/" + (k.release.empty() ? "custom" : k.release) + "-" + key.hex_finish().substr(0, 16) + ".cpio";
}

// The root's directories, /init and busybox with a symlink per applet.
void stage_userland(const std::string& stage, const Inputs& in) {
  for (auto d : {"bin", "sbin", "dev", "proc", "sys", "mnt", "tmp", "etc/fsfault", "lib/modules"})
    fs::create_directories(stage + "/" + d);
  fs::copy_file(in.guest_bin, stage + "/init");
  fs::copy_file(in.busybox, stage + "/bin/busybox");
  std::stringstream applets(run_tool({in.busybox, "--list"}).out);
  std::string a;
  while (std::getline(applets, a))
    if (!a.empty() && a != "busybox" && !base::exists(stage + "/bin/" + a))
      fs::create_symlink("busybox", stage + "/bin/" + a);
}

// lib/modules/<release> with the closure as plain .ko, its depmod indexes, and
// /etc/fsfault/modules.load: the paths in load order (the guest loads them one by one).
void stage_modules(const std::string& stage, const KernelInfo& k, const std::vector<Module>& load) {
  std::string load_list;
  if (!k.modules_dir.empty()) {
    const std::string mdir = stage + "/lib/modules/" + k.release;
    fs::create_directories(mdir);
    for (auto f : {"modules.builtin", "modules.order", "modules.builtin.modinfo"})
      if (base::exists(k.modules_dir + "/" + f)) fs::copy_file(k.modules_dir + "/" + f, mdir + "/" + f);
    for (auto& m : load) {
      const std::string plain_rel = m.path.substr(0, m.path.find(".ko") + 3);
      fs::create_directories(fs::path(mdir + "/" + plain_rel).parent_path());
      base::write_file(mdir + "/" + plain_rel, read_module(k.modules_dir + "/" + m.path));
      load_list += "/lib/modules/" + k.release + "/" + plain_rel + "\n";
    }
    run_depmod(stage, k.release);
  }
  base::write_file(stage + "/etc/fsfault/modules.load", load_list);
}

}  // namespace

void write_initramfs_archive(const std::string& root, const std::string& out_path) {
  std::vector<std::string> paths;
  for (auto& e : fs::recursive_directory_iterator(root)) paths.push_back(e.path().lexically_relative(root).string());
  std::sort(paths.begin(), paths.end());
  const std::string part = out_path + ".part";
  CpioWriter cpio(part);
  for (auto& p : paths) {
    if (p == "dev/console") continue;
    const std::string full = root + "/" + p;
    struct stat st{};
    if (lstat(full.c_str(), &st) != 0) throw std::runtime_error("initramfs: cannot stat " + full);
    if (S_ISDIR(st.st_mode))
      cpio.add(p, S_IFDIR | (st.st_mode & 07777), 2);
    else if (S_ISLNK(st.st_mode))
      cpio.add(p, S_IFLNK | 0777, 1, "", fs::read_symlink(full).string());
    else if (S_ISREG(st.st_mode))
      cpio.add(p, S_IFREG | (st.st_mode & 07777), 1, base::read_file(full));
  }
  if (std::find(paths.begin(), paths.end(), "dev") != paths.end()) cpio.add("dev/console", S_IFCHR | 0600, 1, "", "", 5, 1);
  cpio.close();
  fs::rename(part, out_path);
}

std::string build_initramfs(const KernelInfo& k, const std::string& guest_bin, const std::string& cache_dir,
                            const std::vector<std::string>& extra_modules, std::ostream& log) {
  const Inputs in = find_inputs(guest_bin);
  const std::vector<Module> load = modules_to_load(k, extra_modules, log);
  const std::string dir = fs::absolute(cache_dir).string() + "/initramfs";
  DirLock lock(dir);
  const std::string out_path = initramfs_path(k, in, load, dir);
  if (base::exists(out_path)) return out_path;

  log << "initramfs: building " << out_path << " (" << load.size() << " modules)\n";
  const std::string stage = out_path + ".stage";
  fs::remove_all(stage);
  stage_userland(stage, in);
  stage_modules(stage, k, load);
  write_initramfs_archive(stage, out_path);
  fs::remove_all(stage);
  return out_path;
}

}  // namespace fsfault::vm
