#include "runner/explore/campaign.h"

#include "runner/explore/finding.h"
#include "runner/explore/known_gaps.h"
#include "runner/explore/minimize.h"
#include "runner/explore/trial.h"
#include "runner/explore/trial_stream.h"
#include "runner/scenario/disk_source.h"
#include "runner/vm/catalogue_session.h"
#include "runner/vm/disk_images.h"
#include "runner/vm_config.h"
#include "base/files.h"
#include "base/sha256.h"
#include "process/command_line.h"
#include "process/process.h"

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <iostream>
#include <map>
#include <memory>
#include <sstream>

namespace fsfault::vm::explore {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

struct Finding {
  std::string signature;
  Violation violation;
  std::vector<std::uint64_t> trials;
  std::vector<std::string> fs_log;  // of the first trial
  Trial first;
  const KnownGap* known = nullptr;  // the catalogue's gap it shows; nullptr: new
};

struct Campaign {
  CampaignOptions& o;
  TrialDisk disk;
  faults::TargetMap map;
  std::optional<TrialGenerator> gen;
  std::vector<KnownGap> gaps;  // the catalogue's
  std::map<std::string, Finding> findings;
  std::unique_ptr<CatalogueSession> session;  // provisioned once, for the trials and minimization
  long done = 0;
  Clock::time_point t0 = Clock::now();
  std::string out;  // absolute
};

std::string build_dir() {
  std::string bin = base::dirname_of(base::self_exe());
  if (fs::path(bin).filename() == "bin") return base::dirname_of(bin);
  return FSFAULT_BINARY_DIR;
}

// ext4 keeps counting after an error with errors=continue (its default may remount read-only or
// panic, ending the workload); xfs has no errors= option and refuses the mount with EINVAL.
std::string default_mount_options(const std::string& fs) { return fs == "ext4" ? "errors=continue" : ""; }

// The image's map, built from its recipe when needed (the same cache vm-test uses).
void load_image(Campaign& c) {
  DiskSpec ds;
  resolve_disk_image(c.o.image, ".", ds);
  std::vector<std::string> recipes = {std::string(FSFAULT_SOURCE_DIR) + "/images/recipes"};
  for (auto& d : c.o.run.recipe_dirs) recipes.push_back(fs::absolute(d).string());
  std::ostringstream log;
  ImageRef ref = ensure_disk_image(ds, recipes, c.o.run.cache + "/images", log);
  c.map = faults::TargetMap::load_file(ref.map);
  c.disk.image = ds.path.empty() ? c.o.image : ds.path;
  c.disk.mount_options = c.o.mount_options.empty() ? default_mount_options(c.map.fs) : c.o.mount_options;
  c.disk.control_image = c.o.control_image;
}

// The catalogue's known gaps, through the scenario loader; a file that does not load is a warning.
void load_gaps(Campaign& c) {
  std::string root = c.o.catalogue.empty() ? std::string(FSFAULT_SOURCE_DIR) + "/guest-tests/scenarios" : c.o.catalogue;
  std::vector<std::string> warnings;
  c.gaps = load_known_gaps(root, warnings);
  for (auto& w : warnings) std::cerr << "explore: warning: " << w << "\n";
  long judged = std::count_if(c.gaps.begin(), c.gaps.end(), [](auto& g) { return !g.invariant.empty(); });
  std::cout << "explore: " << c.gaps.size() << " known gap(s) in " << root << ", " << judged
            << " recognisable by an explore invariant\n";
}

std::string write_trial(const Campaign& c, const Trial& t, const std::string& dir) {
  fs::create_directories(dir);
  std::string path = dir + "/" + fs::path(t.name()).filename().string() + ".toml";
  base::write_file(path, trial_scenario_toml(t, c.disk, c.map));
  return path;
}

// Runs one trial in the campaign's session (on a stream worker); its verdict, nullopt when it was
// interrupted (not evidence either way).
std::optional<TrialVerdict> run_trial(Campaign& c, const Trial& t, const std::string& toml_dir) {
  const std::string dir = c.out + "/runs/" + artifact_subdir(t.name());
  try {
    Scenario s = load_scenario(write_trial(c, t, toml_dir));
    if (c.session->run(s, dir).outcome.verdict == Verdict::interrupted) return std::nullopt;
  } catch (const std::exception& e) {  // a trial the runner could not start is a runner error
    c.session->say("explore: " + t.name() + ": " + e.what() + "\n");
    TrialVerdict v;
    v.verdict = "error";
    v.violations.push_back({"runner-error", e.what()});
    return v;
  }
  TrialVerdict v = judge_trial(dir, c.o.bounds);
  if (v.verdict == "interrupted") return std::nullopt;
  return v;
}

void note_findings(Campaign& c, const Trial& t, const TrialVerdict& v) {
  for (auto& viol : v.violations) {
    std::string sig = signature(viol, v.functions);
    auto [it, fresh] = c.findings.try_emplace(sig);
    Finding& f = it->second;
    if (fresh) {
      f.signature = sig, f.violation = viol, f.fs_log = v.fs_log, f.first = t;
      f.known = recognise(sig, c.gaps, v.kernel_release);
      std::cout << "explore: " << (f.known ? "known" : "new") << " finding " << sig << " in trial " << t.index
                << ": " << viol.detail << (f.known ? " (known gap: " + f.known->describe() + ")" : "") << "\n";
    }
    if (f.trials.empty() || f.trials.back() != t.index) f.trials.push_back(t.index);
  }
}

long known_count(const Campaign& c) {
  return std::count_if(c.findings.begin(), c.findings.end(), [](auto& kv) { return kv.second.known != nullptr; });
}

// "3 finding(s) (1 new, 2 known)"
std::string findings_count(const Campaign& c) {
  long known = known_count(c), all = static_cast<long>(c.findings.size());
  return std::to_string(all) + " finding(s) (" + std::to_string(all - known) + " new, " + std::to_string(known) +
         " known)";
}

void progress(const Campaign& c, long total) {
  double hours = std::chrono::duration<double>(Clock::now() - c.t0).count() / 3600.0;
  std::cout << "explore: " << c.done << "/" << (total > 0 ? std::to_string(total) : "?") << " trials, "
            << static_cast<long>(hours > 0 ? c.done / hours : 0) << " trials/h, " << findings_count(c) << "\n"
            << std::flush;
}

bool time_left(const Campaign& c, std::uint64_t next) {
  if (proc::termination_signal()) return false;
  if (c.o.replay) return next == *c.o.replay;
  if (c.o.minutes > 0)
    return std::chrono::duration<double>(Clock::now() - c.t0).count() < c.o.minutes * 60.0;
  return static_cast<long>(next) < c.o.trials;
}

struct TrialRun {
  Trial trial;
  std::optional<TrialVerdict> verdict;  // nullopt: interrupted
};

// Trials streamed to the J VMs (a free VM takes the next index), judged in index order.
void explore_loop(Campaign& c) {
  const long total = c.o.replay ? 1 : c.o.minutes > 0 ? 0 : c.o.trials;
  const long every = std::max(2, 2 * c.o.run.jobs);  // trials between progress lines
  TrialStream<TrialRun> stream{
      [&c](std::uint64_t k) { return time_left(c, k); },
      [&c](std::uint64_t k) {
        Trial t = c.gen->draw(k);
        return TrialRun{t, run_trial(c, t, c.out + "/trials")};
      },
      [&c, total, every](std::uint64_t, TrialRun& r) {
        if (!r.verdict) return;
        ++c.done, note_findings(c, r.trial, *r.verdict);
        if (c.done % every == 0) progress(c, total);
      }};
  run_stream(stream, c.o.run.jobs, c.o.replay.value_or(0));
  if (c.done % every != 0 || c.done == 0) progress(c, total);
}

}  // namespace

