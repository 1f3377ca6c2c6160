#include "runner/kernel/kernel_build.h"

#include "base/files.h"
#include "base/sha256.h"
#include "process/command_line.h"
#include "process/tool_lookup.h"
#include "runner/kernel/kernel_config.h"
#include "runner/kernel/kernel_source.h"
#include "runner/kernel/requirements.h"
#include "runner/kernel/run_tool.h"

#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <thread>

namespace fsfault::vm {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

// Bumped when the build recipe (targets, order of fragments) changes: old builds are not reused.
constexpr const char* kRecipe = "fsfault kernel build v1: x86_64_defconfig kvm_guest.config fragments trim";

std::string elapsed_text(Clock::time_point since) {
  long s = std::chrono::duration_cast<std::chrono::seconds>(Clock::now() - since).count();
  return std::to_string(s / 60) + "m" + (s % 60 < 10 ? "0" : "") + std::to_string(s % 60) + "s";
}

// The last non-empty line of the build log (what make is at), at most 100 characters.
std::string last_log_line(const std::string& log_path) {
  std::ifstream in(log_path, std::ios::binary | std::ios::ate);
  std::streamoff size = in.tellg();
  if (size <= 0) return "";
  std::streamoff from = size > 400 ? size - 400 : 0;
  in.seekg(from);
  std::string tail(static_cast<size_t>(size - from), '\0');
  in.read(tail.data(), static_cast<std::streamsize>(tail.size()));
  while (!tail.empty() && (tail.back() == '\n' || tail.back() == '\r')) tail.pop_back();
  tail = tail.substr(tail.find_last_of('\n') + 1);
  return trim(tail.substr(0, 100));
}

// One build step, output appended to the log; a progress line every 30 s names the phase, the time
// since the build began and make's latest line. Throws naming the phase and the log on failure.
void run_step(const std::string& phase, const std::vector<std::string>& argv, const std::string& log_path,
              Clock::time_point began, std::ostream& log) {
  log << "kernel build: " << phase << " (" << elapsed_text(began) << ")\n" << std::flush;
  int fd = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) throw std::runtime_error("cannot open the build log " + log_path);
  std::string header = "\n$ " + proc::shell_command(argv) + "\n";
  (void)!::write(fd, header.data(), header.size());
  proc::ProcessOptions o;
  o.stdout_fd = fd;
  o.stderr_fd = fd;
  o.own_group = true;  // make's children die with it
  proc::Child child = proc::Child::spawn(argv, o);
  ::close(fd);
  const auto limit = std::chrono::hours(4);
  std::optional<int> status;
  while (!(status = child.wait_for(std::chrono::seconds(30)))) {
    if (proc::termination_signal() != 0 || Clock::now() - began > limit) {
      child.stop(std::chrono::seconds(2));
      throw std::runtime_error("kernel build: " + phase + " stopped (interrupted or past 4 hours); log " + log_path);
    }
    log << "kernel build: " << phase << ", " << elapsed_text(began) << ": " << last_log_line(log_path) << "\n"
        << std::flush;
  }
  if (*status != 0)
    throw std::runtime_error("kernel build: " + phase + " failed (" + proc::describe_exit(*status) + "); log " +
                             log_path);
}

// x86_64_defconfig + kvm_guest.config, the fragments merged over it, olddefconfig; then every
// fragment option checked, since olddefconfig silently drops one whose dependencies are unmet.
void configure(const KernelSource& src, const std::string& obj, const std::vector<std::string>& fragments,
               const std::string& fragment_requirements, const std::string& log_path, Clock::time_point began,
               std::ostream& log) {
  run_step("make x86_64_defconfig kvm_guest.config",
           {"make", "-C", src.dir, "O=" + obj, "x86_64_defconfig", "kvm_guest.config"}, log_path, began, log);
  std::vector<std::string> merge = {src.dir + "/scripts/kconfig/merge_config.sh", "-m", "-O", obj, obj + "/.config"};
  merge.insert(merge.end(), fragments.begin(), fragments.end());
  run_step("merge_config.sh fsfault's fragments", merge, log_path, began, log);
  run_step("make olddefconfig", {"make", "-C", src.dir, "O=" + obj, "olddefconfig"}, log_path, began, log);
  KernelConfig config = KernelConfig::parse(base::read_file(obj + "/.config"), obj + "/.config");
  auto unmet = unmet_requirements(config, parse_config_fragment(fragment_requirements, "fragments", "kernel build"));
  if (!unmet.empty())
    throw std::runtime_error("kernel build: make olddefconfig dropped what the fragments ask for: " + unmet.front() +
                             (unmet.size() > 1 ? " and " + std::to_string(unmet.size() - 1) + " more" : "") +
                             " (unmet dependencies in " + src.identity + "); log " + log_path);
}

std::string build_key(const KernelSource& src, const std::vector<std::string>& fragments) {
  base::Sha256 h;
  h.update(std::string(kRecipe) + "\n" + src.identity + "\n");
  for (auto& f : fragments) h.update(base::read_file(f) + "\n");
  return h.hex_finish().substr(0, 16);
}

// link -> target's name, replaced atomically: a reader sees the old build or the new one.
void point_link(const std::string& link, const std::string& target) {
  const std::string link_tmp = link + ".tmp";
  fs::remove(link_tmp);
  fs::create_directory_symlink(fs::path(target).filename(), link_tmp);
  fs::rename(link_tmp, link);
}

