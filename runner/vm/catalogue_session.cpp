#include "runner/vm/catalogue_session.h"

#include "runner/kernel/kernel_build.h"
#include "runner/kernel/kernel_sample.h"

#include "runner/kernel/initramfs.h"
#include "runner/kernel/kernel.h"
#include "runner/kernel/requirements.h"
#include "runner/vm/qemu_command.h"
#include "runner/vm/saved_guest.h"
#include "runner/vm/virtiofs_share.h"
#include "runner/vm_config.h"
#include "base/files.h"
#include "process/command_line.h"
#include "process/process.h"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <stdexcept>

namespace fsfault::vm {

namespace fs = std::filesystem;

namespace {

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

std::string repro_prefix(const CatalogueOptions& o, const RunConfig& base) {
  const KernelInfo& k = base.kernel;
  std::string p =
      proc::shell_quote(base::self_exe()) + " vm-test --kernel " +
      proc::shell_quote(k.label == o.kernel ? o.kernel : k.image) +
      (o.modules.empty() ? "" : " --modules " + proc::shell_quote(fs::absolute(o.modules).string())) + " --accel " +
      base.accel + " --timeout " + std::to_string(o.timeout_s) + " --nbd-server " +
      proc::shell_quote(base.nbd_server) + " --out \"${OUT:-$(mktemp -d /tmp/fsfault-repro.XXXXXX)}\"";
  for (auto& d : base.recipe_dirs)
    if (&d != &base.recipe_dirs.front()) p += " --recipes " + proc::shell_quote(d);
  for (auto& sh : o.shares) p += " --share " + proc::shell_quote(sh.host + ":" + sh.guest);
  return p;
}

}  // namespace

RunConfig provision_session(const CatalogueOptions& o, const std::vector<Scenario>& scenarios,
                            std::ostringstream& log) {
  RunConfig base;
  base.nbd_server = find_nbd_server(o);
  base.kernel = provision_kernel(o.kernel, o.modules, o.cache + "/kernels", log);
  check_requirements(base.kernel, scenarios);
  std::vector<std::string> extra;
  for (auto& s : scenarios) extra.insert(extra.end(), s.modules.begin(), s.modules.end());
  std::string guest = base::dirname_of(base::self_exe()) + "/fsfault-guest";
  base.initramfs = build_initramfs(base.kernel, guest, o.cache + "/kernels", extra, log);
  base.shares = o.shares;
  return base;
}

void configure_session(const CatalogueOptions& o, RunConfig& base) {
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
  base.repro_prefix = repro_prefix(o, base);
}

void prepare_saved_guests(const CatalogueOptions& o, RunConfig& base, bool shares) {
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
    const std::string inputs = saved_guest_inputs(base);  // hashed once for both variants
    base.saved = ensure_saved_guest(base, o.cache + "/kernels", log, false, inputs);
    if (shares) base.saved_with_shares = ensure_saved_guest(base, o.cache + "/kernels", log, true, inputs);
    std::cout << log.str() << std::flush;
  } catch (const std::exception& e) {
    std::cout << log.str() << "saved guest: " << e.what() << "; every scenario boots cold\n" << std::flush;
  }
}

std::optional<Outcome> gate_scenario(const Scenario& s, const KernelInfo& kernel) {
  Outcome out;
  std::optional<std::string> skip = s.skip;
  if (!skip) {
    try {
      skip = kernel_gate(s.kernel, kernel.version);
      if (!skip) skip = config_gate(s, kernel.config);
    } catch (const std::exception& e) {
      out.verdict = Verdict::error;
      out.reasons.push_back(e.what());
      return out;
    }
  }
  if (!skip) return std::nullopt;
  out.verdict = Verdict::skip;
  out.reasons.push_back(*skip);
  return out;
}

std::string result_line(const Result& r) {
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

CatalogueSession::CatalogueSession(const CatalogueOptions& o, const std::vector<Scenario>& sample) : o_(o) {
  std::ostringstream log;
  try {
    base_ = provision_session(o_, sample, log);
  } catch (const std::exception& e) {
    throw std::runtime_error(log.str() + e.what());
  }
  std::cout << log.str();
  configure_session(o_, base_);
  bool shares = std::any_of(sample.begin(), sample.end(),
                            [&](const Scenario& s) { return !scenario_shares(s, o_.shares).empty(); });
  prepare_saved_guests(o_, base_, shares);
}

Result CatalogueSession::run(const Scenario& s, const std::string& out_dir) {
  Result r;
  r.name = s.name;
  r.file = s.file;
  if (proc::termination_signal()) {
    r.outcome.verdict = Verdict::interrupted;
    r.outcome.reasons.push_back("not run: the runner was interrupted");
    return r;
  }
  Scenario expanded = s;  // {kernel-sample:NAME} argv elements: the machine's built samples
  std::optional<std::string> no_sample = expand_kernel_samples(expanded, machine_cache_root());
  if (auto gated = gate_scenario(s, base_.kernel)) {
    r.outcome = *gated;
  } else if (no_sample) {
    r.outcome.verdict = Verdict::skip;
    r.outcome.reasons.push_back(*no_sample);
  } else {
    RunConfig c = base_;
    c.out_dir = out_dir;
    r.outcome = run_scenario(expanded, c, mutex_);
  }
  say(result_line(r));
  return r;
}

void CatalogueSession::say(const std::string& text) {
  std::lock_guard<std::mutex> g(mutex_);
  std::cout << text << std::flush;
}

}  // namespace fsfault::vm
