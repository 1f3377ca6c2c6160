#include "runner/kernel/kernel_source.h"

#include "base/files.h"
#include "base/sha256.h"
#include "runner/kernel/debian_kernel.h"
#include "runner/kernel/private_apt.h"
#include "runner/kernel/run_tool.h"

#include <filesystem>
#include <sstream>
#include <stdexcept>

namespace fsfault::vm {

namespace fs = std::filesystem;

namespace {

struct SourcePackage {
  std::string name;     // linux-source-6.1
  std::string version;  // Debian version
};

// `linux-source` is the suite's metapackage; it depends on linux-source-X.Y, the real one.
SourcePackage resolve_source_package(const PrivateApt& apt, const std::string& suite) {
  auto update = run_tool(apt.argv("apt-get", {"update"}), 300);
  if (update.exit_code != 0)
    throw std::runtime_error("cannot fetch the kernel source of " + suite + ": apt-get update: " + trim(update.err));
  auto show_meta = run_tool(apt.argv("apt-cache", {"show", "--no-all-versions", "linux-source"}));
  std::string depends = control_field(show_meta.out, "Depends");
  SourcePackage p;
  p.name = trim(depends.substr(0, depends.find_first_of(" (,|")));
  if (show_meta.exit_code != 0 || p.name.rfind("linux-source-", 0) != 0)
    throw std::runtime_error("cannot fetch the kernel source of " + suite + ": no linux-source package (" +
                             trim(show_meta.err) + ")");
  auto show = run_tool(apt.argv("apt-cache", {"show", "--no-all-versions", p.name}));
  p.version = control_field(show.out, "Version");
  if (show.exit_code != 0 || p.version.empty())
    throw std::runtime_error("cannot fetch the kernel source of " + suite + ": apt-cache show " + p.name + " failed");
  return p;
}

// The package's /usr/src/linux-source-X.Y.tar.xz unpacked into root (via root.tmp, renamed
// when complete, so an interrupted unpack is never taken for a source tree).
void unpack_source(const PrivateApt& apt, const SourcePackage& p, const std::string& root, std::ostream& log) {
  const std::string tmp = root + ".tmp";
  fs::remove_all(tmp);
  fs::create_directories(tmp + "/deb");
  std::string deb = fetch_deb(apt, p.name, p.version, log, 1800);
  auto x = run_tool({"dpkg-deb", "-x", deb, tmp + "/deb"}, 600);
  if (x.exit_code != 0) throw std::runtime_error("dpkg-deb -x " + deb + ": " + trim(x.err));
  const std::string tarball = tmp + "/deb/usr/src/" + p.name + ".tar.xz";
  if (!base::exists(tarball)) throw std::runtime_error(deb + ": no usr/src/" + p.name + ".tar.xz in it");
  log << "kernel build: unpacking " << p.name << " " << p.version << "\n" << std::flush;
  auto t = run_tool({"tar", "-xf", tarball, "-C", tmp}, 1800);
  if (t.exit_code != 0) throw std::runtime_error("tar -xf " + tarball + ": " + trim(t.err));
  fs::remove_all(tmp + "/deb");
  fs::remove_all(root);
  fs::rename(tmp, root);
}

}  // namespace

KernelSource debian_kernel_source(const std::string& suite_name, const std::string& cache_root, std::ostream& log) {
  const std::string suite = debian_suite(suite_name);
  if (suite.empty())
    throw std::runtime_error("--source " + suite_name + ": neither a Debian suite (bookworm, trixie, sid) nor a directory");
  const std::string dir = fs::absolute(cache_root).string() + "/kernels/source/" + suite_name;
  fs::create_directories(dir);
  DirLock lock(dir);
  PrivateApt apt(dir, suite, debian_mirror());
  SourcePackage p = resolve_source_package(apt, suite);
  const std::string root = dir + "/" + p.name + "_" + p.version;
  if (!base::exists(root + "/" + p.name + "/Makefile")) unpack_source(apt, p, root, log);
  return KernelSource{root + "/" + p.name, p.name + " " + p.version, suite_name};
}

KernelSource tree_kernel_source(const std::string& dir) {
  const std::string top = fs::absolute(dir).lexically_normal().string();
  if (!base::exists(top + "/Makefile") || !base::exists(top + "/arch/x86/Kconfig"))
    throw std::runtime_error("--source " + dir + ": not a kernel source tree (no Makefile and arch/x86/Kconfig)");
  KernelSource s{top, "tree " + top, fs::path(top).filename().string()};
  auto head = run_tool({"git", "-C", top, "rev-parse", "HEAD"}, 60);
  if (head.exit_code == 0) {
    auto diff = run_tool({"git", "-C", top, "diff", "HEAD"}, 300);
    s.identity += " at " + trim(head.out) + " changes " + base::sha256_hex(diff.out).substr(0, 16);
  }
  return s;
}

}  // namespace fsfault::vm
