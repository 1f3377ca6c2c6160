// fserror_report()'s "lost … error report" lines (fs/fserror.c, 7.2.13), parsed and counted per
// kind and type in the judge's accounting note.
#include "runner/judge/lost_reports.h"

#include "runner/judge/judge.h"

#include <gtest/gtest.h>

#include <algorithm>

using namespace fsfault::vm;

namespace {

// As xfs/fserror-pool-lost-7 printed them on fi-sid 7.2.13 (fs/fserror.c:179 and :183).
const char* kFileIo = "vda: lost file I/O error report for ino 131 type 1 pos 0x20000 len 0x1000 error -5";
const char* kMetadata = "vda: lost filesystem error report for type 5 error -117";

json kmsg(const std::string& text) { return json{{"type", "kmsg"}, {"level", 3}, {"usec", 1}, {"text", text}}; }

}  // namespace

TEST(JudgeLostReports, ParsesBothFormats) {
  auto f = parse_lost_report(kFileIo);
  ASSERT_TRUE(f);
  EXPECT_EQ(f->kind, LostKind::file_io);
  EXPECT_EQ(f->device, "vda");
  EXPECT_EQ(f->ino, 131u);
  EXPECT_EQ(f->type, 1u);
  EXPECT_EQ(f->error, -5);
  auto m = parse_lost_report(kMetadata);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->kind, LostKind::filesystem);
  EXPECT_EQ(m->ino, std::nullopt);
  EXPECT_EQ(m->type, 5u);
  EXPECT_EQ(m->error, -117);
  EXPECT_STREQ(fserror_type_name(5), "metadata");
  EXPECT_STREQ(fserror_type_name(6), "unknown");
  for (const char* bad : {"vda: lost file I/O error report for ino x type 1 pos 0x0 len 0x0 error -5",
                          "vda: lost file I/O error report for ino 1 type 1 error -5",  // no pos/len
                          "vda: lost filesystem error report for type 5 error",
                          "vda: lost filesystem error report for type 5 error -5x",
                          "lost filesystem error report for type 99999999999 error -5", "EXT4-fs error"})
    EXPECT_FALSE(parse_lost_report(bad)) << bad;
}

// Lost lines of two kinds are counted separately in the accounting note, as a lower bound.
TEST(JudgeLostReports, AccountingNoteCountsEachKindAndType) {
  Scenario s;
  s.expects.push_back(json{{"accounting", "errors"}, {"before", "b"}, {"after", "a"}});
  Trace t;
  t.completed = true;
  t.records = {json{{"type", "step"}, {"id", "0"}, {"do", "read"}, {"label", "b"}, {"value", "0"}, {"ok", true}},
               kmsg(kFileIo), kmsg(kFileIo), kmsg(kMetadata),
               kmsg("vda: lost file I/O error report for ino 7 type 0 pos 0x0 len 0x1000 error -5"),
               json{{"type", "step"}, {"id", "1"}, {"do", "read"}, {"label", "a"}, {"value", "4"}, {"ok", true}}};
  Outcome o = judge(s, t);
  std::string note;
  for (auto& n : o.notes)
    if (n.rfind("accounting: ", 0) == 0) note = n;
  EXPECT_NE(note.find("0 in 0 event(s), 0 overflow(s), 4 lost-report line(s)"), std::string::npos) << note;
  const std::string per_kind =
      "lost reports (kernel log): file I/O type 0 (buffered read) 1, file I/O type 1 (buffered write) 2, filesystem "
      "type 5 (metadata) 1 (a lower bound: fserror_report() prints them with pr_err_ratelimited, "
      "fs/fserror.c:178-183 in 7.2)";
  EXPECT_EQ(o.verdict, Verdict::pass) << "4 errors counted, none reported, the loss visible";
  EXPECT_EQ(std::count(o.notes.begin(), o.notes.end(), per_kind), 1) << "the per-kind count, once";
  // Without accounting (xfs/fserror-pool-lost-7 has a kmsg expectation only) the count is still shown.
  Scenario kmsg_only;
  kmsg_only.expects.push_back(json{{"kmsg", "lost file I/O error report for ino"}});
  Outcome k = judge(kmsg_only, t);
  EXPECT_EQ(k.verdict, Verdict::pass);
  EXPECT_EQ(std::count(k.notes.begin(), k.notes.end(), per_kind), 1);
  // A line that only looks like a report is no visible loss: 4 counted, 3 lost lines, none reported.
  t.records[4] = kmsg("vda: lost file I/O error report for ino 7 type 0 pos 0x0 len 0x1000 error");
  o = judge(s, t);
  EXPECT_EQ(o.verdict, Verdict::pass) << "three lines still make the loss visible";
  for (auto& n : o.notes) {
    if (n.rfind("accounting: ", 0) == 0) {
      EXPECT_NE(n.find("3 lost-report line(s)"), std::string::npos) << n;
    }
  }
  t.records.erase(t.records.begin() + 1, t.records.begin() + 5);
  o = judge(s, t);
  EXPECT_EQ(o.verdict, Verdict::fail);
  for (auto& n : o.notes) EXPECT_EQ(n.find("lost reports"), std::string::npos) << n;
}
