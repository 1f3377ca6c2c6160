#include "runner/vm/catalogue_run.h"

#include "runner/kernel/initramfs.h"
#include "runner/kernel/kernel.h"
#include "runner/kernel/requirements.h"
#include "runner/vm/qemu_command.h"
#include "runner/vm/saved_guest.h"
#include "runner/vm/virtiofs_share.h"
#include "runner/vm/vm.h"
#include "runner/vm_config.h"
#include "base/files.h"
#include "process/command_line.h"
#include "process/process.h"

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <map>
#include <mutex>
#include <set>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace fsfault::vm {

namespace fs = std::filesystem;

namespace {

std::string build_dir() {
  std::string bin = base::dirname_of(base::self_exe());
  if (fs::path(bin).filename() == "bin") return base::dirname_of(bin);
  return FSFAULT_BINARY_DIR;
}

std::vector<std::string> collect_files(const std::vector<std::string>& roots) {
  std::vector<std::string> files;
  for (auto& r : roots) {
    if (fs::is_directory(r)) {
      for (auto& e : fs::recursive_directory_iterator(r))
        if (e.is_regular_file() && e.path().extension() == ".toml") files.push_back(e.path().string());
    } else if (fs::exists(r)) {
      files.push_back(r);
    } else {
      throw std::runtime_error("no such scenario file or directory: " + r);
    }
  }
  std::sort(files.begin(), files.end());
  return files;
}

Selection load_all(const std::vector<std::string>& roots) {
  Selection all;
  for (auto& f : collect_files(roots)) {
    try {
      all.scenarios.push_back(load_scenario(f));
    } catch (const std::exception& e) {
      Result r;
      r.name = "invalid/" + fs::path(f).stem().string();
      r.file = f;
      r.outcome.verdict = Verdict::error;
      r.outcome.reasons.push_back(e.what());
      all.invalid.push_back(r);
    }
  }
  return all;
}

// One result line (and its reasons, unless it passed or was skipped).
std::string line_for(const Result& r) {
  char b[64];
  snprintf(b, sizeof b, "%6.1fs", r.outcome.seconds);
  std::string v = verdict_name(r.outcome.verdict);
  for (auto& ch : v) ch = static_cast<char>(toupper(static_cast<unsigned char>(ch)));
  std::string s = v + std::string(8 - std::min<size_t>(7, v.size()), ' ') + r.name + "  " + b;
  if (r.outcome.verdict == Verdict::skip && !r.outcome.reasons.empty()) s += "  (" + r.outcome.reasons.front() + ")";
  s += "\n";
  if (r.outcome.verdict != Verdict::pass && r.outcome.verdict != Verdict::skip)  // xfail: its gaps
    for (auto& x : r.outcome.reasons) s += "        - " + x + "\n";
  return s;
}

// Result lines from several VM threads, whole.
class Printer {
 public:
  void say(const std::string& s) {
    std::lock_guard<std::mutex> g(mutex_);
    std::cout << s << std::flush;
  }
  void say(const Result& r) { say(line_for(r)); }
  std::mutex& mutex() { return mutex_; }