// out.tmp holds the image and its config, then becomes out; NAME links to the newest out.
void install_build(const std::string& obj, const std::string& out, const std::string& link, const json& record) {
  const std::string tmp = out + ".tmp";
  fs::remove_all(tmp);
  fs::create_directories(tmp + "/arch/x86/boot");
  fs::copy_file(obj + "/arch/x86/boot/bzImage", tmp + "/arch/x86/boot/bzImage");
  fs::copy_file(obj + "/.config", tmp + "/.config");
  base::write_file(tmp + "/build.json", record.dump(2) + "\n");
  fs::remove_all(out);
  fs::rename(tmp, out);
  point_link(link, out);
}

// What a kernel build needs from the machine (Documentation/process/changes.rst), checked before
// the source is fetched so a missing one is one line, not a make error minutes in.
void require_build_tools() {
  std::vector<std::string> missing;
  for (auto tool : {"make", "gcc", "ld", "flex", "bison", "bc", "perl"})
    if (!proc::lookup_tool(tool)) missing.push_back(tool);
  if (!base::exists("/usr/include/gelf.h")) missing.push_back("libelf headers (objtool)");
  if (!base::exists("/usr/include/openssl/opensslv.h")) missing.push_back("OpenSSL headers");
  if (!missing.empty())
    throw std::runtime_error("a kernel build needs " + proc::shell_command(missing) +
                             " (apt-get install build-essential flex bison bc libelf-dev libssl-dev)");
}

KernelSource resolve_source(const KernelBuildRequest& req, std::ostream& log) {
  if (req.source.find('/') != std::string::npos || fs::is_directory(req.source)) return tree_kernel_source(req.source);
  return debian_kernel_source(req.source, req.cache_root, log);
}

}  // namespace

std::string default_kernel_name(const std::string& source, bool fault_injection) {
  std::string label = source;
  if (source.find('/') != std::string::npos || fs::is_directory(source)) {
    fs::path p = fs::absolute(source).lexically_normal();
    label = (p.has_filename() ? p : p.parent_path()).filename().string();  // "tree/" names tree
  }
  return (fault_injection ? "fi-" : "min-") + label;
}

std::string machine_cache_root() {
  if (const char* x = std::getenv("XDG_CACHE_HOME"); x && *x == '/') return std::string(x) + "/fsfault";
  const char* home = std::getenv("HOME");
  return std::string(home && *home ? home : "/root") + "/.cache/fsfault";
}

std::string built_kernel_path(const std::string& cache_root, const std::string& name) {
  if (name.empty() || name.find('/') != std::string::npos) return "";
  const std::string p = cache_root + "/kernels/built/" + name;
  return base::exists(p + "/arch/x86/boot/bzImage") ? p : "";
}

BuiltKernel build_kernel(const KernelBuildRequest& req, std::ostream& log) {
  const auto began = Clock::now();
  const std::string root = fs::absolute(req.cache_root).string();
  require_build_tools();
  KernelSource src = resolve_source(req, log);
  std::vector<std::string> fragments = {req.fragments_dir + "/guest-tests/config",
                                        req.fragments_dir + "/guest-tests/config.optional"};
  if (req.fault_injection) fragments.push_back(req.fragments_dir + "/guest-tests/config.fault-injection");
  fragments.push_back(req.fragments_dir + "/runner/kernel/trim.config");
  BuiltKernel b;
  b.name = req.name.empty() ? default_kernel_name(req.source, req.fault_injection) : req.name;
  b.key = build_key(src, fragments);
  const std::string built = root + "/kernels/built";
  b.dir = built + "/" + b.name + "-" + b.key;
  fs::create_directories(built);
  // One lock per key, not per cache: a build holds its lock for its whole make (30 minutes), and
  // a lookup or build of another kernel must not wait for it (seen: CI's fi-sid lookup stuck
  // behind a fi-trixie build on the same machine).
  DirLock lock(root + "/kernels/locks/" + b.key);
  if (!req.rebuild && base::exists(b.dir + "/build.json")) {
    b.cached = true;
    point_link(built + "/" + b.name, b.dir);
    log << "kernel build: " << b.name << " is cached (" << b.dir << "): --kernel " << b.name << "\n";
    return b;
  }
  const std::string obj = root + "/kernels/obj/" + b.key;
  const std::string log_path = built + "/" + b.name + "-" + b.key + ".log";
  fs::remove(log_path);
  fs::create_directories(obj);
  log << "kernel build: " << b.name << " from " << src.identity << ", log " << log_path << "\n";
  int jobs = req.jobs > 0 ? req.jobs : static_cast<int>(std::thread::hardware_concurrency());
  try {
    configure(src, obj, fragments, fragment_text(req.fragments_dir, req.fault_injection), log_path, began, log);
    run_step("make -j" + std::to_string(jobs) + " bzImage",
             {"make", "-C", src.dir, "O=" + obj, "-j" + std::to_string(jobs), "bzImage"}, log_path, began, log);
  } catch (...) {
    fs::remove_all(obj);  // nothing half-built stays in the cache; the log says what failed
    throw;
  }
  b.seconds = std::chrono::duration_cast<std::chrono::seconds>(Clock::now() - began).count();
  install_build(obj, b.dir, built + "/" + b.name,
                json{{"name", b.name}, {"source", src.identity}, {"fault_injection", req.fault_injection},
                     {"key", b.key}, {"seconds", b.seconds}, {"jobs", jobs}});
  fs::remove_all(obj);  // gigabytes of objects; the image and its config are kept
  log << "kernel build: " << b.name << " done in " << elapsed_text(began) << ": --kernel " << b.name << "\n";
  return b;
}

}  // namespace fsfault::vm
