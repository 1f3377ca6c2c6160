#include "cli/vm_command.h"

#include "runner/kernel/initramfs.h"
#include "runner/kernel/kernel.h"
#include "runner/report/report.h"
#include "runner/repro/repro.h"
#include "base/files.h"
#include "process/command_line.h"
#include "runner/vm/vm.h"
#include "runner/vm_config.h"
#include "process/process.h"

#include <CLI/CLI.hpp>
#include <toml++/toml.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>
#include <sstream>
#include <thread>

namespace fsfault::vm {

namespace fs = std::filesystem;

namespace {

struct Options {
  std::string kernel = "bookworm";
  std::string modules;
  std::string filter;
  bool list = false;
  std::string shard;
  int jobs = 1;
  std::string out;
  std::string ktap_file;
  std::string junit_file;
  std::string accel = "auto";
  int timeout_s = 300;
  std::vector<std::string> scenarios;
  std::string nbd_server;
  std::string cache;
  int mem_mb = 512;
  bool verbose = false;
  // repro
  std::string schedule, image, workload;
  long long seed = -1;
};

std::string build_dir() {
  std::string exe = base::self_exe();
  std::string bin = base::dirname_of(exe);
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

std::string out_subdir(const std::string& name) {
  std::string o;
  for (char c : name) o += (isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.' || c == '/') ? c : '_';
  while (o.find("..") != std::string::npos) o.replace(o.find(".."), 2, "__");
  return o;
}

std::string line_for(const Result& r) {
  char b[64];
  snprintf(b, sizeof b, "%6.1fs", r.outcome.seconds);
  std::string v = verdict_name(r.outcome.verdict);
  for (auto& ch : v) ch = static_cast<char>(toupper(static_cast<unsigned char>(ch)));
  std::string s = v + std::string(8 - std::min<size_t>(7, v.size()), ' ') + r.name + "  " + b;
  if (r.outcome.verdict == Verdict::skip && !r.outcome.reasons.empty()) s += "  (" + r.outcome.reasons.front() + ")";
  s += "\n";
  if (r.outcome.verdict != Verdict::pass && r.outcome.verdict != Verdict::skip)
    for (auto& x : r.outcome.reasons) s += "        - " + x + "\n";
  return s;
}

// Shared by vm-test and repro: provisions, runs, reports. Returns the exit code.
int run_catalogue(Options& o, std::vector<Scenario> scenarios, std::vector<Result> preset) {
  proc::install_termination_handlers();
  const std::string bdir = build_dir();
  if (o.cache.empty()) o.cache = bdir;
  std::mutex log_mutex;
  auto say = [&](const std::string& s) {
    std::lock_guard<std::mutex> g(log_mutex);
    std::cout << s << std::flush;
  };

  std::vector<Result> results = std::move(preset);
  for (auto& r : results) say(line_for(r));
  std::vector<const Scenario*> to_run;
  if (!scenarios.empty()) {
    std::ostringstream log;
    KernelInfo k;
    std::string initramfs;
    try {
      k = provision_kernel(o.kernel, o.modules, o.cache + "/kernels", log);
      std::vector<std::string> extra;
      for (auto& s : scenarios) extra.insert(extra.end(), s.modules.begin(), s.modules.end());
      std::string guest = base::dirname_of(base::self_exe()) + "/fsfault-guest";
      initramfs = build_initramfs(k, guest, o.cache + "/kernels", extra, log);
    } catch (const std::exception& e) {
      std::cerr << log.str() << "fsfault vm-test: " << e.what() << "\n";
      return 2;
    }
    std::cout << log.str();
    RunConfig base;
    base.kernel = k;
    base.initramfs = initramfs;
    base.timeout_s = o.timeout_s;
    base.mem_mb = o.mem_mb;
    base.verbose = o.verbose;
    base.recipes_dir = std::string(FSFAULT_SOURCE_DIR) + "/images/recipes";
    base.image_cache = o.cache + "/images";
    if (!o.nbd_server.empty()) {
      base.nbd_server = fs::absolute(o.nbd_server).string();
    } else if (base::exists(base::dirname_of(base::self_exe()) + "/fsfault-nbd")) {
      base.nbd_server = base::dirname_of(base::self_exe()) + "/fsfault-nbd";
    } else {
      std::cout << "warning: fsfault-nbd not found next to fsfault; using qemu-nbd, faults will NOT be injected\n";
    }
    // Acceleration, decided once per run.
    std::string why;
    if (o.accel == "auto") {
      base.accel = probe_accel(k, initramfs, base.qemu, 6, &why);
    } else {
      base.accel = o.accel;
      why = "requested";
    }
    std::cout << "accel: " << base.accel << " (" << why << ")\n";
    std::cout << "kernel: " << (k.version_string.empty() ? k.image : k.version_string) << "\n" << std::flush;

    std::string self = base::self_exe();
    base.repro_prefix = proc::shell_quote(self) + " vm-test --kernel " + proc::shell_quote(k.label == o.kernel ? o.kernel : k.image) +
                        (o.modules.empty() ? "" : " --modules " + proc::shell_quote(fs::absolute(o.modules).string())) +
                        " --accel " + base.accel + " --timeout " + std::to_string(o.timeout_s) +
                        (base.nbd_server.empty() ? "" : " --nbd-server " + proc::shell_quote(base.nbd_server)) +
                        " --out \"${OUT:-$(mktemp -d /tmp/fsfault-repro.XXXXXX)}\"";

    std::vector<Result> ran(scenarios.size());
    std::vector<bool> need(scenarios.size(), false);
    for (size_t i = 0; i < scenarios.size(); ++i) {
      const Scenario& s = scenarios[i];
      ran[i].name = s.name;
      ran[i].file = s.file;
      std::optional<std::string> skip = s.skip;
      if (!skip) {
        try {
          skip = kernel_gate(s.kernel, k.version);
        } catch (const std::exception& e) {
          ran[i].outcome.verdict = Verdict::error;
          ran[i].outcome.reasons.push_back(e.what());
          say(line_for(ran[i]));
          continue;
        }
      }
      if (skip) {
        ran[i].outcome.verdict = Verdict::skip;
        ran[i].outcome.reasons.push_back(*skip);
        say(line_for(ran[i]));
        continue;
      }
      need[i] = true;
    }
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
        if (!o.out.empty()) c.out_dir = fs::absolute(o.out).string() + "/" + out_subdir(scenarios[i].name);
        ran[i].outcome = run_scenario(scenarios[i], c, log_mutex);
        say(line_for(ran[i]));
      }
    };
    int jobs = std::max(1, std::min<int>(o.jobs, static_cast<int>(scenarios.size())));
    std::vector<std::thread> threads;
    for (int j = 0; j < jobs; ++j) threads.emplace_back(worker);
    for (auto& t : threads) t.join();
    results.insert(results.end(), ran.begin(), ran.end());
  }
  std::sort(results.begin(), results.end(), [](const Result& a, const Result& b) { return a.name < b.name; });
  std::map<Verdict, int> n;
  for (auto& r : results) n[r.outcome.verdict]++;
  std::cout << "summary: " << results.size() << " scenarios, " << n[Verdict::pass] << " passed, " << n[Verdict::fail]
            << " failed, " << n[Verdict::skip] << " skipped, " << n[Verdict::timeout] << " timed out, "
            << n[Verdict::error] << " errors" << (n[Verdict::interrupted] ? ", " + std::to_string(n[Verdict::interrupted]) + " interrupted" : "") << "\n";
  try {
    if (!o.ktap_file.empty()) {
      if (fs::path(o.ktap_file).has_parent_path()) fs::create_directories(fs::path(o.ktap_file).parent_path());
      base::write_file(o.ktap_file, ktap(results));
    }
    if (!o.junit_file.empty()) {
      if (fs::path(o.junit_file).has_parent_path()) fs::create_directories(fs::path(o.junit_file).parent_path());
      base::write_file(o.junit_file, junit(results));
    }
  } catch (const std::exception& e) {
    std::cerr << "fsfault vm-test: " << e.what() << "\n";
    return 2;
  }
  if (int sig = proc::termination_signal()) return 128 + sig;
  return (n[Verdict::fail] + n[Verdict::timeout] + n[Verdict::error] + n[Verdict::interrupted]) ? 1 : 0;
}

void add_common(CLI::App* c, Options& o) {
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
}

}  // namespace

void register_vm_commands(CLI::App& app) {
  auto o = std::make_shared<Options>();
  auto* vt = app.add_subcommand("vm-test", "boot a kernel on fsfault disks, run the scenario catalogue, judge");
  add_common(vt, *o);
  vt->add_option("--filter", o->filter, "only scenarios whose name matches GLOB (comma-separated globs)");
  vt->add_flag("--list", o->list, "list the selected scenarios and exit");
  vt->add_option("--shard", o->shard, "run shard K of N (1-based), a stable partition");
  vt->add_option("--jobs,-j", o->jobs, "parallel VMs")->check(CLI::PositiveNumber);
  vt->add_option("--scenarios", o->scenarios, "scenario files or directories (default guest-tests/scenarios)");
  vt->callback([o] {
    std::vector<std::string> roots = o->scenarios;
    if (roots.empty()) roots.push_back(std::string(FSFAULT_SOURCE_DIR) + "/guest-tests/scenarios");
    std::vector<Scenario> all;
    std::vector<Result> broken;
    try {
      for (auto& f : collect_files(roots)) {
        try {
          all.push_back(load_scenario(f));
        } catch (const std::exception& e) {
          Result r;
          r.name = "invalid/" + fs::path(f).stem().string();
          r.file = f;
          r.outcome.verdict = Verdict::error;
          r.outcome.reasons.push_back(e.what());
          broken.push_back(r);
        }
      }
    } catch (const std::exception& e) {
      std::cerr << "fsfault vm-test: " << e.what() << "\n";
      throw CLI::RuntimeError(2);
    }
    std::vector<std::string> names;
    for (auto& s : all)
      if (name_matches(o->filter, s.name)) names.push_back(s.name);
    for (auto& b : broken)
      if (name_matches(o->filter, b.name)) names.push_back(b.name);
    if (!o->shard.empty()) {
      try {
        names = select_shard(names, parse_shard(o->shard));
      } catch (const std::exception& e) {
        std::cerr << "fsfault vm-test: " << e.what() << "\n";
        throw CLI::RuntimeError(2);
      }
    }
    std::set<std::string> chosen(names.begin(), names.end());
    std::vector<Scenario> sel;
    std::map<std::string, int> seen;
    for (auto& s : all)
      if (chosen.count(s.name)) {
        if (seen[s.name]++) {
          std::cerr << "fsfault vm-test: duplicate scenario name " << s.name << " (" << s.file << ")\n";
          throw CLI::RuntimeError(2);
        }
        sel.push_back(s);
      }
    std::vector<Result> bad;
    for (auto& b : broken)
      if (chosen.count(b.name)) bad.push_back(b);
    if (o->list) {
      for (auto& s : sel) std::cout << s.name << "\t" << s.file << (s.kernel.empty() ? "" : "\tkernel " + s.kernel) << "\n";
      for (auto& b : bad) std::cout << b.name << "\t" << b.file << "\tINVALID: " << b.outcome.reasons.front() << "\n";
      return;
    }
    if (sel.empty() && bad.empty()) {
      std::cerr << "fsfault vm-test: no scenario selected\n";
      throw CLI::RuntimeError(2);
    }
    int rc = run_catalogue(*o, sel, bad);
    if (rc) throw CLI::RuntimeError(rc);
  });

  auto* rp = app.add_subcommand("repro", "reproduce an error flood: run a workload under a schedule and count");
  add_common(rp, *o);
  rp->add_option("schedule", o->schedule, "schedule TOML ([[rule]] tables, seed)")->required();
  rp->add_option("--image", o->image, "image recipe name, e.g. ext4-basic")->required();
  rp->add_option("--seed", o->seed, "override the schedule's seed");
  rp->add_option("--workload", o->workload,
                 "a scenario-style TOML whose step = [...] replaces the standard workload, or a shell script "
                 "(.sh or #!) run in the guest in the armed phase");
  rp->callback([o] {
    Scenario s;
    try {
      std::optional<std::uint64_t> seed;
      if (o->seed >= 0) seed = static_cast<std::uint64_t>(o->seed);
      s = repro_scenario(base::read_file(o->schedule), o->schedule, o->image, seed, o->workload);
    } catch (const std::exception& e) {
      std::cerr << "fsfault repro: " << e.what() << "\n";
      throw CLI::RuntimeError(2);
    }
    if (o->out.empty()) o->out = "fsfault-repro";
    std::cout << "repro: " << s.name << " on " << o->image << ", seed " << s.seed << "\n";
    int rc = run_catalogue(*o, {s}, {});
    std::string dir = fs::absolute(o->out).string() + "/" + out_subdir(s.name);
    if (!base::exists(dir + "/records.jsonl")) {
      std::cerr << "fsfault repro: no records in " << dir << "\n";
      throw CLI::RuntimeError(rc ? rc : 1);
    }
    std::cout << flood_report(count_flood(dir)) << "repro: artifacts in " << dir << "\n";
    if (rc) throw CLI::RuntimeError(rc);
  });
}

}  // namespace fsfault::vm
