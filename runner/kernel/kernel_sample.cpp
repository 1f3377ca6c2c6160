#include "runner/kernel/kernel_sample.h"

#include "runner/kernel/kernel_source.h"
#include "runner/kernel/run_tool.h"

#include "process/command_line.h"
#include "process/tool_lookup.h"

#include <filesystem>
#include <stdexcept>

namespace fs = std::filesystem;

namespace fsfault::vm {

namespace {

// The samples fsfault knows, by the path of their one source file in the kernel tree.
std::optional<std::string> sample_source(const std::string& name) {
  if (name == "fs-monitor") return "samples/fanotify/fs-monitor.c";
  return std::nullopt;
}

std::string samples_dir(const std::string& cache_root) { return cache_root + "/kernels/samples"; }

constexpr const char* kOpen = "{kernel-sample:";

// Each "{kernel-sample:NAME}" element replaced; the first missing sample is returned.
std::optional<std::string> expand_steps(json& steps, const std::string& cache_root) {
  for (auto& st : steps) {
    if (!st.is_object()) continue;
    if (st.contains("steps") && st["steps"].is_array())
      if (auto missing = expand_steps(st["steps"], cache_root)) return missing;
    if (!st.contains("argv") || !st["argv"].is_array()) continue;
    for (auto& a : st["argv"]) {
      if (!a.is_string()) continue;
      std::string v = a.get<std::string>();
      if (v.rfind(kOpen, 0) != 0 || v.back() != '}') continue;
      std::string name = v.substr(std::string(kOpen).size(), v.size() - std::string(kOpen).size() - 1);
      if (!sample_source(name)) return "argv element " + v + ": no kernel sample of that name (known: fs-monitor)";
      auto path = kernel_sample_path(name, cache_root);
      if (!path) return "kernel sample " + name + " is not built: run `fsfault kernel sample " + name + "`";
      a = *path;
    }
  }
  return std::nullopt;
}

}  // namespace

BuiltSample build_kernel_sample(const std::string& name, const std::string& suite, const std::string& cache_root,
                                std::ostream& log) {
  auto rel = sample_source(name);
  if (!rel) throw std::runtime_error("no kernel sample named " + name + " (known: fs-monitor)");
  KernelSource src = debian_kernel_source(suite, cache_root, log);
  // .../source/<suite>/<package>_<version>/<tree>: one build per unpacked package version.
  std::string version = fs::path(src.dir).parent_path().filename().string();
  std::string dir = samples_dir(cache_root) + "/" + suite + "/" + version;
  fs::create_directories(dir);
  // One lock for the check, the compile and the link: two runs at once compile once, and the
  // stable link is replaced by one of them at a time. A compile takes seconds.
  DirLock lock(samples_dir(cache_root));
  BuiltSample b{dir + "/" + name, fs::exists(dir + "/" + name)};
  if (!b.cached) {
    std::string tmp = b.path + ".tmp";
    std::vector<std::string> argv{proc::find_tool("cc").string(), "-O2", "-Wall", "-o", tmp, src.dir + "/" + *rel};
    log << "kernel sample: " << proc::describe_command(argv) << "\n";
    proc::ProcessResult r = run_tool(argv);
    proc::require_success(r, argv);
    fs::rename(tmp, b.path);
  }
  // The stable name a scenario's {kernel-sample:NAME} resolves through: the newest build.
  std::string link = samples_dir(cache_root) + "/" + name, tmp_link = link + ".new";
  fs::remove(tmp_link);
  fs::create_symlink(fs::relative(b.path, samples_dir(cache_root)), tmp_link);
  fs::rename(tmp_link, link);
  return b;
}

std::optional<std::string> kernel_sample_path(const std::string& name, const std::string& cache_root) {
  std::error_code ec;
  fs::path p = fs::canonical(samples_dir(cache_root) + "/" + name, ec);
  if (ec || !fs::is_regular_file(p, ec)) return std::nullopt;
  return p.string();
}

std::optional<std::string> expand_kernel_samples(Scenario& s, const std::string& cache_root) {
  json steps = s.steps;
  if (auto missing = expand_steps(steps, cache_root)) return missing;
  s.steps = std::move(steps);
  return std::nullopt;
}

}  // namespace fsfault::vm
