#include "runner/judge/third_party_results.h"

#include <algorithm>
#include <cctype>
#include <cstddef>
#include <sstream>

namespace fsfault::vm {

std::optional<ResultFormat> result_format_from_name(const std::string& name) {
  if (name == "ltp") return ResultFormat::ltp;
  if (name == "tap") return ResultFormat::tap;
  if (name == "ktap") return ResultFormat::ktap;
  return std::nullopt;
}

const char* result_format_name(ResultFormat f) {
  switch (f) {
    case ResultFormat::ltp: return "LTP";
    case ResultFormat::tap: return "TAP";
    case ResultFormat::ktap: return "KTAP";
  }
  return "?";
}

namespace {

// No std::regex here: its matcher recurses per character, and this text is untrusted.
std::string trim(const std::string& s) {
  size_t b = 0, e = s.size();
  while (b < e && std::isspace(static_cast<unsigned char>(s[b]))) ++b;
  while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1]))) --e;
  return s.substr(b, e - b);
}

bool starts_with(const std::string& s, const std::string& p) { return s.compare(0, p.size(), p) == 0; }

bool all_digits(const std::string& s) {
  if (s.empty() || s.size() > 9) return false;
  for (char c : s)
    if (!std::isdigit(static_cast<unsigned char>(c))) return false;
  return true;
}

std::vector<std::string> split_lines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    lines.push_back(line);
  }
  return lines;
}

// ---- LTP

struct LtpLine {
  std::string where, type, message;
};

// `fanotify05.c:123: TPASS: message` (tst_res_() in lib/tst_test.c prints "%s:%i: " then the
// type and ": ").
std::optional<LtpLine> ltp_new_api(const std::string& line) {
  size_t c1 = line.find(':');
  if (c1 == std::string::npos || c1 == 0) return std::nullopt;
  size_t c2 = line.find(':', c1 + 1);
  if (c2 == std::string::npos || !all_digits(line.substr(c1 + 1, c2 - c1 - 1))) return std::nullopt;
  if (line.compare(c2, 3, ": T") != 0) return std::nullopt;
  size_t c3 = line.find(':', c2 + 2);
  if (c3 == std::string::npos) return std::nullopt;
  LtpLine l{line.substr(0, c2), line.substr(c2 + 2, c3 - c2 - 2), trim(line.substr(c3 + 1))};
  if (l.where.find(' ') != std::string::npos) return std::nullopt;
  return l;
}

// `fanotify01    1  TPASS  :  message` (the old API, lib/tst_res.c).
std::optional<LtpLine> ltp_old_api(const std::string& line) {
  std::istringstream in(line);
  std::string name, num, type, colon;
  if (!(in >> name >> num >> type >> colon) || colon != ":" || !all_digits(num)) return std::nullopt;
  std::string rest;
  std::getline(in, rest);
  return LtpLine{name + " " + num, type, trim(rest)};
}

struct LtpSummary {
  bool seen = false;
  long long failed = 0, broken = 0, warnings = 0;
};

// The block do_exit() in lib/tst_test.c prints: "Summary:", then "passed   N", "failed   N", ...
void read_summary_line(const std::string& line, LtpSummary& s) {
  std::istringstream in(line);
  std::string key, n;
  if (!(in >> key >> n) || !all_digits(n)) return;
  long long v = std::stoll(n);
  if (key == "failed") s.failed = v;
  else if (key == "broken") s.broken = v;
  else if (key == "warnings") s.warnings = v;
}

void add_ltp_result(const LtpLine& l, ParsedResults& out, long long& failing) {
  ThirdPartyResult r;
  r.name = l.where;
  r.reason = l.type + ": " + l.message;
  if (l.type == "TPASS") r.status = ResultStatus::pass;
  else if (l.type == "TCONF") r.status = ResultStatus::skip;
  else if (l.type == "TFAIL" || l.type == "TBROK" || l.type == "TWARN") r.status = ResultStatus::fail;
  else return;  // TINFO, TDEBUG: commentary
  if (r.status == ResultStatus::fail) ++failing;
  out.results.push_back(std::move(r));
}

}  // namespace

