#include "runner/report/report.h"

#include <fnmatch.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <sstream>
#include <stdexcept>

namespace fsfault::vm {

namespace {
// KTAP test names may not contain '#' (it starts a directive); keep them on
// one line.
std::string ktap_name(const std::string& n) {
  std::string o;
  for (char c : n) o += (c == '#' || c == '\n') ? '_' : c;
  return o;
}

std::string join(const std::vector<std::string>& v, const std::string& sep) {
  std::string o;
  for (auto& x : v) o += (o.empty() ? "" : sep) + x;
  return o;
}

// A scenario's third-party results as a nested KTAP test (ktap.rst: a subtest's lines are
// indented four spaces and precede its parent's result line).
void ktap_subtests(std::ostream& os, const std::vector<ThirdPartyResult>& results, const std::string& indent) {
  os << indent << "KTAP version 1\n" << indent << "1.." << results.size() << "\n";
  int i = 0;
  for (const auto& r : results) {
    ++i;
    if (!r.subtests.empty()) ktap_subtests(os, r.subtests, indent + "    ");
    bool ok = r.status != ResultStatus::fail && r.status != ResultStatus::todo;
    if (r.status == ResultStatus::fail && !r.reason.empty()) os << indent << "# " << ktap_name(r.reason) << "\n";
    os << indent << (ok ? "ok " : "not ok ") << i << " " << ktap_name(r.name);
    if (r.status == ResultStatus::skip) os << " # SKIP " << ktap_name(r.reason);
    else if (r.status == ResultStatus::todo) os << " # TODO " << ktap_name(r.reason);
    os << "\n";
  }
}
}  // namespace

std::string ktap(const std::vector<Result>& results) {
  std::ostringstream os;
  os << "KTAP version 1\n1.." << results.size() << "\n";
  int i = 0;
  for (auto& r : results) {
    ++i;
    for (auto& reason : r.outcome.reasons) os << "# " << ktap_name(r.name) << ": " << reason << "\n";
    for (auto& note : r.outcome.notes)
      if (note.rfind("latency: ", 0) == 0) os << "# " << ktap_name(r.name) << ": " << note << "\n";
    if (!r.outcome.subtests.empty()) ktap_subtests(os, r.outcome.subtests, "    ");
    const Verdict v = r.outcome.verdict;
    os << (verdict_fails(v) ? "not ok " : "ok ") << i << " " << ktap_name(r.name);
    if (v == Verdict::xfail)  // kselftest's convention: an expected failure passes
      os << " # XFAIL " << join(r.outcome.gaps, "; ");
    else if (v == Verdict::skip)
      os << " # SKIP " << (r.outcome.reasons.empty() ? "" : r.outcome.reasons.front());
    else if (v == Verdict::timeout)
      os << " # TIMEOUT";
    else if (v == Verdict::error)
      os << " # ERROR";
    else if (v == Verdict::interrupted)
      os << " # ERROR interrupted";
    os << "\n";
  }
  return os.str();
}

std::string xml_escape(const std::string& s) {
  std::string o;
  for (char c : s) {
    switch (c) {
      case '&': o += "&amp;"; break;
      case '<': o += "&lt;"; break;
      case '>': o += "&gt;"; break;
      case '"': o += "&quot;"; break;
      case '\'': o += "&apos;"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20 && c != '\n' && c != '\t') o += ' ';
        else o += c;
    }
  }
  return o;
}

namespace {

void count_subtests(const std::vector<ThirdPartyResult>& results, int& tests, int& fail, int& skip) {
  for (const auto& r : results) {
    ++tests;
    if (r.status == ResultStatus::fail) ++fail;
    if (r.status == ResultStatus::skip) ++skip;
    count_subtests(r.subtests, tests, fail, skip);
  }
}

// Each third-party result is a testcase of its own, named SCENARIO/RESULT[/SUBRESULT].
void junit_subtests(std::ostream& os, const Result& scenario, const std::vector<ThirdPartyResult>& results,
                    const std::string& prefix) {
  for (const auto& r : results) {
    std::string name = prefix + "/" + r.name;
    os << "    <testcase classname=\"" << xml_escape(scenario.name) << "\" name=\"" << xml_escape(name)
       << "\" file=\"" << xml_escape(scenario.file) << "\"";
    if (r.status == ResultStatus::fail)
      os << ">\n      <failure message=\"" << xml_escape(r.reason) << "\"/>\n    </testcase>\n";
    else if (r.status == ResultStatus::skip)
      os << ">\n      <skipped message=\"" << xml_escape(r.reason) << "\"/>\n    </testcase>\n";
    else
      os << "/>\n";
    junit_subtests(os, scenario, r.subtests, name);
  }
}

}  // namespace