 private:
  std::mutex mutex_;
};

// The fsfault-nbd to serve the disks with. Without it no fault would be injected, so a missing
// binary stops the run before anything boots.
std::string find_nbd_server(const CatalogueOptions& o) {
  if (!o.nbd_server.empty()) {
    std::string p = fs::absolute(o.nbd_server).string();
    if (!base::exists(p)) throw std::runtime_error("--nbd-server " + p + ": no such file");
    return p;
  }
  std::string p = base::dirname_of(base::self_exe()) + "/fsfault-nbd";
  if (!base::exists(p))
    throw std::runtime_error("fsfault-nbd not found: " + p +
                             " does not exist (build the fsfault-nbd target, or pass --nbd-server PATH); "
                             "without it no fault can be injected");
  return p;
}

// Before the first boot: the kernel's config against guest-tests/config for these scenarios. A
// kernel lacking an option fsfault needs would only time out in the guest; name it instead.
void check_requirements(const KernelInfo& k, const std::vector<Scenario>& scenarios) {
  if (!k.config) return;
  const std::string path = std::string(FSFAULT_SOURCE_DIR) + "/guest-tests/config";
  auto reqs = catalogue_requirements(parse_config_fragment(base::read_file(path), path, "fsfault"), scenarios);
  std::vector<std::string> unmet = unmet_requirements(*k.config, reqs);
  for (const auto& r : reqs)
    if (k.modules_dir.empty() && k.config->value(r.option) == "m")
      unmet.push_back(r.option + " is a module, but the kernel has no modules (pass --modules DIR or build it in)");
  if (unmet.empty()) return;
  std::string why;
  for (const auto& u : unmet) why += (why.empty() ? "" : "; ") + u;
  throw std::runtime_error(why + " [config: " + k.config->origin() + "; fragment: " + path + "]");
}

// The kernel, the initramfs with the guest harness and every scenario's modules, the
// accelerator: decided once for the whole catalogue. Throws, with `log` holding the details.
RunConfig provision(const CatalogueOptions& o, const std::vector<Scenario>& scenarios, std::ostringstream& log) {
  RunConfig base;
  base.kernel = provision_kernel(o.kernel, o.modules, o.cache + "/kernels", log);
  check_requirements(base.kernel, scenarios);
  std::vector<std::string> extra;
  for (auto& s : scenarios) extra.insert(extra.end(), s.modules.begin(), s.modules.end());
  std::string guest = base::dirname_of(base::self_exe()) + "/fsfault-guest";
  base.initramfs = build_initramfs(base.kernel, guest, o.cache + "/kernels", extra, log);
  return base;
}

// Accelerator, limits, paths and the repro.sh prefix; prints the accelerator and the kernel.
void configure(const CatalogueOptions& o, RunConfig& base) {
  const KernelInfo& k = base.kernel;
  base.timeout_s = o.timeout_s;
  base.mem_mb = o.mem_mb;
  base.verbose = o.verbose;
  // Built-in recipes first: a catalogue name keeps its meaning whatever --recipes adds.
  base.recipe_dirs = {std::string(FSFAULT_SOURCE_DIR) + "/images/recipes"};
  for (auto& d : o.recipe_dirs) base.recipe_dirs.push_back(fs::absolute(d).lexically_normal().string());
  base.image_cache = o.cache + "/images";
  std::string why;
  if (o.accel == "auto") {
    base.accel = probe_accel(k, base.initramfs, base.qemu, 6, &why);
  } else {
    base.accel = o.accel;
    why = "requested";
  }
  std::cout << "accel: " << base.accel << " (" << why << ")\n";
  std::cout << "kernel: " << (k.version_string.empty() ? k.image : k.version_string) << "\n" << std::flush;
  base.repro_prefix =
      proc::shell_quote(base::self_exe()) + " vm-test --kernel " +
      proc::shell_quote(k.label == o.kernel ? o.kernel : k.image) +
      (o.modules.empty() ? "" : " --modules " + proc::shell_quote(fs::absolute(o.modules).string())) + " --accel " +
      base.accel + " --timeout " + std::to_string(o.timeout_s) + " --nbd-server " +
      proc::shell_quote(base.nbd_server) + " --out \"${OUT:-$(mktemp -d /tmp/fsfault-repro.XXXXXX)}\"";
  for (auto& d : base.recipe_dirs)
    if (&d != &base.recipe_dirs.front()) base.repro_prefix += " --recipes " + proc::shell_quote(d);
  for (auto& sh : o.shares) base.repro_prefix += " --share " + proc::shell_quote(sh.host + ":" + sh.guest);
}

// The saved guest scenarios restore instead of booting, built now when missing or stale; without
// one every scenario boots cold, and the output says why.
void prepare_saved_guest(const CatalogueOptions& o, RunConfig& base, const std::vector<Scenario>& scenarios,
                         const std::vector<bool>& need) {
  if (o.cold) {
    std::cout << "boot: cold for every scenario (--cold)\n";
    return;
  }
  // Disks reach a restored guest by hot-plug into a q35 root port, which QEMU 7.2 signals through
  // ACPI (drivers/pci/hotplug/acpiphp): a kernel with only native PCIe hot-plug never sees them
  // (seen on a defconfig-based 7.2 build: "/dev/vda did not appear").
  if (base.kernel.config && base.kernel.config->value("CONFIG_HOTPLUG_PCI_ACPI") != "y") {
    std::cout << "boot: cold for every scenario (the kernel lacks CONFIG_HOTPLUG_PCI_ACPI, which a restored guest "
                 "needs for its disks)\n";
    return;
  }
  std::ostringstream log;
  try {
    base.saved = ensure_saved_guest(base, o.cache + "/kernels", log);
    bool shares = false;
    for (size_t i = 0; i < scenarios.size(); ++i) shares |= need[i] && !scenario_shares(scenarios[i], o.shares).empty();
    if (shares) base.saved_with_shares = ensure_saved_guest(base, o.cache + "/kernels", log, true);
    std::cout << log.str() << std::flush;
  } catch (const std::exception& e) {
    std::cout << log.str() << "saved guest: " << e.what() << "; every scenario boots cold\n" << std::flush;
  }
}

// Names every result and settles skips and bad kernel gates; true for the scenarios to boot.
std::vector<bool> gate(const std::vector<Scenario>& scenarios, const KernelInfo& kernel,
                       std::vector<Result>& ran, Printer& out) {
  std::vector<bool> need(scenarios.size(), false);
  for (size_t i = 0; i < scenarios.size(); ++i) {
    const Scenario& s = scenarios[i];
    ran[i].name = s.name;
    ran[i].file = s.file;
    std::optional<std::string> skip = s.skip;
    if (!skip) {
      try {
        skip = kernel_gate(s.kernel, kernel.version);
        if (!skip) skip = config_gate(s, kernel.config);
      } catch (const std::exception& e) {
        ran[i].outcome.verdict = Verdict::error;
        ran[i].outcome.reasons.push_back(e.what());
        out.say(ran[i]);
        continue;
      }
    }
    if (skip) {
      ran[i].outcome.verdict = Verdict::skip;
      ran[i].outcome.reasons.push_back(*skip);
      out.say(ran[i]);
      continue;
    }
    need[i] = true;
  }
  return need;
}

// o.jobs VMs at a time, each taking the next scenario; after a signal the rest are "interrupted".
void run_parallel(const CatalogueOptions& o, const RunConfig& base, const std::vector<Scenario>& scenarios,
                  const std::vector<bool>& need, std::vector<Result>& ran, Printer& out) {
  std::atomic<size_t> next{0};
  auto worker = [&] {
    for (;;) {
      size_t i = next++;
      if (i >= scenarios.size()) return;
      if (!need[i]) continue;
      if (proc::termination_signal()) {
        ran[i].outcome.verdict = Verdict::interrupted;
        ran[i].outcome.reasons.push_back("not run: the runner was interrupted");
        continue;
      }
      RunConfig c = base;
      if (!o.out.empty()) c.out_dir = fs::absolute(o.out).string() + "/" + artifact_subdir(scenarios[i].name);
      ran[i].outcome = run_scenario(scenarios[i], c, out.mutex());
      out.say(ran[i]);
    }
  };
  int jobs = std::max(1, std::min<int>(o.jobs, static_cast<int>(scenarios.size())));
  std::vector<std::thread> threads;
  for (int j = 0; j < jobs; ++j) threads.emplace_back(worker);
  for (auto& t : threads) t.join();
}

void write_report(const std::string& path, const std::string& text) {
  if (path.empty()) return;
  if (fs::path(path).has_parent_path()) fs::create_directories(fs::path(path).parent_path());
  base::write_file(path, text);
}

int n_boot(const std::vector<Result>& results, const std::string& mode) {
  return static_cast<int>(std::count_if(results.begin(), results.end(), [&](const Result& r) { return r.outcome.boot == mode; }));
}

// "boots: N restored, M cold", and which booted cold when others were restored.
void print_boots(const std::vector<Result>& results) {
  const int restored = n_boot(results, "restored"), cold = n_boot(results, "cold");
  if (restored + cold == 0) return;
  std::cout << "boots: " << restored << " restored, " << cold << " cold\n";
  if (restored == 0) return;
  for (auto& r : results)
    if (r.outcome.boot == "cold")
      for (auto& n : r.outcome.notes)
        if (n.rfind("cold boot: ", 0) == 0) std::cout << "  " << r.name << ": " << n << "\n";
}

// The summary line and the reports; the exit code.
int summarize(const CatalogueOptions& o, std::vector<Result>& results) {
  std::sort(results.begin(), results.end(), [](const Result& a, const Result& b) { return a.name < b.name; });
  std::map<Verdict, int> n;
  for (auto& r : results) n[r.outcome.verdict]++;
  std::cout << "summary: " << results.size() << " scenarios, " << n[Verdict::pass] << " passed, " << n[Verdict::fail]
            << " failed, " << n[Verdict::skip] << " skipped, " << n[Verdict::timeout] << " timed out, "
            << n[Verdict::error] << " errors"
            << (n[Verdict::interrupted] ? ", " + std::to_string(n[Verdict::interrupted]) + " interrupted" : "")
            << ", " << n[Verdict::xfail] << " known gaps"
            << (n[Verdict::fixed] ? ", " + std::to_string(n[Verdict::fixed]) + " fixed (update the catalogue)" : "")
            << "\n";
  print_boots(results);
  try {
    write_report(o.ktap_file, ktap(results));
    write_report(o.junit_file, junit(results));
  } catch (const std::exception& e) {
    std::cerr << "fsfault vm-test: " << e.what() << "\n";
    return 2;
  }
  if (int sig = proc::termination_signal()) return 128 + sig;
  for (auto& r : results)
    if (verdict_fails(r.outcome.verdict)) return 1;
  return 0;
}

}  // namespace

