// Fuzzes the parser of third-party test output (LTP result lines, TAP, KTAP nesting): a program
// under test prints anything. The first byte picks the format, the rest is the output; the
// results are then written as nested KTAP and JUnit, as a vm-test run would.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "runner/judge/third_party_results.h"
#include "runner/report/report.h"

using namespace fsfault::vm;

namespace {

size_t count(const std::vector<ThirdPartyResult>& rs, int depth) {
  if (depth > 64) abort();  // nesting is bounded by the parser
  size_t n = rs.size();
  for (const auto& r : rs) n += count(r.subtests, depth + 1);
  return n;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  ResultFormat f = data[0] % 3 == 0 ? ResultFormat::ltp : data[0] % 3 == 1 ? ResultFormat::tap : ResultFormat::ktap;
  std::string output(reinterpret_cast<const char*>(data + 1), size - 1);
  ParsedResults p = parse_results(f, output);
  size_t lines = 1;
  for (char c : output) lines += c == '\n';
  // At most one result per line, plus one stand-in parent per block whose parent line never came.
  if (count(p.results, 0) > 2 * lines) abort();
  Result r;
  r.name = "fuzz/third-party";
  r.outcome.verdict = Verdict::fail;
  r.outcome.subtests = std::move(p.results);
  std::string k = ktap({r});
  std::string j = junit({r});
  if (k.rfind("KTAP version 1\n", 0) != 0 || j.empty()) abort();
  return 0;
}
