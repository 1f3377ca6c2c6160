#include "runner/judge/lost_reports.h"

#include <charconv>
#include <iterator>

namespace fsfault::vm {

namespace {

// Reads `word` at the front of s and drops it.
bool take(std::string_view& s, std::string_view word) {
  if (!s.starts_with(word)) return false;
  s.remove_prefix(word.size());
  return true;
}

// Reads a number at the front of s (base 10, or 16 after "0x") and drops it.
template <typename T>
bool take_number(std::string_view& s, T& out, int base = 10) {
  if (base == 16 && !take(s, "0x")) return false;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out, base);
  if (ec != std::errc() || end == s.data()) return false;
  s.remove_prefix(static_cast<size_t>(end - s.data()));
  return true;
}

// "type %u[ pos 0x%llx len 0x%llx] error %d", the line's end.
bool take_tail(std::string_view& s, LostReport& r) {
  if (!take(s, "type ") || !take_number(s, r.type)) return false;
  unsigned long long pos = 0, len = 0;
  if (r.kind == LostKind::file_io &&
      !(take(s, " pos ") && take_number(s, pos, 16) && take(s, " len ") && take_number(s, len, 16)))
    return false;
  if (!take(s, " error ") || !take_number(s, r.error)) return false;
  return s.empty() || s.front() == ' ' || s.front() == '\n';
}

}  // namespace

std::optional<LostReport> parse_lost_report(std::string_view text) {
  static constexpr std::string_view file_io = "lost file I/O error report for ino ";
  static constexpr std::string_view filesystem = "lost filesystem error report for ";
  LostReport r;
  size_t at = text.find(file_io);
  if (at == std::string_view::npos) {
    at = text.find(filesystem);
    if (at == std::string_view::npos) return std::nullopt;
  } else {
    r.kind = LostKind::file_io;
  }
  // "%s: " before the message: the device (the guest's text may carry nothing else there).
  if (at >= 2 && text.substr(at - 2, 2) == ": ") r.device = std::string(text.substr(0, at - 2));
  std::string_view s = text.substr(at + (r.kind == LostKind::file_io ? file_io.size() : filesystem.size()));
  if (r.kind == LostKind::file_io) {
    unsigned long long ino = 0;
    if (!take_number(s, ino) || !take(s, " ")) return std::nullopt;
    r.ino = ino;
  }
  if (!take_tail(s, r)) return std::nullopt;
  return r;
}

const char* fserror_type_name(unsigned type) {
  static const char* const names[] = {"buffered read", "buffered write", "direct I/O read",
                                      "direct I/O write", "data lost", "metadata"};
  return type < std::size(names) ? names[type] : "unknown";
}

LostTally tally_lost_reports(const std::vector<json>& records) {
  LostTally t;
  for (const auto& r : records) {
    if (!r.is_object() || r.value("type", json()) != "kmsg" || !r.contains("text") || !r["text"].is_string()) continue;
    auto lost = parse_lost_report(r["text"].get_ref<const std::string&>());
    if (!lost) continue;
    ++t.by_kind_type[{lost->kind, lost->type}];
    ++t.total;
  }
  return t;
}

std::string lost_tally_text(const LostTally& t) {
  if (t.total == 0) return "";
  std::string s;
  for (const auto& [key, n] : t.by_kind_type)
    s += (s.empty() ? "" : ", ") + std::string(key.first == LostKind::file_io ? "file I/O" : "filesystem") +
         " type " + std::to_string(key.second) + " (" + fserror_type_name(key.second) + ") " + std::to_string(n);
  return s + " (a lower bound: fserror_report() prints them with pr_err_ratelimited, fs/fserror.c:178-183 in 7.2)";
}

void note_lost_reports(const Trace& t, Outcome& o) {
  std::string text = lost_tally_text(tally_lost_reports(t.records));
  if (!text.empty()) o.notes.push_back("lost reports (kernel log): " + text);
}

}  // namespace fsfault::vm
