#include "runner/explore/finding.h"

#include "base/errno_names.h"
#include "base/files.h"
#include "runner/judge/judge.h"
#include "runner/repro/repro.h"

#include <algorithm>
#include <cerrno>
#include <map>
#include <regex>
#include <set>
#include <sstream>

namespace fsfault::vm::explore {

namespace {

bool is_fs_line(const std::string& text) {
  static const std::regex fs_re(R"(^(EXT4-fs|XFS|JBD2|Buffer I/O error|blk_update_request|I/O error))");
  return std::regex_search(text, fs_re);
}

// A kernel that panicked, oopsed or hit a BUG/WARN (kernel/panic.c, lib/bug.c messages).
bool is_crash_line(const std::string& text) {
  static const std::regex crash_re(R"((Kernel panic|Oops|BUG:|WARNING: CPU|general protection fault))");
  return std::regex_search(text, crash_re);
}

void check_records(const std::vector<json>& records, TrialVerdict& v) {
  for (auto& r : records) {
    if (!r.is_object()) continue;
    std::string type = r.value("type", std::string());
    std::string text = r.value("text", std::string());
    if (type == "hello") v.kernel_release = r.value("release", std::string());
    if (type == "kmsg" && is_fs_line(text)) v.fs_log.push_back(text);
    if (type == "kmsg" && is_crash_line(text)) v.violations.push_back({"panic", text});
    if (type == "blocked")
      v.violations.push_back({"blocked", "step " + r.value("id", std::string()) + " (" + r.value("do", std::string()) +
                                             ") blocked, wchan " + r.value("wchan", std::string())});
  }
}

// Every FS_ERROR event's errno: positive (a negative one is 6.x __ext4_std_error()'s known
// mistake, docs/kernel-facts.md) and one the filesystem documents.
void check_errnos(const FloodCounts& c, TrialVerdict& v) {
  const std::vector<int>& documented = documented_errnos(c.fs);
  bool negative = false, undocumented = false;
  for (auto& e : c.events) {
    if (e.kind != "FS_ERROR" || !e.error) continue;
    if (*e.error < 0 && !negative) {
      negative = true;
      v.violations.push_back({"negative-errno", "FS_ERROR with errno " + errno_text(*e.error)});
    } else if (*e.error >= 0 && !documented.empty() && !undocumented &&
               std::find(documented.begin(), documented.end(), *e.error) == documented.end()) {
      undocumented = true;
      std::string names;
      for (int d : documented) names += (names.empty() ? "" : ", ") + base::errno_name(d);
      v.violations.push_back({"undocumented-errno", "FS_ERROR with errno " + errno_text(*e.error) + ", which " +
                                                        c.fs + " does not report (" + names + ")"});
    }
  }
}

// Fault log lines of disk d (0 when its server logged none, or it had no rules).
long long faults_fired_on(const std::string& dir, int d) {
  std::istringstream in(base::try_read_file(dir + "/faults-d" + std::to_string(d) + ".jsonl").value_or(""));
  long long n = 0;
  for (std::string line; std::getline(in, line);) n += !line.empty();
  return n;
}

// No event on a filesystem nobody faulted: none at all when no fault fired, and none on a disk
// whose own faults never fired (a control disk, or a disk whose rules did not match).
void check_unfaulted(const std::string& dir, const FloodCounts& c, TrialVerdict& v) {
  if (c.fs_error_events == 0) return;
  if (c.faults_fired == 0) {
    v.violations.push_back({"event-without-fault", std::to_string(c.fs_error_events) +
                                                       " FS_ERROR event(s) though no fault fired"});
    return;
  }
  std::map<int, long long> on_disk;  // events by the disk their fsid names
  for (auto& e : c.events)
    if (e.kind == "FS_ERROR" && e.disk) ++on_disk[*e.disk];
  for (auto [d, n] : on_disk)
    if (faults_fired_on(dir, d) == 0)
      v.violations.push_back({"event-on-unfaulted-fs", std::to_string(n) + " FS_ERROR event(s) on disk " +
                                                           std::to_string(d) + ", where no fault fired"});
}

// Accounting, errnos and events without faults, from the counts `fsfault repro` reads.
void check_counts(const std::string& dir, TrialVerdict& v) {
  FloodCounts c = count_flood(dir);
  if (auto why = flood_accounting_failure(c); why && c.errors_before && c.errors_after)
    v.violations.push_back({"accounting", *why});
  check_errnos(c, v);
  check_unfaulted(dir, c, v);
}

// Event latency as the judge measures it (docs/scenarios.md, "Latency"): the records judged
// against an FS_ERROR expectation with max_latency_ms and max_fault_latency_ms, so both read
// arrival the same way: from the step before the event, and from the first fault since the
// previous event (the trial's fault logs and runner.log put fault times on the guest's clock). An
// event without a figure is not a finding (the judge's "cannot be checked" is left out).
void check_latency(const std::string& dir, const std::vector<json>& records, const Bounds& b, TrialVerdict& v) {
  Scenario s;
  s.expects.push_back(json{{"event", "FS_ERROR"},
                           {"count", "any"},
                           {"max_latency_ms", b.max_latency_ms},
                           {"max_fault_latency_ms", b.max_latency_ms}});
  Trace t;
  t.records = records;
  t.faults = read_fault_logs(dir);
  t.host = parse_runner_log(base::try_read_file(dir + "/runner.log").value_or(""));
  t.completed = true;
  for (auto& r : judge(s, t).reasons)
    if (r.find(": event arrived ") != std::string::npos) {
      v.violations.push_back({"late-event", r});
      return;
    }
}

}  // namespace

std::vector<std::string> kernel_functions(const std::string& line) {
  // ext4_error_inode() and friends print "EXT4-fs error (device vda): FUNC:LINE:" or "... in
  // FUNC:LINE:" (fs/ext4/super.c), whatever the function is called (htree_dirblock_to_tree).
  static const std::regex where_re(
      R"(^EXT4-fs (error|warning) \(device [^)]*\)(:| in) ([A-Za-z_][A-Za-z0-9_]*):\d+:( group \d+,)?)");
  static const std::regex func_re(R"((?:^|[\s(:])(_{0,2}(?:ext4|xfs|jbd2)_[A-Za-z0-9_]+)(?=[:+(\s]|$))");
  std::vector<std::string> out;
  std::smatch m;
  if (std::regex_search(line, m, where_re)) {
    out.push_back(m[3]);
    // The reporter is the function with the format (fs/ext4/super.c): "in FUNC:LINE: ..." is
    // __ext4_std_error()'s, "FUNC:LINE: group N, ..." __ext4_grp_locked_error()'s
    // (docs/kernel-facts.md, section 3); known gaps name them, not their callers.
    if (m[1] == "error" && m[2] == " in") out.push_back("__ext4_std_error");
    if (m[1] == "error" && m[4].matched) out.push_back("__ext4_grp_locked_error");
  }
  for (std::sregex_iterator it(line.begin(), line.end(), func_re), end; it != end; ++it)
    if (std::find(out.begin(), out.end(), (*it)[1].str()) == out.end()) out.push_back((*it)[1]);
  return out;
}

const std::vector<int>& documented_errnos(const std::string& fs) {
  // ext4: the errnos its error paths pass on (fs/ext4/super.c, ext4_decode_error(): EFSCORRUPTED,
  // EFSBADCRC, EIO, ENOMEM, EROFS; an error of 0 is sent as EFSCORRUPTED) and ESHUTDOWN of an
  // aborted ext4; xfs (7.x): EFSCORRUPTED, ESHUTDOWN, EIO (docs/kernel-facts.md, section 3).
  static const std::vector<int> ext4 = {EIO, ENOMEM, EROFS, EBADMSG, ESHUTDOWN, EUCLEAN};
  static const std::vector<int> xfs = {EIO, ESHUTDOWN, EUCLEAN};
  static const std::vector<int> none;
  return fs == "ext4" ? ext4 : fs == "xfs" ? xfs : none;
}

TrialVerdict judge_trial(const std::string& dir, const Bounds& bounds) {
  TrialVerdict v;
  json res = json::parse(base::try_read_file(dir + "/result.json").value_or("{}"), nullptr, false);
  v.verdict = res.is_object() ? res.value("verdict", std::string("error")) : "error";
  std::string reason = res.is_object() && res.contains("reasons") && !res["reasons"].empty()
                           ? res["reasons"][0].get<std::string>()
                           : "no result.json";
  if (v.verdict == "error") v.violations.push_back({"runner-error", reason});
  if (v.verdict == "timeout") v.violations.push_back({"timeout", reason});
  std::vector<json> records = read_jsonl(dir + "/records.jsonl");
  check_records(records, v);
  if (v.verdict != "error") check_counts(dir, v), check_latency(dir, records, bounds, v);
  // A failed trial no invariant explains (a mount refused, a step that could not run) did not test
  // what it drew: visible as its own finding, never as a quiet pass.
  if (v.verdict == "fail" && v.violations.empty()) v.violations.push_back({"trial-failed", reason});
  std::set<std::string> fns;
  for (auto& l : v.fs_log)
    for (auto& f : kernel_functions(l)) fns.insert(f);
  v.functions.assign(fns.begin(), fns.end());
  return v;
}

std::string signature(const Violation& v, const std::vector<std::string>& functions) {
  std::string s = v.invariant;
  for (std::size_t i = 0; i < functions.size(); ++i) s += (i ? "+" : "@") + functions[i];
  return s;
}

std::vector<std::string> signatures(const TrialVerdict& t) {
  std::set<std::string> out;
  for (auto& v : t.violations) out.insert(signature(v, t.functions));
  return {out.begin(), out.end()};
}

// "accounting@a+b" -> ("accounting", {a, b}).
std::pair<std::string, std::set<std::string>> split_signature(const std::string& sig) {
  auto at = sig.find('@');
  std::set<std::string> fns;
  if (at == std::string::npos) return {sig, fns};
  for (std::size_t p = at + 1; p <= sig.size();) {
    auto q = std::min(sig.find('+', p), sig.size());
    fns.insert(sig.substr(p, q - p));
    p = q + 1;
  }
  return {sig.substr(0, at), fns};
}

bool shows(const TrialVerdict& t, const std::string& sig, std::string* narrowed) {
  auto [inv, want] = split_signature(sig);
  for (auto& s : signatures(t)) {
    auto [i, have] = split_signature(s);
    bool subset = std::includes(want.begin(), want.end(), have.begin(), have.end());
    if (i == inv && subset && (have.empty() == want.empty())) {
      if (narrowed) *narrowed = s;
      return true;
    }
  }
  return false;
}

}  // namespace fsfault::vm::explore
