// Third-party test output as results: LTP's result lines, TAP and KTAP (nesting by
// indentation). A step with `format = "ltp" | "tap" | "ktap"` has its output parsed here; each
// result becomes a nested subtest of the scenario (runner/report) and its failures fail it.
// Pure text in, results out: the output is untrusted (fuzz/third_party_results_fuzzer.cpp).
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace fsfault::vm {

enum class ResultFormat { ltp, tap, ktap };
std::optional<ResultFormat> result_format_from_name(const std::string& name);
const char* result_format_name(ResultFormat f);  // "LTP", "TAP", "KTAP"

// todo: a TAP `not ok … # TODO` (a known failure: it does not fail the scenario).
enum class ResultStatus { pass, fail, skip, todo };

struct ThirdPartyResult {
  std::string name;    // LTP "fanotify05.c:123", TAP's description (or "test N")
  ResultStatus status = ResultStatus::pass;
  std::string reason;  // LTP "TBROK: message", TAP's SKIP/TODO reason
  std::vector<ThirdPartyResult> subtests;  // KTAP nesting
};

struct ParsedResults {
  std::vector<ThirdPartyResult> results;
  // Failures the results themselves do not carry: a plan the results fall short of, "Bail out!",
  // an LTP summary counting more failures than the lines show.
  std::vector<std::string> problems;
};

// LTP: `file.c:123: TPASS: msg` (lib/tst_test.c's new API), `name  1  TPASS  :  msg` (the old
// one); TFAIL, TBROK, TWARN fail, TCONF is a skip, TINFO/TDEBUG are ignored.
ParsedResults parse_ltp(const std::string& output);
// TAP 13/14 and KTAP v1: `ok N desc`, `not ok N desc`, `# SKIP`, `# TODO`, plan `1..N`,
// `Bail out!`; a deeper-indented block is the subtests of the result line that follows it.
ParsedResults parse_tap(const std::string& output);
ParsedResults parse_results(ResultFormat f, const std::string& output);

}  // namespace fsfault::vm
