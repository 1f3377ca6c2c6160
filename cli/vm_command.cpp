#include "cli/vm_command.h"

#include "runner/repro/repro.h"
#include "runner/repro/repro_report.h"
#include "runner/scenario/shares.h"
#include "runner/vm/catalogue_run.h"
#include "runner/vm_config.h"
#include "base/files.h"

#include <CLI/CLI.hpp>

#include <filesystem>
#include <iostream>
#include <memory>

namespace fsfault::vm {

namespace fs = std::filesystem;

namespace {

struct VmTestOptions {
  CatalogueOptions run;
  std::string filter;
  bool list = false;
  std::string shard;
  std::vector<std::string> scenarios;
  std::vector<std::string> shares;  // HOST[:GUEST]
};

struct ReproOptions {
  CatalogueOptions run;
  std::string schedule, workload;
  ReproDisk disk;
  long long seed = -1;
  bool no_accounting = false;
};

void add_common(CLI::App* c, CatalogueOptions& o) {
  c->add_option("--kernel", o.kernel, "bookworm (default), trixie, sid, or a bzImage path");
  c->add_option("--modules", o.modules, "modules tree for --kernel PATH (lib/modules/<release> or its root)");
  c->add_option("--out", o.out, "keep per-scenario artifacts under DIR");
  c->add_option("--ktap", o.ktap_file, "write KTAP v1 results");
  c->add_option("--junit", o.junit_file, "write JUnit XML results");
  c->add_option("--accel", o.accel, "auto (probe KVM, else TCG), kvm or tcg")
      ->check(CLI::IsMember({"auto", "kvm", "tcg"}));
  c->add_option("--timeout", o.timeout_s, "per-scenario timeout in seconds")->check(CLI::PositiveNumber);
  c->add_option("--nbd-server", o.nbd_server, "fsfault-nbd binary (default: next to fsfault)");
  c->add_option("--cache", o.cache, "cache directory for kernels and images (default: the build directory)");
  c->add_option("--mem", o.mem_mb, "guest memory in MiB");
  c->add_flag("-v,--verbose", o.verbose);
  c->add_flag("--cold", o.cold, "boot every scenario's guest instead of restoring the saved one");
  c->add_option("--recipes", o.recipe_dirs,
                "a folder of image recipes (NAME.toml), searched for recipe names after images/recipes (repeatable)")
      ->check(CLI::ExistingDirectory);
}

[[noreturn]] void fail(const char* command, const std::string& why) {
  std::cerr << "fsfault " << command << ": " << why << "\n";
  throw CLI::RuntimeError(2);
}

void vm_test(VmTestOptions& o) {
  std::vector<std::string> roots = o.scenarios;
  if (roots.empty()) roots.push_back(std::string(FSFAULT_SOURCE_DIR) + "/guest-tests/scenarios");
  Selection sel;
  try {
    sel = select_scenarios(roots, o.filter, o.shard);
  } catch (const std::exception& e) {
    fail("vm-test", e.what());
  }
  if (o.list) {
    for (auto& s : sel.scenarios)
      std::cout << s.name << "\t" << s.file << (s.kernel.empty() ? "" : "\tkernel " + s.kernel) << "\n";
    for (auto& b : sel.invalid)
      std::cout << b.name << "\t" << b.file << "\tINVALID: " << b.outcome.reasons.front() << "\n";
    return;
  }
  if (sel.scenarios.empty() && sel.invalid.empty()) fail("vm-test", "no scenario selected");
  try {
    for (auto& a : o.shares) o.run.shares.push_back(parse_share_argument(a));
  } catch (const std::exception& e) {
    fail("vm-test", e.what());
  }
  if (int rc = run_catalogue(o.run, sel.scenarios, sel.invalid)) throw CLI::RuntimeError(rc);
}

void register_vm_test(CLI::App& app) {
  auto o = std::make_shared<VmTestOptions>();
  auto* vt = app.add_subcommand("vm-test", "boot a kernel on fsfault disks, run the scenario catalogue, judge");
  add_common(vt, o->run);
  vt->add_option("--filter", o->filter, "only scenarios whose name matches GLOB (comma-separated globs)");
  vt->add_flag("--list", o->list, "list the selected scenarios and exit");
  vt->add_option("--shard", o->shard, "run shard K of N (1-based), a stable partition");
  vt->add_option("--jobs,-j", o->run.jobs, "parallel VMs")->check(CLI::PositiveNumber);
  vt->add_option("--scenarios", o->scenarios, "scenario files or directories (default guest-tests/scenarios)");
  vt->add_option("--share", o->shares,
                 "share host directory HOST read-only into every guest at GUEST (default: the same path) over "
                 "virtiofs (repeatable)");
  vt->callback([o] { vm_test(*o); });
}

void repro(ReproOptions& o) {
  Scenario s;
  try {
    std::optional<std::uint64_t> seed;
    if (o.seed >= 0) seed = static_cast<std::uint64_t>(o.seed);
    s = repro_scenario(base::read_file(o.schedule), o.schedule, o.disk, seed, o.workload);
    if (!o.no_accounting) expect_accounting(s);
  } catch (const std::exception& e) {
    fail("repro", e.what());
  }
  if (o.run.out.empty()) o.run.out = "fsfault-repro";
  std::cout << "repro: " << s.name << " on " << o.disk.image << ", seed " << s.seed << "\n";
  int rc = run_catalogue(o.run, {s}, {});
  std::string dir = fs::absolute(o.run.out).string() + "/" + artifact_subdir(s.name);
  if (!base::exists(dir + "/records.jsonl")) {
    std::cerr << "fsfault repro: no records in " << dir << "\n";
    throw CLI::RuntimeError(rc ? rc : 1);
  }
  std::cout << repro_report(dir, !o.no_accounting) << "repro: artifacts in " << dir << " (report.html)\n";
  if (rc) throw CLI::RuntimeError(rc);
}

void register_repro(CLI::App& app) {
  auto o = std::make_shared<ReproOptions>();
  auto* rp = app.add_subcommand("repro", "reproduce an error flood: run a workload under a schedule and count");
  add_common(rp, o->run);
  rp->add_option("schedule", o->schedule, "schedule TOML ([[rule]] tables, seed)")->required();
  rp->add_option("--image", o->disk.image,
                 "the disk: a recipe name (ext4-basic), a recipe file (*.toml) or a raw image (*.img)")
      ->required();
  rp->add_option("--map", o->disk.map, "the target map (NAME.map.json) of a raw --image; without it, rules name sectors");
  rp->add_option("--mount-options", o->disk.mount_options, "mount options of the disk, e.g. errors=continue");
  rp->add_option("--seed", o->seed, "override the schedule's seed");
  rp->add_option("--workload", o->workload,
                 "a scenario-style TOML whose step = [...] replaces the standard workload, or a shell script "
                 "(.sh or #!) run in the guest in the armed phase");
  rp->add_flag("--no-accounting", o->no_accounting,
              "do not judge ext4's errors_count against the events (on by default: errors that vanish fail)");
  rp->callback([o] { repro(*o); });
}

}  // namespace

void register_vm_commands(CLI::App& app) {
  register_vm_test(app);
  register_repro(app);
}

}  // namespace fsfault::vm