ParsedResults parse_ltp(const std::string& output) {
  ParsedResults out;
  LtpSummary summary;
  long long failing = 0;
  for (const std::string& raw : split_lines(output)) {
    std::string line = trim(raw);
    if (line == "Summary:") {
      summary.seen = true;
      continue;
    }
    if (summary.seen) read_summary_line(line, summary);
    auto l = ltp_new_api(line);
    if (!l) l = ltp_old_api(line);
    if (l) add_ltp_result(*l, out, failing);
  }
  long long counted = summary.failed + summary.broken + summary.warnings;
  if (summary.seen && counted > failing)
    out.problems.push_back("LTP's summary counts " + std::to_string(summary.failed) + " failed, " +
                           std::to_string(summary.broken) + " broken, " + std::to_string(summary.warnings) +
                           " warnings, but the output has " + std::to_string(failing) +
                           " TFAIL/TBROK/TWARN line(s)");
  return out;
}

// ---- TAP / KTAP

namespace {

constexpr int kMaxDepth = 16;  // deeper nesting is read as commentary (bounded recursion)

struct TapLine {
  size_t indent = 0;
  std::string text;  // without the indentation
};

size_t indent_of(const std::string& s) {
  size_t i = 0;
  while (i < s.size() && (s[i] == ' ' || s[i] == '\t')) ++i;
  return i;
}

bool directive_is(const std::string& d, const char* word) {
  std::string w(word);
  if (d.size() < w.size()) return false;
  for (size_t i = 0; i < w.size(); ++i)
    if (std::toupper(static_cast<unsigned char>(d[i])) != w[i]) return false;
  return d.size() == w.size() || !std::isalpha(static_cast<unsigned char>(d[w.size()]));
}

// "ok 3 - name # SKIP why" → the result; nullopt for any other line.
std::optional<ThirdPartyResult> tap_result(const std::string& text, size_t index) {
  bool ok = starts_with(text, "ok") && (text.size() == 2 || text[2] == ' ');
  bool not_ok = starts_with(text, "not ok") && (text.size() == 6 || text[6] == ' ');
  if (!ok && !not_ok) return std::nullopt;
  std::string rest = trim(text.substr(ok ? 2 : 6));
  size_t hash = rest.find('#');
  while (hash != std::string::npos && hash > 0 && rest[hash - 1] == '\\') hash = rest.find('#', hash + 1);
  std::string desc = trim(rest.substr(0, hash));
  std::string directive = hash == std::string::npos ? "" : trim(rest.substr(hash + 1));
  size_t digits = 0;
  while (digits < desc.size() && std::isdigit(static_cast<unsigned char>(desc[digits]))) ++digits;
  desc = trim(desc.substr(digits));
  if (starts_with(desc, "- ") || desc == "-") desc = trim(desc.substr(1));
  ThirdPartyResult r;
  r.name = desc.empty() ? "test " + std::to_string(index) : desc;
  bool skip = directive_is(directive, "SKIP");
  bool todo = directive_is(directive, "TODO") || directive_is(directive, "XFAIL");
  size_t word = directive_is(directive, "XFAIL") ? 5 : 4;
  r.reason = skip || todo ? trim(directive.substr(word)) : directive;  // else KTAP's TIMEOUT, ERROR
  r.status = skip ? ResultStatus::skip : ok ? ResultStatus::pass : todo ? ResultStatus::todo : ResultStatus::fail;
  return r;
}

struct TapBlock {
  std::vector<ThirdPartyResult> results;
  std::optional<long long> plan;
  std::string plan_skip;  // `1..0 # SKIP why`
};

// "1..N [# SKIP why]" → N.
std::optional<long long> tap_plan(const std::string& text, std::string& skip_reason) {
  if (!starts_with(text, "1..")) return std::nullopt;
  size_t end = 3;
  while (end < text.size() && std::isdigit(static_cast<unsigned char>(text[end]))) ++end;
  std::string n = text.substr(3, end - 3);
  if (!all_digits(n)) return std::nullopt;
  std::string rest = trim(text.substr(end));
  if (starts_with(rest, "#")) {
    std::string d = trim(rest.substr(1));
    if (directive_is(d, "SKIP")) skip_reason = trim(d.substr(4));
  }
  return std::stoll(n);
}

void check_plan(const TapBlock& b, size_t line_no, ParsedResults& out) {
  if (!b.plan) return;
  auto n = static_cast<long long>(b.results.size());
  if (*b.plan != n)
    out.problems.push_back("plan 1.." + std::to_string(*b.plan) + " (near line " + std::to_string(line_no) +
                           ") but " + std::to_string(n) + " result(s)");
}

// Lines [i, end) indented at least `indent`; a deeper block is the subtests of the next result.
TapBlock parse_block(const std::vector<TapLine>& lines, size_t& i, size_t indent, int depth, ParsedResults& out);

void parse_block_line(const std::vector<TapLine>& lines, size_t& i, TapBlock& b,
                      std::vector<ThirdPartyResult>& pending, ParsedResults& out) {
  const std::string& text = lines[i].text;
  if (auto r = tap_result(text, b.results.size() + 1)) {
    r->subtests = std::move(pending);
    pending.clear();
    b.results.push_back(std::move(*r));
  } else if (auto n = tap_plan(text, b.plan_skip)) {
    b.plan = n;
  } else if (starts_with(text, "Bail out!")) {
    out.problems.push_back("the test bailed out: " + trim(text.substr(9)));
  }
  ++i;
}

TapBlock parse_block(const std::vector<TapLine>& lines, size_t& i, size_t indent, int depth, ParsedResults& out) {
  TapBlock b;
  std::vector<ThirdPartyResult> pending;  // subtests waiting for their result line
  size_t first = i;
  while (i < lines.size() && lines[i].indent >= indent) {
    if (lines[i].indent > indent && depth < kMaxDepth) {
      size_t sub_first = i;
      TapBlock sub = parse_block(lines, i, lines[i].indent, depth + 1, out);
      check_plan(sub, sub_first + 1, out);
      for (auto& r : sub.results) pending.push_back(std::move(r));
      continue;
    }
    parse_block_line(lines, i, b, pending, out);
  }
  if (!pending.empty()) {
    ThirdPartyResult orphan;
    orphan.name = "subtests at line " + std::to_string(first + 1);
    orphan.status = ResultStatus::fail;
    orphan.reason = "no result line after its subtests (the test stopped?)";
    orphan.subtests = std::move(pending);
    b.results.push_back(std::move(orphan));
  }
  return b;
}

}  // namespace

ParsedResults parse_tap(const std::string& output) {
  std::vector<TapLine> lines;
  for (const std::string& raw : split_lines(output)) {
    size_t ind = indent_of(raw);
    if (ind == raw.size()) continue;  // blank
    lines.push_back({ind, raw.substr(ind)});
  }
  ParsedResults out;
  if (lines.empty()) return out;
  // Top level: the least indentation (a program may indent all of its output).
  size_t top = lines[0].indent;
  for (auto& l : lines) top = std::min(top, l.indent);
  size_t i = 0;
  TapBlock b = parse_block(lines, i, top, 0, out);
  check_plan(b, 1, out);
  if (b.plan && *b.plan == 0 && b.results.empty() && !b.plan_skip.empty())
    b.results.push_back({"all", ResultStatus::skip, b.plan_skip, {}});
  for (auto& r : b.results) out.results.push_back(std::move(r));
  return out;
}

ParsedResults parse_results(ResultFormat f, const std::string& output) {
  return f == ResultFormat::ltp ? parse_ltp(output) : parse_tap(output);
}

}  // namespace fsfault::vm