namespace {

// A folder-safe, short name for a signature's scenarios; a long one keeps a digest of the whole, so
// that two signatures with the same first functions do not share a folder.
std::string slug(const std::string& sig) {
  std::string s;
  for (char ch : sig) s += (isalnum(static_cast<unsigned char>(ch)) || ch == '-' || ch == '_') ? ch : '_';
  if (s.size() <= 80) return s;
  return s.substr(0, 71) + "-" + base::sha256_hex(sig).substr(0, 8);
}

// Thrown by the oracle once a termination signal arrived: minimization ends there.
struct Interrupted {};

// The oracle of a finding: the candidate rules, with the first trial's workload, run K times in
// parallel; it holds when every run shows the finding's signature.
Oracle reproduces(Campaign& c, const Finding& f, int& round) {
  return [&c, &f, &round](const std::vector<json>& rules) {
    std::vector<Trial> runs;
    ++round;
    for (int k = 0; k < c.o.repeats; ++k) {
      Trial t = f.first;
      t.rules = rules;
      t.label = "explore/min/" + slug(f.signature) + "/c" + std::to_string(round) + "-r" + std::to_string(k + 1);
      runs.push_back(t);
    }
    const std::string tomls = c.out + "/minimize/" + slug(f.signature) + "/c" + std::to_string(round);
    std::vector<std::optional<TrialVerdict>> verdicts;
    TrialStream<std::optional<TrialVerdict>> stream{
        [&runs](std::uint64_t k) { return k < runs.size() && !proc::termination_signal(); },
        [&](std::uint64_t k) { return run_trial(c, runs[k], tomls); },
        [&verdicts](std::uint64_t, std::optional<TrialVerdict>& v) { verdicts.push_back(v); }};
    run_stream(stream, c.o.run.jobs);
    if (verdicts.size() != runs.size()) throw Interrupted{};
    bool all = true;
    for (auto& v : verdicts) {
      if (!v || proc::termination_signal()) throw Interrupted{};  // not evidence either way
      all = all && shows(*v, f.signature);
    }
    std::cout << "explore: minimize " << f.signature << " candidate " << round << " (" << rules.size()
              << " rule(s)): " << (all ? "reproduces" : "does not") << "\n";
    return all;
  };
}

std::string rules_toml(const std::vector<json>& rules) {
  std::string s;
  for (auto& r : rules) {
    s += "[[rule]]\n";
    for (auto& [k, v] : r.items()) s += k + " = " + toml_value(v) + "\n";
  }
  return s;
}

void write_summary(const Campaign& c, const Finding& f, const Minimized& m, const std::string& dir) {
  std::ostringstream md;
  md << "# " << f.signature << "\n\n"
     << "- invariant: " << f.violation.invariant << ": " << f.violation.detail << "\n"
     << (f.known ? "- known: " + f.known->what + " (`" + f.known->function + "`), catalogued in " + f.known->scenario +
                       " (" + f.known->file + "); fixed when " + f.known->fixed_when
                 : std::string("- new: no known gap of the catalogue has this invariant and one of its functions"))
     << "\n- first seen: trial " << f.first.index << " (seed " << c.o.seed << ", workload " << f.first.workload << ")\n"
     << "- trials that hit it (" << f.trials.size() << "):";
  for (auto i : f.trials) md << " " << i;
  md << "\n- minimized from " << f.first.rules.size() << " to " << m.rules.size() << " rule(s) in "
     << m.oracle_calls << " candidate(s) x " << c.o.repeats << " run(s)\n\n"
     << "## Minimized schedule\n\n```toml\n" << rules_toml(m.rules) << "```\n\n## Kernel log (first trial)\n\n```\n";
  for (auto& l : f.fs_log) md << l << "\n";
  md << "```\n\nRun it: `sh repro.sh` (vm-test on scenario.toml; "
     << (f.known ? "XFAIL while the known gap is there, FIXED once it is gone" : "it fails while the gap is there")
     << ").\n";
  base::write_file(dir + "/summary.md", md.str());
}

void write_finding(Campaign& c, const Finding& f, const Minimized& m) {
  std::string dir = c.out + "/findings/" + slug(f.signature);
  fs::create_directories(dir);
  Trial t = f.first;
  t.rules = m.rules;
  t.label = "explore/" + slug(f.signature);
  json gap = nullptr;
  if (f.known) gap = {{"what", f.known->what}, {"function", f.known->function}, {"fixed_when", f.known->fixed_when}};
  base::write_file(dir + "/scenario.toml", trial_scenario_toml(t, c.disk, c.map, gap));
  std::string repro = "#!/bin/sh\n# Reruns finding " + f.signature + " (fsfault explore, seed " +
                      std::to_string(c.o.seed) + ", trial " + std::to_string(f.first.index) + ")\nexec " +
                      proc::shell_quote(base::self_exe()) + " vm-test --kernel " + proc::shell_quote(c.o.run.kernel) +
                      " --accel " + c.o.run.accel + " --scenarios \"$(dirname \"$0\")/scenario.toml\" --out \"${OUT:-$(mktemp -d /tmp/fsfault-finding.XXXXXX)}\" \"$@\"\n";
  base::write_file(dir + "/repro.sh", repro);
  fs::permissions(dir + "/repro.sh", fs::perms::owner_exec | fs::perms::group_exec | fs::perms::others_exec,
                  fs::perm_options::add);
  write_summary(c, f, m, dir);
  std::cout << "explore: " << (f.known ? "known" : "new") << " finding " << f.signature << ": " << m.rules.size()
            << " rule(s), " << f.trials.size()
            << " trial(s), " << dir << "\n";
}

// New findings first, then the most hit: with a budget of minimizations, what is new gets it.
std::vector<const Finding*> by_hits(const Campaign& c) {
  std::vector<const Finding*> v;
  for (auto& [sig, f] : c.findings) v.push_back(&f);
  std::stable_sort(v.begin(), v.end(), [](auto* a, auto* b) {
    if ((a->known == nullptr) != (b->known == nullptr)) return a->known == nullptr;
    return a->trials.size() > b->trials.size();
  });
  return v;
}

// OUT/summary.md: the campaign's findings, new ones apart from known gaps.
void write_campaign_summary(const Campaign& c) {
  std::ostringstream md;
  md << "# fsfault explore: seed " << c.o.seed << ", " << c.done << " trial(s) on " << c.map.image << "\n\n"
     << findings_count(c) << ".\n";
  for (bool known : {false, true}) {
    md << "\n## " << (known ? "Known gaps (in the catalogue)" : "New findings") << "\n\n";
    int n = 0;
    for (auto* f : by_hits(c)) {
      if ((f->known != nullptr) != known) continue;
      ++n;
      md << "- `" << f->signature << "`: " << f->trials.size() << " trial(s), first " << f->first.index
         << ", findings/" << slug(f->signature) << "/" << (known ? " (" + f->known->describe() + ")" : "") << "\n";
    }
    if (n == 0) md << "none\n";
  }
  base::write_file(c.out + "/summary.md", md.str());
}

void minimize_findings(Campaign& c) {
  int budget = c.o.max_minimized;
  for (const Finding* fp : by_hits(c)) {
    const Finding& f = *fp;
    Minimized m{f.first.rules, 0};
    // A runner error or a timeout is not a filesystem's doing: written out as found, not minimized.
    bool minimizable = f.violation.invariant != "runner-error" && f.violation.invariant != "timeout";
    if (minimizable && budget > 0 && !proc::termination_signal()) {
      --budget;
      int round = 0;
      try {
        m = minimize(f.first.rules, reproduces(c, f, round), c.o.max_min_calls);
      } catch (const Interrupted&) {
        m = {f.first.rules, round};  // cut short: the rules as found
      }
    }
    write_finding(c, f, m);
  }
}

// One session for the campaign: the kernel, initramfs and saved guest provisioned once. Every
// trial frames the same image, so the first stands for all (its filesystem's config needs).
void open_session(Campaign& c) {
  CatalogueOptions run = c.o.run;
  run.out = c.out + "/runs";
  Trial sample = c.gen->draw(c.o.replay.value_or(0));
  std::vector<Scenario> one{load_scenario(write_trial(c, sample, c.out + "/trials"))};
  c.session = std::make_unique<CatalogueSession>(run, one);
}

}  // namespace

