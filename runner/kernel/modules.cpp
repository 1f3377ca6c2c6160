#include "runner/kernel/modules.h"

#include "runner/kernel/run_tool.h"

#include <archive.h>
#include <archive_entry.h>
#include <libkmod.h>

#include <algorithm>
#include <functional>
#include <memory>
#include <set>
#include <stdexcept>

namespace fsfault::vm {

namespace {

// A kmod_module for the object's lifetime (libkmod counts references).
struct ModuleRef {
  kmod_module* mod = nullptr;
  ~ModuleRef() {
    if (mod) kmod_module_unref(mod);
  }
};

struct ModuleListRef {
  kmod_list* list = nullptr;
  ~ModuleListRef() {
    if (list) kmod_module_unref_list(list);
  }
};

}  // namespace

std::string module_name(const std::string& path) {
  std::string b = path.substr(path.find_last_of('/') + 1);
  auto p = b.find(".ko");
  if (p != std::string::npos) b.resize(p);
  std::replace(b.begin(), b.end(), '-', '_');
  return b;
}

void run_depmod(const std::string& base, const std::string& release) {
  auto dm = run_tool({"depmod", "-b", base, release});
  if (dm.exit_code != 0) throw std::runtime_error("depmod -b " + base + " " + release + ": " + trim(dm.err));
}

ModuleIndex::ModuleIndex(const std::string& modules_dir) : dir_(modules_dir) {
  // No configuration files: the host's /etc/modprobe.d (aliases, blacklists) is not the guest's.
  const char* const no_config[] = {nullptr};
  ctx_ = kmod_new(modules_dir.c_str(), no_config);
  if (!ctx_) throw std::runtime_error("libkmod cannot open " + modules_dir);
}

ModuleIndex::~ModuleIndex() { kmod_unref(ctx_); }

std::optional<std::string> ModuleIndex::path_of(const std::string& name) const {
  ModuleRef m;
  if (kmod_module_new_from_name(ctx_, module_name(name).c_str(), &m.mod) != 0) return std::nullopt;
  const char* p = kmod_module_get_path(m.mod);  // NULL: not in modules.dep.bin
  if (!p) return std::nullopt;
  std::string path = p;
  if (path.rfind(dir_ + "/", 0) == 0) path.erase(0, dir_.size() + 1);
  return path;
}

bool ModuleIndex::is_builtin(const std::string& name) const {
  // The lookup tries modules.dep, the aliases, then modules.builtin.bin; a built-in module is
  // the one it returns without a file.
  ModuleListRef found;
  const std::string n = module_name(name);
  if (kmod_module_new_from_lookup(ctx_, n.c_str(), &found.list) != 0) return false;
  kmod_list* l;
  kmod_list_foreach(l, found.list) {
    kmod_module* m = kmod_module_get_module(l);
    bool builtin = kmod_module_get_name(m) == n && kmod_module_get_path(m) == nullptr;
    kmod_module_unref(m);
    if (builtin) return true;
  }
  return false;
}

std::vector<std::string> ModuleIndex::dependencies_of(const std::string& name) const {
  ModuleRef m;
  if (kmod_module_new_from_name(ctx_, module_name(name).c_str(), &m.mod) != 0) return {};
  ModuleListRef deps;
  deps.list = kmod_module_get_dependencies(m.mod);
  std::vector<std::string> out;
  kmod_list* l;
  kmod_list_foreach(l, deps.list) {
    kmod_module* d = kmod_module_get_module(l);
    out.push_back(kmod_module_get_name(d));
    kmod_module_unref(d);
  }
  return out;
}

std::vector<Module> module_closure(const ModuleIndex& index, const std::vector<std::string>& wanted) {
  std::vector<Module> order;
  std::vector<std::string> missing;
  std::set<std::string> done, active;
  std::function<void(const std::string&)> visit = [&](const std::string& raw) {
    std::string n = module_name(raw);
    if (done.count(n) || active.count(n)) return;
    auto path = index.path_of(n);
    if (!path) {
      if (!index.is_builtin(n)) missing.push_back(raw);
      done.insert(n);
      return;
    }
    active.insert(n);
    for (auto& d : index.dependencies_of(n)) visit(d);
    active.erase(n);
    done.insert(n);
    order.push_back({n, *path});
  };
  for (auto& w : wanted) visit(w);
  if (!missing.empty()) {
    std::string m;
    for (auto& x : missing) m += (m.empty() ? "" : ", ") + x;
    throw std::runtime_error("module(s) not found (neither a module nor built in): " + m);
  }
  return order;
}

std::string read_module(const std::string& path) {
  // The "raw" format takes the one stream the filters (none, gzip, xz, zstd) decompress.
  std::unique_ptr<archive, decltype(&archive_read_free)> a(archive_read_new(), archive_read_free);
  archive_read_support_filter_all(a.get());
  archive_read_support_format_raw(a.get());
  auto fail = [&] {
    const char* why = archive_error_string(a.get());
    return std::runtime_error("reading module " + path + ": " + (why ? why : "unknown libarchive error"));
  };
  archive_entry* entry = nullptr;
  if (archive_read_open_filename(a.get(), path.c_str(), 1 << 16) != ARCHIVE_OK ||
      archive_read_next_header(a.get(), &entry) != ARCHIVE_OK)
    throw fail();
  std::string out;
  char buf[1 << 16];
  for (la_ssize_t n; (n = archive_read_data(a.get(), buf, sizeof buf)) != 0;) {
    if (n < 0) throw fail();
    out.append(buf, static_cast<size_t>(n));
  }
  return out;
}

std::vector<std::string> required_modules() {
  // virtio_pci carries both devices; virtio_blk the disks; virtio_console the fsfault.ctl port.
  return {"virtio_pci", "virtio_blk", "virtio_console"};
}

std::vector<std::string> optional_modules() { return {"xfs", "crc32c_generic", "crc32c_intel"}; }

}  // namespace fsfault::vm
