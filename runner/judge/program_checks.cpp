#include "runner/judge/program_checks.h"

#include "runner/judge/third_party_results.h"

#include <regex>

namespace fsfault::vm {

std::string program_of(const json& spec) {
  std::string p;
  if (spec.contains("sh") && spec["sh"].is_string()) {
    p = "sh -c '" + spec["sh"].get<std::string>() + "'";
  } else if (spec.contains("argv") && spec["argv"].is_array()) {
    for (const auto& a : spec["argv"]) p += (p.empty() ? "" : " ") + (a.is_string() ? a.get<std::string>() : a.dump());
  } else if (spec.contains("name") && spec["name"].is_string()) {
    p = spec["name"].get<std::string>();
  }
  if (p.size() > 80) p = p.substr(0, 77) + "...";
  return p.empty() ? "the program" : p;
}

std::string output_excerpt(const std::string& output) {
  auto shown = [](const std::string& s) {
    std::string o;
    for (char c : s) o += c == '\n' ? std::string("\\n") : c == '"' ? std::string("\\\"") : std::string(1, c);
    return o;
  };
  if (output.empty()) return "(no output)";
  if (output.size() <= 160) return "\"" + shown(output) + "\"";
  return "\"" + shown(output.substr(0, 80)) + "\" ... \"" + shown(output.substr(output.size() - 80)) + "\" (" +
         std::to_string(output.size()) + " bytes)";
}

namespace {

// exec and wait must exit 0 unless the step names its `exit`; with `format` the results are
// the verdict (LTP exits 32 after a TCONF), so exit is then checked only when named.
void check_exit(const json& spec, const json& rec, const std::string& what, Outcome& o) {
  if (!rec.contains("exit") || !rec["exit"].is_number_integer()) return;
  std::string d = spec.value("do", std::string());
  bool implied = (d == "exec" || d == "wait") && !spec.contains("format");
  if (!spec.contains("exit") && !implied) return;
  long long want = spec.value("exit", 0LL), got = rec["exit"].get<long long>();
  if (got == want) return;
  std::string how = got > 128 ? " (killed by signal " + std::to_string(got - 128) + ")" : "";
  o.reasons.push_back(what + ": " + program_of(spec) + " exited " + std::to_string(got) + how + ", expected " +
                      std::to_string(want) + (spec.contains("exit") ? "" : " (exit = N says otherwise)") +
                      "; output " + output_excerpt(rec.value("output", std::string())));
}

void check_output_text(const json& spec, const json& rec, const std::string& what, Outcome& o) {
  std::string out = rec.value("output", std::string());
  if (spec.contains("contains")) {
    const json& c = spec["contains"];
    for (const json& want : c.is_array() ? c : json::array({c})) {
      std::string w = want.get<std::string>();
      if (out.find(w) == std::string::npos)
        o.reasons.push_back(what + ": output does not contain \"" + w + "\"; output " + output_excerpt(out));
    }
  }
  if (spec.contains("matches")) {
    std::string re = spec["matches"].get<std::string>();
    if (!std::regex_search(out, std::regex(re, std::regex::ECMAScript)))
      o.reasons.push_back(what + ": output does not match /" + re + "/; output " + output_excerpt(out));
  }
}

// "fanotify05.c:130: TBROK: msg" for LTP, "name: not ok [reason]" for TAP.
std::string result_line(const ThirdPartyResult& r, const std::string& path) {
  bool ltp = r.reason.size() > 5 && r.reason[0] == 'T' && r.reason[5] == ':';
  return path + r.name + ": " + (ltp ? r.reason : "not ok" + (r.reason.empty() ? "" : " " + r.reason));
}

void collect_failures(const ThirdPartyResult& r, const std::string& where, const std::string& path, Outcome& o) {
  if (r.status == ResultStatus::fail) o.reasons.push_back(where + result_line(r, path));
  for (const auto& s : r.subtests) collect_failures(s, where, path + r.name + "/", o);
}

void check_results(const json& spec, const json& rec, const std::string& what, Outcome& o) {
  auto f = result_format_from_name(spec["format"].get<std::string>());
  if (!f) {
    o.reasons.push_back(what + ": unknown format " + spec["format"].dump());
    return;
  }
  std::string out = rec.value("output", std::string());
  std::string where = what + ": " + program_of(spec) + ": ";
  ParsedResults p = parse_results(*f, out);
  for (const auto& problem : p.problems) o.reasons.push_back(where + problem);
  long long dropped = rec.value("output_dropped_bytes", 0LL);
  if (dropped > 0)
    o.reasons.push_back(where + "the output passed the guest's 64 KiB cap (" + std::to_string(dropped) +
                        " bytes dropped): results past it were not seen");
  if (p.results.empty() && p.problems.empty())
    o.reasons.push_back(where + "no " + result_format_name(*f) + " result lines in its output " + output_excerpt(out));
  for (const auto& r : p.results) collect_failures(r, where, "", o);
  for (auto& r : p.results) o.subtests.push_back(std::move(r));
}

}  // namespace

void judge_program_step(const json& spec, const json& rec, const std::string& what, Outcome& o) {
  if (!rec.value("ok", true)) {
    // wait/stop that failed are judged with the other must-work steps (judge.cpp).
    if (spec.value("do", std::string()) == "exec" && !spec.contains("errno"))
      o.reasons.push_back(what + ": " + program_of(spec) + " could not start: " +
                          rec.value("errno_name", std::string("?")));
    return;
  }
  check_exit(spec, rec, what, o);
  check_output_text(spec, rec, what, o);
  // fs-monitor's output is compared with the trace (fs_monitor_parity.cpp), not parsed as results.
  if (spec.contains("format") && spec["format"] != "fs-monitor") check_results(spec, rec, what, o);
}

void apply_third_party_skip(Outcome& o) {
  if (o.verdict != Verdict::pass || o.subtests.empty()) return;
  for (const auto& r : o.subtests)
    if (r.status != ResultStatus::skip) return;
  const ThirdPartyResult& first = o.subtests.front();
  bool ltp = first.reason.rfind("TCONF", 0) == 0;
  o.verdict = Verdict::skip;
  o.reasons.push_back("every third-party result is a skip; first: " + first.name + ": " +
                      (ltp ? first.reason : "SKIP " + first.reason));
}

}  // namespace fsfault::vm
