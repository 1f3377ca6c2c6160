#include "runner/vm/catalogue_run.h"

#include "runner/vm/catalogue_session.h"
#include "runner/vm/virtiofs_share.h"
#include "runner/vm_config.h"
#include "base/files.h"
#include "process/process.h"

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <iostream>
#include <map>
#include <set>
#include <sstream>
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

// Names every result and settles skips and bad kernel gates (printing them); true for the
// scenarios to boot.
std::vector<bool> gate(const std::vector<Scenario>& scenarios, const KernelInfo& kernel, std::vector<Result>& ran) {
  std::vector<bool> need(scenarios.size(), false);
  for (size_t i = 0; i < scenarios.size(); ++i) {
    ran[i].name = scenarios[i].name;
    ran[i].file = scenarios[i].file;
    if (auto gated = gate_scenario(scenarios[i], kernel)) {
      ran[i].outcome = *gated;
      std::cout << result_line(ran[i]) << std::flush;
      continue;
    }
    need[i] = true;
  }
  return need;
}

// o.jobs VMs at a time, each taking the next scenario; after a signal the rest are "interrupted".
void run_parallel(const CatalogueOptions& o, CatalogueSession& session, const std::vector<Scenario>& scenarios,
                  const std::vector<bool>& need, std::vector<Result>& ran) {
  std::atomic<size_t> next{0};
  auto worker = [&] {
    for (;;) {
      size_t i = next++;
      if (i >= scenarios.size()) return;
      if (!need[i]) continue;
      std::string out = o.out.empty() ? "" : fs::absolute(o.out).string() + "/" + artifact_subdir(scenarios[i].name);
      ran[i] = session.run(scenarios[i], out);
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
  std::vector<Result> results = std::move(preset);
  for (auto& r : results) std::cout << result_line(r) << std::flush;
  if (!scenarios.empty()) {
    RunConfig base;
    std::ostringstream log;
    try {
      base = provision_session(o, scenarios, log);
    } catch (const std::exception& e) {
      std::cerr << log.str() << "fsfault vm-test: " << e.what() << "\n";
      return 2;
    }
    std::cout << log.str();
    configure_session(o, base);
    std::vector<Result> ran(scenarios.size());
    std::vector<bool> need = gate(scenarios, base.kernel, ran);
    bool shares = false;
    for (size_t i = 0; i < scenarios.size(); ++i) shares |= need[i] && !scenario_shares(scenarios[i], o.shares).empty();
    if (std::count(need.begin(), need.end(), true) > 0) prepare_saved_guests(o, base, shares);
    CatalogueSession session(o, std::move(base));
    run_parallel(o, session, scenarios, need, ran);
    results.insert(results.end(), ran.begin(), ran.end());
  }
  return summarize(o, results);
}

}  // namespace fsfault::vm
