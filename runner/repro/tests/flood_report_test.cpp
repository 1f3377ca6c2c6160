// fsfault repro after its run, on a recorded bookworm trace (judge/tests/traces, ext4/flood-accounting:
// the disk died, ext4 counted 20 errors, one FS_ERROR event carried error_count 20): accounting on
// by default, the event lines, negative errnos, report.html (its text, and as Chromium renders it).
#include "process/process.h"
#include "process/tool_lookup.h"
#include "runner/judge/judge.h"
#include "runner/judge/tests/outcome_text.h"
#include "runner/repro/flood_html.h"
#include "runner/repro/repro.h"
#include "runner/repro/repro_report.h"
#include "runner/test_temp_dir.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <functional>
#include <regex>

using namespace fsfault::vm;
using fsfault::vm::testing::TempDir;
using fsfault::vm::testing::mentions;
namespace fs = std::filesystem;

namespace {

const std::string kTrace = std::string(FSFAULT_TRACES_DIR) + "/bookworm-6.1/flood-accounting";

// The recorded trace copied into t, with `edit` applied to each records.jsonl record.
void copy_trace(const TempDir& t, const std::function<void(json&)>& edit = {}) {
  for (auto& f : fs::directory_iterator(kTrace)) fs::copy_file(f.path(), t.dir / f.path().filename(), fs::copy_options::overwrite_existing);
  std::string out;
  for (auto r : read_jsonl(kTrace + "/records.jsonl")) {
    if (edit) edit(r);
    if (!r.is_null()) out += r.dump() + "\n";
  }
  t.put("records.jsonl", out);
}

void set_error_count(json& r, long long n) {
  if (r.value("type", std::string()) == "event") r["error_count"] = n;
}

// The judge's Trace of an artifact directory, as scenario_run builds it.
Trace trace_of(const TempDir& t) {
  Trace tr;
  for (auto& r : read_jsonl((t.dir / "records.jsonl").string())) {
    std::string type = r.value("type", std::string());
    if (type == "done") tr.completed = true;
    else if (type != "hello" && type != "phase") tr.records.push_back(r);
  }
  tr.maps.push_back(fsfault::faults::TargetMap::load_file((t.dir / "map-d0.json").string()));
  return tr;
}

std::size_t count_of(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

const char* const kSchedule = "[[rule]]\nname = \"dead\"\nphase = \"armed\"\nmatch = { op = \"any\" }\naction = { die = true }\n";

}  // namespace

TEST(ReproAccounting, HoldsWhenEveryCountedErrorIsInAnEvent) {
  TempDir t;
  copy_trace(t);
  FloodCounts c = count_flood(t.dir.string());
  EXPECT_FALSE(flood_accounting_failure(c));
  std::string r = flood_report(c);
  EXPECT_NE(r.find("accounting:                 PASS"), std::string::npos) << r;
  EXPECT_NE(r.find("event 1: FS_ERROR error EIO (5), error_count 20, inode 19 (/data/many), disk 0, read at 1597 ms"),
            std::string::npos)
      << r;
  // The same through the judge, as `fsfault repro` runs it (expect_accounting on its scenario).
  Scenario s = repro_scenario(kSchedule, t.put("flood.toml", kSchedule), ReproDisk{"ext4-basic", "", std::nullopt}, std::nullopt);
  expect_accounting(s);
  Outcome o = judge(s, trace_of(t));
  EXPECT_EQ(o.verdict, Verdict::pass) << (o.reasons.empty() ? "" : o.reasons[0]);
}

TEST(ReproAccounting, ErrorsThatVanishFailUnlessAccountingIsOff) {
  TempDir t;
  copy_trace(t, [](json& r) { set_error_count(r, 17); });
  FloodCounts c = count_flood(t.dir.string());
  ASSERT_TRUE(flood_accounting_failure(c));
  EXPECT_NE(flood_accounting_failure(c)->find("3 error(s) vanished silently"), std::string::npos);
  EXPECT_NE(flood_report(c).find("accounting:                 FAIL 3 error(s) vanished silently: the filesystem "
                                 "counted 20 errors (0 -> 20), fanotify reported 17 in 1 event(s)"),
            std::string::npos)
      << flood_report(c);
  EXPECT_NE(flood_report(c, false).find("accounting:                 not judged (--no-accounting)"), std::string::npos);

  Scenario s = repro_scenario(kSchedule, t.put("flood.toml", kSchedule), ReproDisk{"ext4-basic", "", std::nullopt}, std::nullopt);
  Outcome off = judge(s, trace_of(t));  // --no-accounting: no expectation added
  EXPECT_EQ(off.verdict, Verdict::pass);
  expect_accounting(s);
  Outcome o = judge(s, trace_of(t));
  EXPECT_EQ(o.verdict, Verdict::fail);
  EXPECT_TRUE(mentions(o, "accounting: 3 error(s) vanished silently")) << (o.reasons.empty() ? "" : o.reasons[0]);

  // No event at all (the first-1-KiB bitmap case): all 20 vanished.
  copy_trace(t, [](json& r) {
    if (r.value("type", std::string()) == "event") r = nullptr;
  });
  EXPECT_TRUE(mentions(judge(s, trace_of(t)), "accounting: 20 error(s) vanished silently"));
  // A visible loss (FAN_Q_OVERFLOW) is no silent vanishing.
  copy_trace(t, [](json& r) {
    if (r.value("type", std::string()) == "event") r = json{{"type", "event"}, {"mask_names", {"Q_OVERFLOW"}}, {"t_ms", 1597}};
  });
  EXPECT_EQ(judge(s, trace_of(t)).verdict, Verdict::pass);
  EXPECT_FALSE(flood_accounting_failure(count_flood(t.dir.string())));
}

TEST(ReproAccounting, NotJudgedOnXfsNorWhenNothingWasCounted) {
  TempDir t;
  copy_trace(t, [](json& r) {
    if (r.value("label", std::string()) == "errors-after") r["value"] = "0\n";
    if (r.value("type", std::string()) == "event") r = nullptr;
  });
  Scenario s = repro_scenario(kSchedule, t.put("flood.toml", kSchedule), ReproDisk{"ext4-basic", "", std::nullopt}, std::nullopt);
  expect_accounting(s);
  EXPECT_EQ(judge(s, trace_of(t)).verdict, Verdict::pass);  // 0 counted, 0 reported
  EXPECT_FALSE(flood_accounting_failure(count_flood(t.dir.string())));

  copy_trace(t, [](json& r) { set_error_count(r, 17); });
  std::string map = fsfault::base::read_file((t.dir / "map-d0.json").string());
  t.put("map-d0.json", std::regex_replace(map, std::regex("\"fs\": *\"ext4\""), "\"fs\": \"xfs\""));
  Outcome o = judge(s, trace_of(t));
  EXPECT_EQ(o.verdict, Verdict::pass);
  EXPECT_NE(flood_report(count_flood(t.dir.string())).find("accounting:                 n/a (xfs has no error counter)"),
            std::string::npos);
}

TEST(ReproReportEvents, NegativeErrnoIsPrintedAndFlagged) {
  EXPECT_EQ(errno_text(117), "EFSCORRUPTED (117)");
  EXPECT_EQ(errno_text(-74), "-EFSBADCRC (-74) [negative errno: kernel reports -74]");
  TempDir t;
  copy_trace(t, [](json& r) {
    if (r.value("type", std::string()) == "event") r["error"] = -74;
  });
  std::string r = flood_report(count_flood(t.dir.string()));
  EXPECT_NE(r.find("event 1: FS_ERROR error -EFSBADCRC (-74) [negative errno: kernel reports -74], error_count 20"),
            std::string::npos)
      << r;
  EXPECT_EQ(r.find("E?"), std::string::npos) << r;
}

namespace {

// The trace with one overflow, one lost-report line and a hostile kernel line added, as report.html.
std::string report_page(const TempDir& t) {
  copy_trace(t, [](json& r) {
    if (r.value("type", std::string()) == "done") r = nullptr;
  });
  std::string records = fsfault::base::read_file((t.dir / "records.jsonl").string());
  records += R"({"type":"event","mask_names":["Q_OVERFLOW"],"t_ms":1600})" "\n"
             R"({"type":"kmsg","level":4,"usec":4950000,"t_ms":2356,"text":"vda: lost filesystem error report for type 1 error -5"})" "\n"
             R"({"type":"kmsg","level":2,"usec":4960000,"t_ms":2356,"text":"EXT4-fs error </title></svg><script>document.body.textContent='gone'</script>"})" "\n"
             R"({"seq":406,"t_ms":2357,"type":"done"})" "\n";
  t.put("records.jsonl", records);
  t.put("result.json", R"({"name":"repro/flood","verdict":"pass","reasons":[]})");
  std::string printed = repro_report(t.dir.string(), true);
  EXPECT_NE(printed.find("repro: PASS"), std::string::npos) << printed;
  return fsfault::base::read_file((t.dir / "report.html").string());
}

}  // namespace

// 24 faults, 11 kernel lines at KERN_ERR or above (10 ext4 errors + the hostile one), 1 FS_ERROR
// event, 1 overflow, 1 lost report.
TEST(ReproHtml, OneMarkPerFaultKernelLineEventAndLoss) {
  TempDir t;
  std::string html = report_page(t);
  EXPECT_EQ(count_of(html, "class=\"mark mark-fault\""), 24u);
  EXPECT_EQ(count_of(html, "class=\"mark mark-kmsg\""), 11u);
  EXPECT_EQ(count_of(html, "class=\"mark mark-event\""), 1u);
  EXPECT_EQ(count_of(html, "class=\"mark mark-overflow\""), 1u);
  EXPECT_EQ(count_of(html, "class=\"mark mark-lost\""), 1u);
  EXPECT_NE(html.find(">20</text>"), std::string::npos);  // the event's error_count
  EXPECT_NE(html.find("FS_ERROR error EIO (5), error_count 20</title>"), std::string::npos);
  EXPECT_EQ(html.find("<script"), std::string::npos);
  EXPECT_NE(html.find("&lt;/title&gt;&lt;/svg&gt;&lt;script&gt;"), std::string::npos);
  EXPECT_EQ(html.find("http://", html.find("<svg") + 60), std::string::npos);  // nothing fetched
  EXPECT_NE(html.find("<td>accounting</td>"), std::string::npos);
}

// What a browser builds from the page: Chromium's DOM after parsing (no script involved).
TEST(ReproHtml, ChromiumRendersEveryMark) {
  auto chromium = fsfault::proc::lookup_tool("chromium");
  if (!chromium) GTEST_SKIP() << "chromium not installed (apt-get install chromium; .ci/install-deps.sh lists it)";
  TempDir t;
  report_page(t);
  fsfault::proc::ProcessOptions po;
  po.timeout = std::chrono::seconds(60);
  po.env["HOME"] = t.dir.string();
  auto r = fsfault::proc::run_process({chromium->string(), "--headless", "--no-sandbox", "--disable-gpu",
                                       "--user-data-dir=" + (t.dir / "profile").string(), "--dump-dom",
                                       "file://" + (t.dir / "report.html").string()},
                                      po);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string& dom = r.out;
  EXPECT_EQ(count_of(dom, "class=\"mark mark-fault\""), 24u) << dom.substr(0, 2000);
  EXPECT_EQ(count_of(dom, "class=\"mark mark-kmsg\""), 11u);
  EXPECT_EQ(count_of(dom, "class=\"mark mark-event\""), 1u);
  EXPECT_EQ(count_of(dom, "class=\"mark mark-overflow\""), 1u);
  EXPECT_EQ(count_of(dom, "class=\"mark mark-lost\""), 1u);
  EXPECT_EQ(count_of(dom, "<script"), 0u);
  EXPECT_EQ(count_of(dom, "<svg"), 1u);
}
