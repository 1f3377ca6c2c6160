// Fuzzes the parser of fserror's "lost … error report" kernel log lines (runner/judge/
// lost_reports.h): the kernel log is untrusted text. Each input line is a kmsg record's text;
// the lines are parsed, tallied per kind and type and written as the accounting note's text.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "runner/judge/lost_reports.h"

using namespace fsfault::vm;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  std::vector<json> records;
  long long parsed = 0;
  size_t start = 0;
  while (start <= text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    std::string_view line(text.data() + start, end - start);
    if (auto r = parse_lost_report(line)) {
      ++parsed;
      // A report is only ever read from one of the two formats, and carries an inode iff file I/O.
      bool file_io = line.find("lost file I/O error report for ino ") != std::string_view::npos;
      bool filesystem = line.find("lost filesystem error report for type ") != std::string_view::npos;
      if (r->kind == LostKind::file_io ? !file_io || !r->ino : !filesystem || r->ino) abort();
      if (fserror_type_name(r->type) == nullptr) abort();
    }
    // Invalid UTF-8 cannot be a json string (the guest escapes it); such lines are not records.
    try {
      records.push_back(json{{"type", "kmsg"}, {"text", std::string(line)}});
      (void)records.back().dump();
    } catch (const json::exception&) {
      records.pop_back();
    }
    start = end + 1;
  }
  LostTally t = tally_lost_reports(records);
  long long sum = 0;
  for (const auto& [key, n] : t.by_kind_type) sum += n;
  if (sum != t.total || t.total > parsed) abort();
  std::string note = lost_tally_text(t);
  if (note.empty() != (t.total == 0)) abort();
  return 0;
}
