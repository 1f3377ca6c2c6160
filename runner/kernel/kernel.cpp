#include "runner/kernel/kernel.h"

#include "base/files.h"
#include "base/sha256.h"
#include "process/command_line.h"
#include "process/tool_lookup.h"
#include "process/process.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <stdexcept>

namespace fsfault::vm {

namespace fs = std::filesystem;

namespace {

std::vector<std::string> list_dir(const std::string& d) {
  std::vector<std::string> out;
  std::error_code ec;
  for (auto& e : fs::directory_iterator(d, ec)) out.push_back(e.path().filename().string());
  std::sort(out.begin(), out.end());
  return out;
}

// An exclusive lock on a cache directory, so that two runners (ctest and a
// developer's make vm-test) never fetch or extract into the same place.
class DirLock {
 public:
  explicit DirLock(const std::string& dir) {
    fs::create_directories(dir);
    fd_ = open((dir + "/.lock").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd_ >= 0) flock(fd_, LOCK_EX);
  }
  ~DirLock() {
    if (fd_ >= 0) close(fd_);
  }
  DirLock(const DirLock&) = delete;
  DirLock& operator=(const DirLock&) = delete;

 private:
  int fd_ = -1;
};

// Runs a tool to completion; the limit (seconds) bounds network steps such as apt-get update.
proc::ProcessResult run(const std::vector<std::string>& argv, int limit_s = 120, proc::ProcessOptions opts = {}) {
  opts.timeout = std::chrono::seconds(limit_s);
  auto r = proc::run_process(argv, opts);
  if (r.timed_out) r.err += "\n(killed after " + std::to_string(limit_s) + " s)";
  return r;
}

std::string trim(std::string s) {
  while (!s.empty() && isspace(static_cast<unsigned char>(s.back()))) s.pop_back();
  size_t b = 0;
  while (b < s.size() && isspace(static_cast<unsigned char>(s[b]))) ++b;
  return s.substr(b);
}

}  // namespace

std::string bzimage_version(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return "";
  char hdr[0x210];
  if (!in.read(hdr, sizeof hdr)) return "";
  if (memcmp(hdr + 0x202, "HdrS", 4) != 0) return "";
  unsigned short ptr = 0;
  memcpy(&ptr, hdr + 0x20e, 2);
  if (ptr == 0) return "";
  in.seekg(ptr + 0x200);
  char buf[256] = {};
  in.read(buf, sizeof buf - 1);
  return std::string(buf, strnlen(buf, sizeof buf - 1));
}

std::string mirror_from_texts(const std::vector<std::string>& deb822, const std::string& one_line) {
  for (auto& text : deb822) {
    // Stanzas separated by blank lines; take the first "Types: deb" whose
    // URI is not a security mirror.
    std::stringstream ss(text + "\n\n");
    std::string line, types, uris;
    while (std::getline(ss, line)) {
      std::string t = trim(line);
      if (t.empty()) {
        if (types.find("deb") != std::string::npos && !uris.empty()) {
          std::stringstream us(uris);
          std::string u;
          while (us >> u)
            if (u.find("security") == std::string::npos) return u;
        }
        types.clear();
        uris.clear();
        continue;
      }
      if (t[0] == '#') continue;
      if (t.rfind("Types:", 0) == 0) types = " " + t.substr(6) + " ";
      if (t.rfind("URIs:", 0) == 0) uris = t.substr(5);
    }
  }
  std::stringstream ss(one_line);
  std::string line;
  while (std::getline(ss, line)) {
    std::stringstream ls(trim(line));
    std::string w;
    ls >> w;
    if (w != "deb") continue;
    while (ls >> w) {
      if (w[0] == '[') {
        while (w.back() != ']' && ls >> w) {
        }
        continue;
      }
      if (w.find("security") == std::string::npos) return w;
      break;
    }
  }
  return "";
}

std::string debian_mirror(const std::string& sources_list_d, const std::string& sources_list) {
  std::vector<std::string> texts;
  for (auto& f : list_dir(sources_list_d))
    if (f.size() > 8 && f.substr(f.size() - 8) == ".sources") {
      try {
        texts.push_back(base::read_file(sources_list_d + "/" + f));
      } catch (...) {
      }
    }
  std::string one;
  try {
    one = base::read_file(sources_list);
  } catch (...) {
  }
  std::string m = mirror_from_texts(texts, one);
  return m.empty() ? "http://deb.debian.org/debian" : m;
}

KernelInfo provision_kernel(const std::string& name, const std::string& modules_dir, const std::string& cache_dir,
                            std::ostream& log) {
  KernelInfo k;
  k.label = name;
  static const std::map<std::string, std::string> suites = {
      {"bookworm", "bookworm"}, {"trixie", "trixie"}, {"sid", "sid"}, {"unstable", "sid"}, {"forky", "forky"}};
  auto fill_version = [&] {
    k.version_string = bzimage_version(k.image);
    k.version = parse_kernel_version(k.version_string);
  };
  if (name.find('/') != std::string::npos || base::exists(name) || !suites.count(name)) {
    if (!base::exists(name))
      throw std::runtime_error("--kernel " + name + ": neither a known name (bookworm, trixie, sid) nor a file");
    k.image = fs::absolute(name).string();
    fill_version();
    if (!modules_dir.empty()) {
      std::string d = fs::absolute(modules_dir).string();
      if (base::exists(d + "/modules.order") || base::exists(d + "/modules.dep") || base::exists(d + "/modules.builtin")) {
        k.modules_dir = d;
      } else {
        for (auto base : {d + "/lib/modules", d + "/usr/lib/modules"})
          for (auto& r : list_dir(base))
            if (k.modules_dir.empty()) k.modules_dir = base + "/" + r;
      }
      if (k.modules_dir.empty()) throw std::runtime_error("--modules " + modules_dir + ": no modules tree found");
      k.release = fs::path(k.modules_dir).filename().string();
      if (!base::exists(k.modules_dir + "/modules.dep")) {
        // A `make modules_install INSTALL_MOD_PATH=` tree has modules.dep; an extracted package
        // (or a bare copy) may not. depmod -b wants <base>/lib/modules/<release>: give it one
        // whose <release> links to the tree, so modules.dep lands in the tree itself.
        std::string base = fs::absolute(cache_dir).string() + "/depmod-base";
        fs::remove_all(base);
        fs::create_directories(base + "/lib/modules");
        fs::create_directory_symlink(k.modules_dir, base + "/lib/modules/" + k.release);
        auto dm = run({"depmod", "-b", base, k.release});
        fs::remove_all(base);
        if (dm.exit_code != 0 || !base::exists(k.modules_dir + "/modules.dep"))
          throw std::runtime_error("depmod -b for " + k.modules_dir + " failed: " + trim(dm.err));
      }
    }
    log << "kernel: " << k.image << " (" << (k.version_string.empty() ? "version unknown" : k.version_string)
        << ")" << (k.modules_dir.empty() ? ", no modules" : ", modules " + k.modules_dir) << "\n";
    return k;
  }

  const std::string suite = suites.at(name);
  const std::string dir = fs::absolute(cache_dir).string() + "/" + name;
  DirLock lock(dir);
  fs::create_directories(dir + "/sources");
  fs::create_directories(dir + "/lists/partial");
  fs::create_directories(dir + "/cache/archives/partial");
  fs::create_directories(dir + "/debs");
  const std::string mirror = debian_mirror();
  base::write_file(dir + "/sources/fsfault-kernel.sources",
             "Types: deb\nURIs: " + mirror + "\nSuites: " + suite +
                 "\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n");
  // Private state: the machine's own sources, lists and caches stay untouched.
  std::vector<std::string> opts = {"-o", "Dir::Etc::SourceList=/dev/null",
                                   "-o", "Dir::Etc::SourceParts=" + dir + "/sources",
                                   "-o", "Dir::State::Lists=" + dir + "/lists",
                                   "-o", "Dir::Cache=" + dir + "/cache",
                                   "-o", "Dir::Etc::PreferencesParts=" + dir + "/sources",
                                   "-o", "Debug::NoLocking=1",
                                   "-o", "APT::Sandbox::User=root",
                                   "-o", "Acquire::Languages=none"};
  auto apt = [&](const std::string& tool, std::vector<std::string> args) {
    std::vector<std::string> a = {tool, "-q"};
    a.insert(a.end(), opts.begin(), opts.end());
    a.insert(a.end(), args.begin(), args.end());
    return a;
  };
  // Resolution: the meta-package names the kernel's image package; since 6.16 Debian splits a
  // kernel into linux-image-ABI (a stub) that depends on linux-binary-ABI (vmlinuz),
  // linux-modules-ABI and linux-base-ABI (modules.builtin, modules.order), all with the same
  // version. Every linux-*-ABI dependency is fetched, so both layouts work.
  std::string resolved_file = dir + "/resolved.json";
  std::string pkg, version, apt_error;
  std::vector<std::string> packages;
  auto update = run(apt("apt-get", {"update"}), 300);
  apt_error = trim(update.err);
  if (update.exit_code == 0) {
    auto deps = run(apt("apt-cache", {"depends", "linux-image-cloud-amd64"}));
    std::stringstream ss(deps.out);
    std::string line;
    while (std::getline(ss, line)) {
      auto p = line.find("Depends: ");
      if (p == std::string::npos) continue;
      std::string dep = trim(line.substr(p + 9));
      if (dep.rfind("linux-image-", 0) == 0) {
        pkg = dep;
        break;
      }
    }
    if (!pkg.empty()) {
      auto show = run(apt("apt-cache", {"show", "--no-all-versions", pkg}));
      if (show.exit_code == 0) {
        version = control_field(show.out, "Version");
        packages = kernel_packages(pkg, control_field(show.out, "Depends"));
      }
    }
  }
  if (pkg.empty() || version.empty()) {
    if (!base::exists(resolved_file))
      throw std::runtime_error("cannot resolve linux-image-cloud-amd64 in " + suite + " from " + mirror +
                               " (apt-get update: " + apt_error + ")");
    auto j = json::parse(base::read_file(resolved_file));
    pkg = j["package"];
    version = j["version"];
    packages = j.value("packages", std::vector<std::string>{pkg});
    log << "kernel: apt unavailable, using the cached resolution " << pkg << " " << version << "\n";
  } else {
    base::write_file(resolved_file, json{{"package", pkg},
                                   {"version", version},
                                   {"packages", packages},
                                   {"suite", suite},
                                   {"mirror", mirror}}
                                  .dump(2));
  }
  k.package = pkg + " " + version;
  std::string root = dir + "/" + pkg + "_" + version;
  // .complete lists the packages extracted into root: a root from another resolution is redone.
  std::string complete_stamp = proc::shell_command(packages) + "\n";
  std::string have_stamp;
  try {
    have_stamp = base::read_file(root + "/.complete");
  } catch (...) {
  }
  if (have_stamp != complete_stamp) {
    std::string tmp = root + ".tmp";
    fs::remove_all(tmp);
    fs::create_directories(tmp);
    // A .deb's file name carries the version without its epoch.
    const std::string file_version = version.substr(version.find(':') + 1);
    for (auto& p : packages) {
      std::string deb;
      for (auto& f : list_dir(dir + "/debs"))
        if (f.rfind(p + "_" + file_version + "_", 0) == 0) deb = f;
      if (deb.empty()) {
        log << "kernel: fetching " << p << " " << version << " (" << suite << ")\n" << std::flush;
        proc::ProcessOptions in_debs;
        in_debs.cwd = dir + "/debs";  // apt-get download writes into the current directory
        auto dl = run(apt("apt-get", {"download", p + "=" + version}), 900, in_debs);
        if (dl.exit_code != 0) throw std::runtime_error("apt-get download " + p + "=" + version + ": " + trim(dl.err));
        for (auto& f : list_dir(dir + "/debs"))
          if (f.rfind(p + "_" + file_version + "_", 0) == 0) deb = f;
        if (deb.empty()) throw std::runtime_error("apt-get download " + p + " produced no .deb");
      }
      auto x = run({"dpkg-deb", "-x", dir + "/debs/" + deb, tmp});
      if (x.exit_code != 0) throw std::runtime_error("dpkg-deb -x " + deb + ": " + trim(x.err));
    }
    // Newer kernels install under /usr/lib/modules (merged /usr); depmod -b
    // looks in <base>/lib/modules.
    if (!base::exists(tmp + "/lib/modules") && base::exists(tmp + "/usr/lib/modules")) fs::create_directory_symlink("usr/lib", tmp + "/lib");
    for (auto& r : list_dir(tmp + "/lib/modules")) {
      auto dm = run({"depmod", "-b", tmp, r});
      if (dm.exit_code != 0) throw std::runtime_error("depmod -b " + tmp + " " + r + ": " + trim(dm.err));
    }
    fs::remove_all(root);
    fs::rename(tmp, root);
    base::write_file(root + "/.complete", complete_stamp);
  }
  for (auto& r : list_dir(root + "/lib/modules")) {
    k.release = r;
    k.modules_dir = root + "/lib/modules/" + r;
  }
  // vmlinuz: /boot/vmlinuz-<release> up to 6.12, /usr/lib/modules/<release>/vmlinuz since the split.
  for (auto& f : list_dir(root + "/boot"))
    if (f.rfind("vmlinuz-", 0) == 0) k.image = root + "/boot/" + f;
  if (k.image.empty() && !k.modules_dir.empty() && base::exists(k.modules_dir + "/vmlinuz"))
    k.image = k.modules_dir + "/vmlinuz";
  if (k.image.empty())
    throw std::runtime_error(pkg + " " + version + ": no vmlinuz in /boot or /usr/lib/modules/<release> of " +
                             proc::shell_command(packages));
  fill_version();
  log << "kernel: " << name << " = " << pkg << " " << version << " (" << k.version.str() << ")\n";
  return k;
}

std::string control_field(const std::string& stanza, const std::string& field) {
  std::stringstream ss(stanza);
  std::string line;
  const std::string prefix = field + ":";
  while (std::getline(ss, line))
    if (line.rfind(prefix, 0) == 0) return trim(line.substr(prefix.size()));
  return "";
}

std::vector<std::string> kernel_packages(const std::string& image_pkg, const std::string& depends) {
  // The ABI suffix ("6.1.0-50-cloud-amd64", "7.2.13+deb14-cloud-amd64") names the sibling packages.
  const std::string abi = image_pkg.substr(std::string("linux-image-").size());
  std::vector<std::string> out = {image_pkg};
  std::stringstream ss(depends);
  std::string item;
  while (std::getline(ss, item, ',')) {
    // "a | b (>= 1)": alternatives never name a kernel part; take the first name.
    item = trim(item);
    std::string name = item.substr(0, item.find_first_of(" (|"));
    if (name.rfind("linux-", 0) == 0 && name.size() > abi.size() + 1 &&
        name.compare(name.size() - abi.size(), abi.size(), abi) == 0 && name[name.size() - abi.size() - 1] == '-' &&
        std::find(out.begin(), out.end(), name) == out.end())
      out.push_back(name);
  }
  return out;
}

std::string module_name(const std::string& path) {
  std::string b = path.substr(path.find_last_of('/') + 1);
  auto p = b.find(".ko");
  if (p != std::string::npos) b.resize(p);
  std::replace(b.begin(), b.end(), '-', '_');
  return b;
}

ModuleDb parse_module_db(const std::string& modules_dep, const std::string& modules_builtin) {
  ModuleDb db;
  std::stringstream ss(modules_dep);
  std::string line;
  while (std::getline(ss, line)) {
    auto colon = line.find(':');
    if (colon == std::string::npos) continue;
    std::string path = trim(line.substr(0, colon));
    std::string n = module_name(path);
    db.path_of[n] = path;
    std::stringstream ds(line.substr(colon + 1));
    std::string d;
    auto& deps = db.deps_of[n];
    while (ds >> d) deps.push_back(module_name(d));
  }
  std::stringstream bs(modules_builtin);
  while (std::getline(bs, line))
    if (!trim(line).empty()) db.builtin.insert(module_name(trim(line)));
  return db;
}

std::vector<std::string> module_closure(const ModuleDb& db, const std::vector<std::string>& wanted) {
  std::vector<std::string> order, missing;
  std::set<std::string> done, active;
  std::function<void(const std::string&)> visit = [&](const std::string& raw) {
    std::string n = module_name(raw);
    if (done.count(n) || active.count(n)) return;
    if (!db.path_of.count(n)) {
      if (!db.builtin.count(n)) missing.push_back(raw);
      done.insert(n);
      return;
    }
    active.insert(n);
    auto it = db.deps_of.find(n);
    if (it != db.deps_of.end())
      for (auto& d : it->second) visit(d);
    active.erase(n);
    done.insert(n);
    order.push_back(n);
  };
  for (auto& w : wanted) visit(w);
  if (!missing.empty()) {
    std::string m;
    for (auto& x : missing) m += (m.empty() ? "" : ", ") + x;
    throw std::runtime_error("module(s) not found (neither a module nor built in): " + m);
  }
  return order;
}

std::vector<std::string> required_modules() {
  // virtio_pci carries both devices; virtio_blk the disks; virtio_console
  // the fsfault.ctl port.
  return {"virtio_pci", "virtio_blk", "virtio_console"};
}

std::vector<std::string> optional_modules() { return {"xfs", "crc32c_generic", "crc32c_intel"}; }

std::string cpio_newc(const std::string& root) {
  // The "newc" format (Documentation/driver-api/early-userspace/buffer-format.rst):
  // "070701", 13 eight-digit hex fields, the NUL-terminated name, padding to
  // 4 bytes, the data, padding to 4 bytes; "TRAILER!!!" ends the archive.
  // Sorted names, owner root, fixed mtime: the same tree gives the same bytes.
  std::vector<std::string> paths;
  for (auto& e : fs::recursive_directory_iterator(root)) paths.push_back(e.path().lexically_relative(root).string());
  std::sort(paths.begin(), paths.end());
  std::string out;
  unsigned ino = 1;
  auto pad4 = [&] {
    while (out.size() % 4) out.push_back('\0');
  };
  auto entry = [&](const std::string& name, unsigned mode, const std::string& data, unsigned nlink,
                   unsigned rmaj = 0, unsigned rmin = 0) {
    char hdr[111];
    snprintf(hdr, sizeof hdr, "070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X", ino++, mode, 0u, 0u,
             nlink, 0u, static_cast<unsigned>(data.size()), 0u, 0u, rmaj, rmin,
             static_cast<unsigned>(name.size() + 1), 0u);
    out.append(hdr, 110);
    out.append(name);
    out.push_back('\0');
    pad4();
    out.append(data);
    pad4();
  };
  // The kernel opens /dev/console for init before devtmpfs is mounted
  // (init/main.c, console_on_rootfs()): ship the node.
  bool have_dev = std::find(paths.begin(), paths.end(), "dev") != paths.end();
  for (auto& p : paths) {
    if (p == "dev/console") continue;
    std::string full = root + "/" + p;
    struct stat st{};
    if (lstat(full.c_str(), &st) != 0) throw std::runtime_error("cpio: cannot stat " + full);
    if (S_ISDIR(st.st_mode)) {
      entry(p, S_IFDIR | (st.st_mode & 07777), "", 2);
    } else if (S_ISLNK(st.st_mode)) {
      entry(p, S_IFLNK | 0777, fs::read_symlink(full).string(), 1);
    } else if (S_ISREG(st.st_mode)) {
      entry(p, S_IFREG | (st.st_mode & 07777), base::read_file(full), 1);
    }
  }
  if (have_dev) entry("dev/console", S_IFCHR | 0600, "", 1, 5, 1);
  ino = 0;
  entry("TRAILER!!!", 0, "", 1);
  return out;
}

std::string build_initramfs(const KernelInfo& k, const std::string& guest_bin, const std::string& cache_dir,
                            const std::vector<std::string>& extra_modules, std::ostream& log) {
  auto busybox_path = proc::lookup_tool("busybox");
  if (!busybox_path) throw std::runtime_error("busybox (busybox-static) not found on PATH");
  if (!base::exists(guest_bin)) throw std::runtime_error("guest harness not found: " + guest_bin);
  const std::string busybox = busybox_path->string();

  std::vector<std::string> load;  // module names, load order
  ModuleDb db;
  if (!k.modules_dir.empty()) {
    std::string builtin;
    try {
      builtin = base::read_file(k.modules_dir + "/modules.builtin");
    } catch (...) {
    }
    db = parse_module_db(base::read_file(k.modules_dir + "/modules.dep"), builtin);
    std::vector<std::string> want = required_modules();
    for (auto& m : optional_modules())
      if (db.path_of.count(m)) want.push_back(m);
    for (auto& m : extra_modules)
      if (db.path_of.count(module_name(m)) || db.builtin.count(module_name(m))) want.push_back(m);
      else log << "initramfs: warning: module " << m << " is not available for " << k.release << "\n";
    load = module_closure(db, want);
  } else {
    log << "initramfs: no modules: virtio_pci, virtio_blk and virtio_console must be built into the kernel\n";
  }

  // Cache key: every input's content or identity.
  base::Sha256 key;
  key.update("fsfault-initramfs-v3\n");
  key.update(base::sha256_file(guest_bin) + "\n");
  key.update(base::sha256_file(busybox) + "\n");
  key.update(k.release + "|" + k.modules_dir + "\n");
  for (auto& n : load) {
    struct stat st{};
    std::string p = k.modules_dir + "/" + db.path_of[n];
    stat(p.c_str(), &st);
    key.update(n + ":" + std::to_string(st.st_size) + ":" + std::to_string(st.st_mtime) + "\n");
  }
  const std::string dir = fs::absolute(cache_dir).string() + "/initramfs";
  DirLock lock(dir);
  std::string safe = k.release.empty() ? "custom" : k.release;
  std::string out_path = dir + "/" + safe + "-" + key.hex_finish().substr(0, 16) + ".cpio.gz";
  if (base::exists(out_path)) return out_path;

  log << "initramfs: building " << out_path << " (" << load.size() << " modules)\n";
  std::string stage = out_path + ".stage";
  fs::remove_all(stage);
  for (auto d : {"bin", "sbin", "dev", "proc", "sys", "mnt", "tmp", "etc/fsfault", "lib/modules"})
    fs::create_directories(stage + "/" + d);
  fs::copy_file(guest_bin, stage + "/init");
  fs::copy_file(busybox, stage + "/bin/busybox");
  std::stringstream as(run({busybox, "--list"}).out);
  std::string a;
  while (std::getline(as, a))
    if (!a.empty() && a != "busybox" && !base::exists(stage + "/bin/" + a)) fs::create_symlink("busybox", stage + "/bin/" + a);
  std::string load_list;
  if (!k.modules_dir.empty()) {
    std::string mdir = stage + "/lib/modules/" + k.release;
    fs::create_directories(mdir);
    for (auto f : {"modules.builtin", "modules.order", "modules.builtin.modinfo"})
      if (base::exists(k.modules_dir + "/" + f)) fs::copy_file(k.modules_dir + "/" + f, mdir + "/" + f);
    for (auto& n : load) {
      std::string rel = db.path_of[n];
      std::string src = k.modules_dir + "/" + rel;
      std::string dst_rel = rel.substr(0, rel.find(".ko") + 3);
      std::string dst = mdir + "/" + dst_rel;
      fs::create_directories(fs::path(dst).parent_path());
      if (rel.size() > 3 && rel.substr(rel.size() - 3) == ".ko") {
        fs::copy_file(src, dst);
      } else {
        // busybox modprobe and finit_module(flags=0) want plain .ko.
        std::string tool = rel.find(".ko.xz") != std::string::npos    ? "xz"
                           : rel.find(".ko.zst") != std::string::npos ? "zstd"
                                                                      : "gzip";
        auto plain = run({tool, "-dc", src});
        if (plain.exit_code != 0) throw std::runtime_error("decompressing " + src + ": " + trim(plain.err));
        base::write_file(dst, plain.out);
      }
      load_list += "/lib/modules/" + k.release + "/" + dst_rel + "\n";
    }
    auto dm = run({"depmod", "-b", stage, k.release});
    if (dm.exit_code != 0) throw std::runtime_error("depmod -b " + stage + ": " + trim(dm.err));
  }
  base::write_file(stage + "/etc/fsfault/modules.load", load_list);
  base::write_file(out_path + ".cpio", cpio_newc(stage));
  auto gz = run({"gzip", "-1", "-n", "-f", out_path + ".cpio"});
  if (gz.exit_code != 0) throw std::runtime_error("gzip: " + trim(gz.err));
  fs::rename(out_path + ".cpio.gz", out_path);
  fs::remove_all(stage);
  return out_path;
}

}  // namespace fsfault::vm
