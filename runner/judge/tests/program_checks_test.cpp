// Program steps judged on guest records in the harness's format (exec/wait records as
// guest-tests/guest/steps/exec_step.cpp and background_steps.cpp write them).
#include "runner/judge/judge.h"
#include "runner/judge/tests/outcome_text.h"

#include <gtest/gtest.h>

#include <sstream>

using namespace fsfault::vm;

using fsfault::vm::testing::reasons_text;

namespace {

Trace trace(const std::string& jsonl) {
  Trace t;
  std::istringstream in(jsonl);
  std::string line;
  while (std::getline(in, line))
    if (!line.empty()) t.records.push_back(json::parse(line));
  t.completed = true;
  return t;
}

Outcome run(const std::string& steps, const std::string& jsonl) {
  Scenario s = parse_scenario_text("name = \"p\"\nstep = [\n" + steps + "\n]\n", "p.toml");
  return judge(s, trace(jsonl));
}

const char* kMissing =
    R"({"type":"step","id":"0","do":"exec","ok":false,"errno":2,"errno_name":"ENOENT","seq":0,"t_ms":900})";
const char* kExit3 =
    R"({"type":"step","id":"0","do":"exec","ok":true,"errno":0,"errno_name":"OK","exit":3,"output":"usage: t.sh DIR\n","seq":0,"t_ms":900})";

std::string exec_record(const std::string& output, int exit) {
  json r{{"type", "step"}, {"id", "0"}, {"do", "exec"}, {"ok", true}, {"errno", 0}, {"errno_name", "OK"},
         {"exit", exit}, {"output", output}, {"seq", 0}, {"t_ms", 900}};
  return r.dump();
}

}  // namespace

TEST(ProgramSteps, ProgramThatCannotStartFailsNamingIt) {
  Outcome o = run(R"({ do = "exec", argv = ["/bin/nope", "x"] })", kMissing);
  EXPECT_EQ(o.verdict, Verdict::fail);
  EXPECT_EQ(reasons_text(o), "step 0 (exec): /bin/nope x could not start: ENOENT\n");
  EXPECT_EQ(run(R"({ do = "exec", argv = ["/bin/nope"], errno = "ENOENT" })", kMissing).verdict, Verdict::pass);
}

TEST(ProgramSteps, NonZeroExitFailsUnlessExitNamesIt) {
  Outcome o = run(R"({ do = "exec", sh = "t.sh" })", kExit3);
  EXPECT_EQ(o.verdict, Verdict::fail);
  EXPECT_NE(reasons_text(o).find("step 0 (exec): sh -c 't.sh' exited 3, expected 0"), std::string::npos) << reasons_text(o);
  EXPECT_NE(reasons_text(o).find("\"usage: t.sh DIR\\n\""), std::string::npos) << reasons_text(o);
  EXPECT_EQ(run(R"({ do = "exec", sh = "t.sh", exit = 3 })", kExit3).verdict, Verdict::pass);
  EXPECT_EQ(run(R"({ do = "exec", sh = "t.sh", exit = 0 })", kExit3).verdict, Verdict::fail);
}

TEST(ProgramSteps, WaitedProgramMustExitZeroStopNeedNot) {
  std::string wait = R"({"type":"step","id":"1","do":"wait","ok":true,"errno":0,"name":"s","exit":4,"output":"x\n"})";
  std::string spawn = R"({"type":"step","id":"0","do":"spawn","ok":true,"errno":0,"name":"s","pid":9})";
  std::string steps = "{ do = \"spawn\", name = \"s\", sh = \"exit 4\" },\n{ do = \"wait\", name = \"s\"";
  EXPECT_EQ(run(steps + " }", spawn + "\n" + wait).verdict, Verdict::fail);
  EXPECT_EQ(run(steps + ", exit = 4 }", spawn + "\n" + wait).verdict, Verdict::pass);
  std::string stop = R"({"type":"step","id":"1","do":"stop","ok":true,"errno":0,"name":"s","exit":143,"output":""})";
  EXPECT_EQ(run("{ do = \"spawn\", name = \"s\", sh = \"sleep 9\" },\n{ do = \"stop\", name = \"s\" }",
                spawn + "\n" + stop).verdict, Verdict::pass);
}

TEST(ProgramSteps, ContainsAndMatchesQuoteTheOutput) {
  std::string rec = exec_record("fs-monitor: error 5 count 1\n", 0);
  EXPECT_EQ(run(R"({ do = "exec", sh = "m", contains = "error 5", matches = "count [0-9]+" })", rec).verdict,
            Verdict::pass);
  Outcome o = run(R"({ do = "exec", sh = "m", contains = ["error 5", "ino 13"], matches = "count 2$" })", rec);
  EXPECT_EQ(o.verdict, Verdict::fail);
  EXPECT_NE(reasons_text(o).find("output does not contain \"ino 13\"; output \"fs-monitor: error 5 count 1\\n\""),
            std::string::npos) << reasons_text(o);
  EXPECT_NE(reasons_text(o).find("output does not match /count 2$/"), std::string::npos) << reasons_text(o);
  EXPECT_EQ(o.reasons.size(), 2u);
}

