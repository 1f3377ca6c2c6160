#include "runner/repro/flood_html.h"

#include <algorithm>
#include <sstream>

namespace fsfault::vm {

std::string html_escape(const std::string& text) {
  std::string out;
  out.reserve(text.size());
  for (char ch : text) {
    switch (ch) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default:
        if (static_cast<unsigned char>(ch) < 0x20 && ch != '\t') out += "\xEF\xBF\xBD";
        else out += ch;
    }
  }
  return out;
}

namespace {

constexpr int kLeft = 130, kWidth = 1000, kLane = 40, kTop = 30;

const char* const kStyle = R"(body{font:14px sans-serif;margin:20px;color:#222}
h1{font-size:18px} .verdict{font-weight:bold} td{padding:2px 10px;vertical-align:top;font-family:monospace}
tr:nth-child(even){background:#f4f4f4} .lane{font-size:12px;fill:#444} .axis{stroke:#bbb}
.mark-fault{stroke:#c62828} .mark-kmsg{stroke:#ef6c00} .mark-event{fill:#1565c0}
.mark-overflow{fill:#6a1b9a} .mark-lost{fill:#000} .count{font-size:11px;fill:#1565c0}
.clock{font-size:12px;color:#666})";

int lane_of(MarkKind k) { return static_cast<int>(k); }

// One mark: a tick for faults and kernel lines, a dot for events, a square for losses.
void svg_mark(std::ostringstream& os, const Mark& m, double x) {
  int y = kTop + lane_of(m.kind) * kLane;
  std::string cls = std::string("mark mark-") + mark_kind_name(m.kind);
  std::string title = "<title>" + std::to_string(m.t_ms) + " ms: " + html_escape(m.text) + "</title>";
  if (m.kind == MarkKind::fault || m.kind == MarkKind::kmsg)
    os << "<line class=\"" << cls << "\" x1=\"" << x << "\" x2=\"" << x << "\" y1=\"" << y - 12 << "\" y2=\"" << y + 12
       << "\">" << title << "</line>\n";
  else if (m.kind == MarkKind::event)
    os << "<circle class=\"" << cls << "\" cx=\"" << x << "\" cy=\"" << y << "\" r=\"6\">" << title << "</circle>\n";
  else
    os << "<rect class=\"" << cls << "\" x=\"" << x - 5 << "\" y=\"" << y - 5 << "\" width=\"10\" height=\"10\">"
       << title << "</rect>\n";
}

// The error_count beside an FS_ERROR dot (from the mark's text: "..., error_count N").
void svg_count(std::ostringstream& os, const Mark& m, double x) {
  auto at = m.text.rfind("error_count ");
  if (m.kind != MarkKind::event || at == std::string::npos) return;
  os << "<text class=\"count\" x=\"" << x + 8 << "\" y=\"" << kTop + lane_of(m.kind) * kLane - 8 << "\">"
     << html_escape(m.text.substr(at + 12)) << "</text>\n";
}

void svg_timeline(std::ostringstream& os, const FloodTimeline& tl) {
  long long t0 = 0, t1 = 1;
  if (!tl.marks.empty()) {
    auto [lo, hi] = std::minmax_element(tl.marks.begin(), tl.marks.end(),
                                        [](const Mark& a, const Mark& b) { return a.t_ms < b.t_ms; });
    t0 = lo->t_ms;
    t1 = std::max(hi->t_ms, t0 + 1);
  }
  auto x_of = [&](long long t) { return kLeft + static_cast<double>(t - t0) * (kWidth - kLeft - 20) / (t1 - t0); };
  int height = kTop + 5 * kLane + 10;
  os << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << kWidth << "\" height=\"" << height << "\">\n";
  const char* lanes[] = {"faults injected", "kernel errors", "FS_ERROR events", "overflows", "lost reports"};
  for (int i = 0; i < 5; ++i) {
    int y = kTop + i * kLane;
    os << "<text class=\"lane\" x=\"4\" y=\"" << y + 4 << "\">" << lanes[i] << "</text><line class=\"axis\" x1=\""
       << kLeft << "\" x2=\"" << kWidth - 20 << "\" y1=\"" << y << "\" y2=\"" << y << "\"/>\n";
  }
  os << "<text class=\"lane\" x=\"" << kLeft << "\" y=\"" << height - 2 << "\">" << t0 << " ms</text><text class=\"lane\" x=\""
     << kWidth - 90 << "\" y=\"" << height - 2 << "\">" << t1 << " ms</text>\n";
  for (auto& m : tl.marks) {
    svg_mark(os, m, x_of(m.t_ms));
    svg_count(os, m, x_of(m.t_ms));
  }
  os << "</svg>\n";
}

// flood_report's "label:   value" lines as table rows.
void summary_table(std::ostringstream& os, const std::string& report) {
  os << "<table class=\"summary\">\n";
  std::istringstream in(report);
  std::string line;
  while (std::getline(in, line)) {
    auto colon = line.find(':');
    std::string key = colon == std::string::npos ? line : line.substr(0, colon);
    std::string value = colon == std::string::npos ? "" : line.substr(colon + 1);
    value.erase(0, value.find_first_not_of(' ') == std::string::npos ? value.size() : value.find_first_not_of(' '));
    os << "<tr><td>" << html_escape(key) << "</td><td>" << html_escape(value) << "</td></tr>\n";
  }
  os << "</table>\n";
}

}  // namespace

std::string flood_html(const std::string& title, const std::string& verdict, const FloodTimeline& tl,
                       const std::string& report) {
  std::ostringstream os;
  os << "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>" << html_escape(title)
     << "</title>\n<style>" << kStyle << "</style></head><body>\n<h1>" << html_escape(title) << "</h1>\n<p class=\"verdict\">"
     << html_escape(verdict) << "</p>\n";
  svg_timeline(os, tl);
  os << "<p class=\"clock\">Guest clock (ms since the harness started). " << html_escape(tl.fault_clock) << "; "
     << html_escape(tl.kmsg_clock) << "; events at the time the harness read them. Hover a mark for its text.</p>\n";
  summary_table(os, report);
  os << "</body></html>\n";
  return os.str();
}

}  // namespace fsfault::vm
