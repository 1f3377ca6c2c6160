#include "runner/explore/finding.h"

#include "base/files.h"
#include "runner/judge/judge.h"
#include "runner/repro/repro.h"

#include <algorithm>
#include <regex>
#include <set>

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
    if (type == "kmsg" && is_fs_line(text)) v.fs_log.push_back(text);
    if (type == "kmsg" && is_crash_line(text)) v.violations.push_back({"panic", text});
    if (type == "blocked")
      v.violations.push_back({"blocked", "step " + r.value("id", std::string()) + " (" + r.value("do", std::string()) +
                                             ") blocked, wchan " + r.value("wchan", std::string())});
  }
}

// Accounting, errno sign and events without faults, from the counts `fsfault repro` reads.
void check_counts(const std::string& dir, TrialVerdict& v) {
  FloodCounts c = count_flood(dir);
  if (auto why = flood_accounting_failure(c); why && c.errors_before && c.errors_after)
    v.violations.push_back({"accounting", *why});
  for (auto& e : c.events)
    if (e.error && *e.error < 0) {
      v.violations.push_back({"negative-errno", "FS_ERROR with errno " + errno_text(*e.error)});
      break;
    }
  if (c.faults_fired == 0 && c.fs_error_events > 0)
    v.violations.push_back({"event-without-fault", std::to_string(c.fs_error_events) +
                                                       " FS_ERROR event(s) though no fault fired"});
}

}  // namespace

std::vector<std::string> kernel_functions(const std::string& line) {
  // ext4_error_inode() and friends print "EXT4-fs error (device vda): FUNC:LINE:" or "... in
  // FUNC:LINE:" (fs/ext4/super.c), whatever the function is called (htree_dirblock_to_tree).
  static const std::regex where_re(R"(^EXT4-fs (?:error|warning) \(device [^)]*\)(?::| in) ([A-Za-z_][A-Za-z0-9_]*):\d+)");
  static const std::regex func_re(R"((?:^|[\s(:])(_{0,2}(?:ext4|xfs|jbd2)_[A-Za-z0-9_]+)(?=[:+(\s]|$))");
  std::vector<std::string> out;
  std::smatch m;
  if (std::regex_search(line, m, where_re)) out.push_back(m[1]);
  for (std::sregex_iterator it(line.begin(), line.end(), func_re), end; it != end; ++it)
    if (std::find(out.begin(), out.end(), (*it)[1].str()) == out.end()) out.push_back((*it)[1]);
  return out;
}

TrialVerdict judge_trial(const std::string& dir) {
  TrialVerdict v;
  json res = json::parse(base::try_read_file(dir + "/result.json").value_or("{}"), nullptr, false);
  v.verdict = res.is_object() ? res.value("verdict", std::string("error")) : "error";
  std::string reason = res.is_object() && res.contains("reasons") && !res["reasons"].empty()
                           ? res["reasons"][0].get<std::string>()
                           : "no result.json";
  if (v.verdict == "error") v.violations.push_back({"runner-error", reason});
  if (v.verdict == "timeout") v.violations.push_back({"timeout", reason});
  check_records(read_jsonl(dir + "/records.jsonl"), v);
  if (v.verdict != "error") check_counts(dir, v);
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

namespace {

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

}  // namespace

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
