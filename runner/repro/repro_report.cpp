#include "runner/repro/repro_report.h"

#include "base/files.h"
#include "runner/repro/flood_html.h"
#include "runner/repro/repro.h"

#include <cctype>

namespace fsfault::vm {

namespace {

// "PASS", or "FAIL <first reason>" from the run's result.json ("ERROR (no result.json)").
std::string verdict_line(const std::string& dir) {
  auto text = base::try_read_file(dir + "/result.json");
  json r = text ? json::parse(*text, nullptr, false) : json();
  if (!r.is_object() || !r.contains("verdict") || !r["verdict"].is_string()) return "ERROR (no result.json)";
  std::string v = r["verdict"];
  for (auto& ch : v) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
  if (v != "PASS" && r.contains("reasons") && r["reasons"].is_array() && !r["reasons"].empty() &&
      r["reasons"][0].is_string())
    v += " " + r["reasons"][0].get<std::string>();
  return v;
}

}  // namespace

std::string repro_report(const std::string& dir, bool accounting) {
  FloodCounts c = count_flood(dir);
  std::string report = flood_report(c, accounting);
  std::string verdict = verdict_line(dir);
  std::string name = "repro";
  if (auto text = base::try_read_file(dir + "/result.json")) {
    json r = json::parse(*text, nullptr, false);
    if (r.is_object() && r.contains("name") && r["name"].is_string()) name = r["name"];
  }
  base::write_file(dir + "/report.html", flood_html(name, verdict, flood_timeline(dir, c), report));
  return report + "repro: " + verdict + "\n";
}

}  // namespace fsfault::vm
