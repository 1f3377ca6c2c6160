#include "runner/kernel/debian_kernel.h"

#include "base/files.h"
#include "process/command_line.h"
#include "runner/kernel/modules.h"
#include "runner/kernel/private_apt.h"
#include "runner/kernel/run_tool.h"

#include <algorithm>
#include <filesystem>
#include <map>
#include <optional>
#include <sstream>
#include <stdexcept>

namespace fsfault::vm {

namespace fs = std::filesystem;

namespace {

// The kernel a suite's linux-image-cloud-amd64 stands for.
struct Resolution {
  std::string pkg;      // linux-image-<ABI>
  std::string version;  // Debian version, with its epoch
  std::vector<std::string> packages;  // kernel_packages(pkg, its Depends)
};

// The linux-image-<ABI> package `apt-cache depends linux-image-cloud-amd64` names ("" when none).
std::string image_package_of(const std::string& depends_out) {
  std::stringstream ss(depends_out);
  std::string line;
  while (std::getline(ss, line)) {
    auto p = line.find("Depends: ");
    if (p == std::string::npos) continue;
    std::string dep = trim(line.substr(p + 9));
    if (dep.rfind("linux-image-", 0) == 0) return dep;
  }
  return "";
}

// Resolution through apt. Since 6.16 Debian splits a kernel into linux-image-ABI (a stub) that
// depends on linux-binary-ABI (vmlinuz), linux-modules-ABI and linux-base-ABI (modules.builtin,
// modules.order), all with the same version: every linux-*-ABI dependency is fetched, so both
// layouts work. nullopt (apt_error says why) when apt cannot answer.
std::optional<Resolution> resolve_with_apt(const PrivateApt& apt, std::string& apt_error) {
  auto update = run_tool(apt.argv("apt-get", {"update"}), 300);
  apt_error = trim(update.err);
  if (update.exit_code != 0) return std::nullopt;
  Resolution r;
  r.pkg = image_package_of(run_tool(apt.argv("apt-cache", {"depends", "linux-image-cloud-amd64"})).out);
  if (r.pkg.empty()) return std::nullopt;
  auto show = run_tool(apt.argv("apt-cache", {"show", "--no-all-versions", r.pkg}));
  if (show.exit_code != 0) return std::nullopt;
  r.version = control_field(show.out, "Version");
  r.packages = kernel_packages(r.pkg, control_field(show.out, "Depends"));
  if (r.version.empty()) return std::nullopt;
  return r;
}

// apt's answer, remembered in dir/resolved.json; without apt (offline), the remembered one.
Resolution resolve_kernel(const PrivateApt& apt, const std::string& dir, const std::string& suite,
                          const std::string& mirror, std::ostream& log) {
  const std::string resolved_file = dir + "/resolved.json";
  std::string apt_error;
  if (auto r = resolve_with_apt(apt, apt_error)) {
    base::write_file(resolved_file, json{{"package", r->pkg},
                                         {"version", r->version},
                                         {"packages", r->packages},
                                         {"suite", suite},
                                         {"mirror", mirror}}
                                        .dump(2));
    return *r;
  }
  auto cached = base::try_read_file(resolved_file);
  if (!cached)
    throw std::runtime_error("cannot resolve linux-image-cloud-amd64 in " + suite + " from " + mirror +
                             " (apt-get update: " + apt_error + ")");
  auto j = json::parse(*cached);
  Resolution r;
  r.pkg = j["package"].get<std::string>();
  r.version = j["version"].get<std::string>();
  r.packages = j.value("packages", std::vector<std::string>{r.pkg});
  log << "kernel: apt unavailable, using the cached resolution " << r.pkg << " " << r.version << "\n";
  return r;
}

// The packages extracted into root with the module indexes built; root/.complete lists them,
// so a root from another resolution is redone and a complete one reused.
void extract_kernel(const PrivateApt& apt, const Resolution& r, const std::string& root,
                    std::ostream& log) {
  const std::string complete_stamp = proc::shell_command(r.packages) + "\n";
  if (base::try_read_file(root + "/.complete") == complete_stamp) return;
  const std::string tmp = root + ".tmp";
  fs::remove_all(tmp);
  fs::create_directories(tmp);
  for (auto& p : r.packages) {
    std::string deb = fetch_deb(apt, p, r.version, log);
    auto x = run_tool({"dpkg-deb", "-x", deb, tmp});
    if (x.exit_code != 0) throw std::runtime_error("dpkg-deb -x " + deb + ": " + trim(x.err));
  }
  // Newer kernels install under /usr/lib/modules (merged /usr); depmod -b looks in <base>/lib/modules.
  if (!base::exists(tmp + "/lib/modules") && base::exists(tmp + "/usr/lib/modules"))
    fs::create_directory_symlink("usr/lib", tmp + "/lib");
  for (auto& release : list_dir(tmp + "/lib/modules")) run_depmod(tmp, release);
  fs::remove_all(root);
  fs::rename(tmp, root);
  base::write_file(root + "/.complete", complete_stamp);
}

// The modules directory and vmlinuz of an extracted kernel.
void locate_kernel(const std::string& root, const Resolution& r, KernelInfo& k) {
  for (auto& release : list_dir(root + "/lib/modules")) {
    k.release = release;
    k.modules_dir = root + "/lib/modules/" + release;
  }
  // vmlinuz: /boot/vmlinuz-<release> up to 6.12, /usr/lib/modules/<release>/vmlinuz since the split.
  for (auto& f : list_dir(root + "/boot"))
    if (f.rfind("vmlinuz-", 0) == 0) k.image = root + "/boot/" + f;
  if (k.image.empty() && !k.modules_dir.empty() && base::exists(k.modules_dir + "/vmlinuz"))
    k.image = k.modules_dir + "/vmlinuz";
  if (k.image.empty())
    throw std::runtime_error(r.pkg + " " + r.version + ": no vmlinuz in /boot or /usr/lib/modules/<release> of " +
                             proc::shell_command(r.packages));
}

}  // namespace

std::string debian_suite(const std::string& name) {
  static const std::map<std::string, std::string> suites = {
      {"bookworm", "bookworm"}, {"trixie", "trixie"}, {"sid", "sid"}, {"unstable", "sid"}, {"forky", "forky"}};
  auto it = suites.find(name);
  return it == suites.end() ? "" : it->second;
}

KernelInfo provision_debian_kernel(const std::string& name, const std::string& cache_dir, std::ostream& log) {
  const std::string suite = debian_suite(name);
  const std::string dir = fs::absolute(cache_dir).string() + "/" + name;
  DirLock lock(dir);
  const std::string mirror = debian_mirror();
  PrivateApt apt(dir, suite, mirror);
  Resolution r = resolve_kernel(apt, dir, suite, mirror, log);
  const std::string root = dir + "/" + r.pkg + "_" + r.version;
  extract_kernel(apt, r, root, log);
  KernelInfo k;
  k.label = name;
  k.package = r.pkg + " " + r.version;
  locate_kernel(root, r, k);
  k.version_string = bzimage_version(k.image);
  k.version = parse_kernel_version(k.version_string);
  log << "kernel: " << name << " = " << k.package << " (" << k.version.str() << ")\n";
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

std::string mirror_from_texts(const std::vector<std::string>& deb822, const std::string& one_line) {
  for (auto& text : deb822) {
    // Stanzas separated by blank lines; take the first "Types: deb" whose URI is not a security mirror.
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
    if (f.size() > 8 && f.substr(f.size() - 8) == ".sources")
      if (auto text = base::try_read_file(sources_list_d + "/" + f)) texts.push_back(*text);
  std::string m = mirror_from_texts(texts, base::try_read_file(sources_list).value_or(""));
  return m.empty() ? "http://deb.debian.org/debian" : m;
}

}  // namespace fsfault::vm