Selection select_scenarios(const std::vector<std::string>& roots, const std::string& filter,
                           const std::string& shard) {
  Selection all = load_all(roots);
  std::vector<std::string> names;
  for (auto& s : all.scenarios)
    if (name_matches(filter, s.name)) names.push_back(s.name);
  for (auto& b : all.invalid)
    if (name_matches(filter, b.name)) names.push_back(b.name);
  if (!shard.empty()) names = select_shard(names, parse_shard(shard));
  std::set<std::string> chosen(names.begin(), names.end());
  Selection sel;
  std::set<std::string> seen;
  for (auto& s : all.scenarios) {
    if (!chosen.count(s.name)) continue;
    if (!seen.insert(s.name).second)
      throw std::runtime_error("duplicate scenario name " + s.name + " (" + s.file + ")");
    sel.scenarios.push_back(s);
  }
  for (auto& b : all.invalid)
    if (chosen.count(b.name)) sel.invalid.push_back(b);
  return sel;
}

std::string artifact_subdir(const std::string& name) {
  std::string o;
  for (char c : name) o += (isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.' || c == '/') ? c : '_';
  while (o.find("..") != std::string::npos) o.replace(o.find(".."), 2, "__");
  return o;
}

int run_catalogue(CatalogueOptions& o, const std::vector<Scenario>& scenarios, std::vector<Result> preset) {
  proc::install_termination_handlers();
  if (o.cache.empty()) o.cache = build_dir();
  Printer out;
  std::vector<Result> results = std::move(preset);
  for (auto& r : results) out.say(r);
  if (!scenarios.empty()) {
    RunConfig base;
    std::ostringstream log;
    try {
      std::string nbd = find_nbd_server(o);
      base = provision(o, scenarios, log);
      base.nbd_server = nbd;
      base.shares = o.shares;
    } catch (const std::exception& e) {
      std::cerr << log.str() << "fsfault vm-test: " << e.what() << "\n";
      return 2;
    }
    std::cout << log.str();
    configure(o, base);
    std::vector<Result> ran(scenarios.size());
    std::vector<bool> need = gate(scenarios, base.kernel, ran, out);
    if (std::count(need.begin(), need.end(), true) > 0) prepare_saved_guest(o, base, scenarios, need);
    run_parallel(o, base, scenarios, need, ran, out);
    results.insert(results.end(), ran.begin(), ran.end());
  }
  return summarize(o, results);
}

}  // namespace fsfault::vm