std::string junit(const std::vector<Result>& results, const std::string& suite) {
  int fail = 0, err = 0, skip = 0;
  int tests = static_cast<int>(results.size());
  double total = 0;
  for (auto& r : results) {
    total += r.outcome.seconds;
    if (r.outcome.verdict == Verdict::fail || r.outcome.verdict == Verdict::fixed) ++fail;
    if (r.outcome.verdict == Verdict::timeout || r.outcome.verdict == Verdict::error ||
        r.outcome.verdict == Verdict::interrupted)
      ++err;
    if (r.outcome.verdict == Verdict::skip || r.outcome.verdict == Verdict::xfail) ++skip;
    count_subtests(r.outcome.subtests, tests, fail, skip);
  }
  std::ostringstream os;
  char tbuf[32];
  snprintf(tbuf, sizeof tbuf, "%.3f", total);
  os << "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites>\n  <testsuite name=\"" << xml_escape(suite)
     << "\" tests=\"" << tests << "\" failures=\"" << fail << "\" errors=\"" << err << "\" skipped=\""
     << skip << "\" time=\"" << tbuf << "\">\n";
  for (auto& r : results) {
    junit_subtests(os, r, r.outcome.subtests, r.name);
    std::string cls = r.name.substr(0, r.name.find('/'));
    snprintf(tbuf, sizeof tbuf, "%.3f", r.outcome.seconds);
    os << "    <testcase classname=\"" << xml_escape(cls) << "\" name=\"" << xml_escape(r.name) << "\" file=\""
       << xml_escape(r.file) << "\" time=\"" << tbuf << "\"";
    std::string body;
    for (auto& x : r.outcome.reasons) body += x + "\n";
    std::string first = r.outcome.reasons.empty() ? "" : r.outcome.reasons.front();
    switch (r.outcome.verdict) {
      case Verdict::pass: os << "/>\n"; continue;
      case Verdict::skip: os << ">\n      <skipped message=\"" << xml_escape(first) << "\"/>\n"; break;
      case Verdict::xfail:
        os << ">\n      <skipped message=\"" << xml_escape("known gap: " + join(r.outcome.gaps, "; ")) << "\"/>\n";
        break;
      case Verdict::fail:
      case Verdict::fixed:
        os << ">\n      <failure message=\"" << xml_escape(first) << "\">" << xml_escape(body) << "</failure>\n";
        break;
      case Verdict::timeout:
        os << ">\n      <error type=\"timeout\" message=\"" << xml_escape(first) << "\">" << xml_escape(body)
           << "</error>\n";
        break;
      case Verdict::error:
      case Verdict::interrupted:
        os << ">\n      <error type=\"" << verdict_name(r.outcome.verdict) << "\" message=\"" << xml_escape(first)
           << "\">" << xml_escape(body) << "</error>\n";
        break;
    }
    if (!r.outcome.notes.empty()) {
      std::string notes;
      for (auto& n : r.outcome.notes) notes += n + "\n";
      os << "      <system-out>" << xml_escape(notes) << "</system-out>\n";
    }
    os << "    </testcase>\n";
  }
  os << "  </testsuite>\n</testsuites>\n";
  return os.str();
}

bool name_matches(const std::string& globs, const std::string& name) {
  if (globs.empty()) return true;
  std::stringstream ss(globs);
  std::string g;
  while (std::getline(ss, g, ',')) {
    if (g.empty()) continue;
    if (fnmatch(g.c_str(), name.c_str(), 0) == 0) return true;
    // A bare word matches as a substring ("eio" selects ext4/eio-inode-read).
    if (g.find_first_of("*?[") == std::string::npos && name.find(g) != std::string::npos) return true;
  }
  return false;
}

Shard parse_shard(const std::string& s) {
  Shard sh;
  auto slash = s.find('/');
  try {
    if (slash == std::string::npos) throw std::invalid_argument("no slash");
    size_t a = 0, b = 0;
    sh.k = std::stoi(s.substr(0, slash), &a);
    sh.n = std::stoi(s.substr(slash + 1), &b);
    if (a != slash || b != s.size() - slash - 1) throw std::invalid_argument("junk");
  } catch (const std::exception&) {
    throw std::runtime_error("--shard expects K/N (e.g. 2/4), got '" + s + "'");
  }
  if (sh.n < 1 || sh.k < 1 || sh.k > sh.n) throw std::runtime_error("--shard K/N needs 1 <= K <= N, got '" + s + "'");
  return sh;
}

std::vector<std::string> select_shard(std::vector<std::string> names, const Shard& sh) {
  std::sort(names.begin(), names.end());
  names.erase(std::unique(names.begin(), names.end()), names.end());
  std::vector<std::string> out;
  for (size_t i = 0; i < names.size(); ++i)
    if (static_cast<int>(i % static_cast<size_t>(sh.n)) == sh.k - 1) out.push_back(names[i]);
  return out;
}

}  // namespace fsfault::vm