int run_campaign(CampaignOptions& o) {
  proc::install_termination_handlers();
  if (o.run.cache.empty()) o.run.cache = build_dir();
  Campaign c{o, {}, {}, {}, {}, {}, {}, 0, Clock::now(), fs::absolute(o.out).string()};
  try {
    load_image(c);
    load_gaps(c);
    TrialSpace space{c.map, o.targets, o.actions, o.workloads};
    if (space.actions.empty()) space.actions = TrialSpace{}.actions;
    c.gen.emplace(space, o.seed);
    open_session(c);
  } catch (const std::exception& e) {
    std::cerr << "fsfault explore: " << e.what() << "\n";
    return 2;
  }
  std::cout << "explore: " << c.gen->targets().size() << " target(s) of " << c.map.image << ", seed " << o.seed
            << ", out " << c.out << "\n";
  c.t0 = Clock::now();
  explore_loop(c);
  double secs = std::chrono::duration<double>(Clock::now() - c.t0).count();
  std::cout << "explore: " << c.done << " trial(s) in " << static_cast<long>(secs) << " s ("
            << static_cast<long>(secs > 0 ? c.done * 3600 / secs : 0) << " trials/h), " << findings_count(c) << "\n";
  minimize_findings(c);
  write_campaign_summary(c);
  if (int sig = proc::termination_signal()) return 128 + sig;
  return known_count(c) < static_cast<long>(c.findings.size()) ? 1 : 0;
}

}  // namespace fsfault::vm::explore