TEST(ProgramSteps, LtpTbrokFailsAndEveryResultIsASubtest) {
  std::string out = "fanotify22.c:200: TPASS: got FS_ERROR\ntst_test.c:1134: TBROK: mount failed: EINVAL (22)\n";
  // LTP exits 2 after a TBROK: with format, the results are the verdict, not the exit status.
  Outcome o = run(R"({ do = "exec", argv = ["/opt/ltp/fanotify22"], format = "ltp" })", exec_record(out, 2));
  EXPECT_EQ(o.verdict, Verdict::fail);
  EXPECT_EQ(reasons_text(o), "step 0 (exec): /opt/ltp/fanotify22: tst_test.c:1134: TBROK: mount failed: EINVAL (22)\n");
  ASSERT_EQ(o.subtests.size(), 2u);
  EXPECT_EQ(o.subtests[0].status, ResultStatus::pass);
}

TEST(ProgramSteps, LtpOnlyTconfIsASkipWithTheReason) {
  std::string out = "fanotify20.c:47: TCONF: FAN_REPORT_PIDFD not supported in kernel?\n\nSummary:\nskipped  1\n";
  Outcome o = run(R"({ do = "exec", argv = ["/opt/ltp/fanotify20"], format = "ltp" })", exec_record(out, 32));
  EXPECT_EQ(o.verdict, Verdict::skip) << reasons_text(o);
  ASSERT_EQ(o.reasons.size(), 1u);
  EXPECT_NE(o.reasons[0].find("fanotify20.c:47: TCONF: FAN_REPORT_PIDFD not supported"), std::string::npos);
  // One TPASS beside the TCONF: a pass.
  out = "fanotify20.c:40: TPASS: ok\n" + out;
  EXPECT_EQ(run(R"({ do = "exec", argv = ["/t"], format = "ltp" })", exec_record(out, 0)).verdict, Verdict::pass);
}

TEST(ProgramSteps, NoResultsAtAllFails) {
  Outcome o = run(R"({ do = "exec", argv = ["/opt/ltp/fanotify05"], format = "ltp" })",
                  exec_record("fanotify05: applet not found\n", 127));
  EXPECT_EQ(o.verdict, Verdict::fail);
  EXPECT_EQ(reasons_text(o), "step 0 (exec): /opt/ltp/fanotify05: no LTP result lines in its output "
                    "\"fanotify05: applet not found\\n\"\n");
}

TEST(ProgramSteps, TapPlanMismatchAndNotOkFail) {
  Outcome o = run(R"({ do = "exec", argv = ["/t"], format = "tap" })",
                  exec_record("TAP version 13\n1..3\nok 1 a\nnot ok 2 b # exit=1\n", 1));
  EXPECT_EQ(o.verdict, Verdict::fail);
  EXPECT_NE(reasons_text(o).find("/t: plan 1..3 (near line 1) but 2 result(s)"), std::string::npos) << reasons_text(o);
  EXPECT_NE(reasons_text(o).find("/t: b: not ok exit=1"), std::string::npos) << reasons_text(o);
}

TEST(ProgramSteps, CutOutputFailsAFormatStep) {
  std::string rec = exec_record("x.c:1: TPASS: ok\n", 0);
  json r = json::parse(rec);
  r["output_dropped_bytes"] = 4096;
  Outcome o = run(R"({ do = "exec", argv = ["/t"], format = "ltp" })", r.dump());
  EXPECT_EQ(o.verdict, Verdict::fail);
  EXPECT_NE(reasons_text(o).find("64 KiB cap (4096 bytes dropped)"), std::string::npos) << reasons_text(o);
}

TEST(ProgramSteps, BadKeysAreLoadErrorsWithLineAndColumn) {
  auto error_of = [](const std::string& step) {
    try {
      parse_scenario_text("name = \"p\"\nstep = [\n" + step + "\n]\n", "p.toml");
    } catch (const std::exception& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_EQ(error_of(R"({ do = "exec", sh = "x", matches = "a(b" })").rfind("p.toml:3:", 0), 0u);
  EXPECT_NE(error_of(R"({ do = "exec", sh = "x", matches = "a(b" })").find("not a regular expression"),
            std::string::npos);
  EXPECT_NE(error_of(R"({ do = "exec", sh = "x", format = "junit" })").find("format must be"), std::string::npos);
  EXPECT_NE(error_of(R"({ do = "exec", sh = "x", exit = 300 })").find("exit must be an integer from 0 to 255"),
            std::string::npos);
  EXPECT_NE(error_of(R"({ do = "stat", path = "f", contains = "x" })").find("belongs to exec, wait and stop"),
            std::string::npos);
  EXPECT_NE(error_of(R"({ do = "repeat", times = 2, steps = [ { do = "exec", sh = "x", contains = 1 } ] })")
                .find("contains must be a string"),
            std::string::npos);
}
