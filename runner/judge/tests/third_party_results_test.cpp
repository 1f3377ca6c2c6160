// The parser on output in the formats LTP (lib/tst_test.c, lib/tst_res.c), kselftest (TAP 13)
// and KUnit (KTAP v1, nested) print.
#include "runner/judge/third_party_results.h"

#include <gtest/gtest.h>

using namespace fsfault::vm;

namespace {

const char* kLtpPass = R"(tst_test.c:1709: TINFO: LTP version: 20240129
tst_test.c:1593: TINFO: Timeout per run is 0h 00m 30s
fanotify05.c:108: TINFO: Test #0: with default queue size
fanotify05.c:146: TPASS: Got an overflow event: pid=0 fd=-1
fanotify05.c:178: TPASS: Got event #16384 filename=fname_16383

Summary:
passed   2
failed   0
broken   0
skipped  0
warnings 0
)";

const char* kLtpBroken = R"(tst_test.c:1709: TINFO: LTP version: 20240129
tst_device.c:96: TINFO: Found unused loop device /dev/loop0
tst_test.c:1134: TBROK: mount(/dev/loop0, mntpoint, ext4, 0, (nil)) failed: EINVAL (22)

Summary:
passed   0
failed   0
broken   1
skipped  0
warnings 0
)";

const char* kLtpConf = R"(tst_test.c:1709: TINFO: LTP version: 20240129
fanotify20.c:47: TCONF: FAN_REPORT_PIDFD not supported in kernel?

Summary:
passed   0
failed   0
broken   0
skipped  1
warnings 0
)";

const char* kKselftest = R"(TAP version 13
1..3
# selftests: filesystems: dnotify_test
ok 1 selftests: filesystems: dnotify_test
not ok 2 selftests: filesystems: devpts_pts # exit=1
ok 3 selftests: filesystems: binderfs_test # SKIP binderfs not mounted
)";

const char* kKunit = R"(KTAP version 1
1..2
    KTAP version 1
    # Subtest: ext4_inode_test
    # module: ext4_inode_test
    1..2
    ok 1 inode_test_xtimestamp_decoding
    # fail_case: EXPECTATION FAILED at fs/ext4/inode-test.c:256
    not ok 2 fail_case
not ok 1 ext4_inode_test
ok 2 ext4_mballoc_test # SKIP no test device
)";

}  // namespace

TEST(LtpResults, PassLinesAreResultsInfoIsNot) {
  ParsedResults p = parse_ltp(kLtpPass);
  ASSERT_EQ(p.results.size(), 2u);
  EXPECT_EQ(p.results[0].name, "fanotify05.c:146");
  EXPECT_EQ(p.results[0].status, ResultStatus::pass);
  EXPECT_EQ(p.results[1].reason, "TPASS: Got event #16384 filename=fname_16383");
  EXPECT_TRUE(p.problems.empty());
}

TEST(LtpResults, TbrokFailsTconfSkips) {
  ParsedResults b = parse_ltp(kLtpBroken);
  ASSERT_EQ(b.results.size(), 1u);
  EXPECT_EQ(b.results[0].status, ResultStatus::fail);
  EXPECT_EQ(b.results[0].name, "tst_test.c:1134");
  EXPECT_EQ(b.results[0].reason, "TBROK: mount(/dev/loop0, mntpoint, ext4, 0, (nil)) failed: EINVAL (22)");
  ParsedResults c = parse_ltp(kLtpConf);
  ASSERT_EQ(c.results.size(), 1u);
  EXPECT_EQ(c.results[0].status, ResultStatus::skip);
  EXPECT_EQ(c.results[0].reason, "TCONF: FAN_REPORT_PIDFD not supported in kernel?");
}

TEST(LtpResults, TfailAndTwarnFailOldApiLinesCount) {
  ParsedResults p = parse_ltp(
      "fanotify22.c:120: TFAIL: Got unexpected error 117\n"
      "fanotify22.c:130: TWARN: umount failed\n"
      "fanotify01    1  TPASS  :  fanotify_mark succeeded\n");
  ASSERT_EQ(p.results.size(), 3u);
  EXPECT_EQ(p.results[0].status, ResultStatus::fail);
  EXPECT_EQ(p.results[1].status, ResultStatus::fail);
  EXPECT_EQ(p.results[2].name, "fanotify01 1");
  EXPECT_EQ(p.results[2].status, ResultStatus::pass);
}

TEST(LtpResults, SummaryCountingUnseenFailuresIsAProblem) {
  // A child's TFAIL counted in the shared summary, its line lost (e.g. the output was cut).
  ParsedResults p = parse_ltp("fanotify05.c:146: TPASS: ok\n\nSummary:\npassed   1\nfailed   1\nbroken   0\n");
  EXPECT_EQ(p.results.size(), 1u);
  ASSERT_EQ(p.problems.size(), 1u);
  EXPECT_NE(p.problems[0].find("summary counts 1 failed"), std::string::npos) << p.problems[0];
}

TEST(LtpResults, ProseIsNoResult) {
  EXPECT_TRUE(parse_ltp("sh: /opt/ltp/fanotify05: not found\nTPASS: but not LTP's format\n").results.empty());
  EXPECT_TRUE(parse_ltp("").results.empty());
}

TEST(TapResults, KselftestStatusesAndDirectives) {
  ParsedResults p = parse_tap(kKselftest);
  ASSERT_EQ(p.results.size(), 3u);
  EXPECT_TRUE(p.problems.empty());
  EXPECT_EQ(p.results[0].name, "selftests: filesystems: dnotify_test");
  EXPECT_EQ(p.results[1].status, ResultStatus::fail);
  EXPECT_EQ(p.results[1].reason, "exit=1");
  EXPECT_EQ(p.results[2].status, ResultStatus::skip);
  EXPECT_EQ(p.results[2].reason, "binderfs not mounted");
}

TEST(TapResults, TodoAndDashedDescriptions) {
  ParsedResults p = parse_tap("1..3\nnot ok 1 - known bug # TODO fix in 7.3\nok 2 - fine\nok 3\n");
  ASSERT_EQ(p.results.size(), 3u);
  EXPECT_EQ(p.results[0].status, ResultStatus::todo);
  EXPECT_EQ(p.results[0].name, "known bug");
  EXPECT_EQ(p.results[0].reason, "fix in 7.3");
  EXPECT_EQ(p.results[1].name, "fine");
  EXPECT_EQ(p.results[2].name, "test 3");
}

TEST(TapResults, FewerResultsThanThePlanIsAProblem) {
  ParsedResults p = parse_tap("TAP version 13\n1..4\nok 1 a\nok 2 b\n");
  ASSERT_EQ(p.problems.size(), 1u);
  EXPECT_EQ(p.problems[0], "plan 1..4 (near line 1) but 2 result(s)");
}

TEST(TapResults, BailOutIsAProblemAndEmptyPlanSkips) {
  EXPECT_EQ(parse_tap("1..2\nok 1 a\nBail out! no device\n").problems.front(), "the test bailed out: no device");
  ParsedResults s = parse_tap("1..0 # SKIP needs root\n");
  ASSERT_EQ(s.results.size(), 1u);
  EXPECT_EQ(s.results[0].status, ResultStatus::skip);
  EXPECT_EQ(s.results[0].reason, "needs root");
}

TEST(KtapResults, IndentedBlockIsTheSubtestsOfTheNextResult) {
  ParsedResults p = parse_tap(kKunit);
  EXPECT_TRUE(p.problems.empty()) << p.problems.front();
  ASSERT_EQ(p.results.size(), 2u);
  EXPECT_EQ(p.results[0].name, "ext4_inode_test");
  EXPECT_EQ(p.results[0].status, ResultStatus::fail);
  ASSERT_EQ(p.results[0].subtests.size(), 2u);
  EXPECT_EQ(p.results[0].subtests[1].name, "fail_case");
  EXPECT_EQ(p.results[0].subtests[1].status, ResultStatus::fail);
  EXPECT_EQ(p.results[1].status, ResultStatus::skip);
}

TEST(KtapResults, NestedPlanMismatchAndSubtestsWithoutParent) {
  ParsedResults p = parse_tap("KTAP version 1\n1..1\n    KTAP version 1\n    1..3\n    ok 1 a\n");
  ASSERT_EQ(p.problems.size(), 1u);  // the inner plan; the parent line that never came is a failure
  EXPECT_EQ(p.problems[0], "plan 1..3 (near line 3) but 1 result(s)");
  ASSERT_EQ(p.results.size(), 1u);
  EXPECT_EQ(p.results[0].status, ResultStatus::fail);
  EXPECT_EQ(p.results[0].subtests.size(), 1u);
}

TEST(ResultFormat, Names) {
  EXPECT_EQ(result_format_from_name("ltp"), ResultFormat::ltp);
  EXPECT_EQ(result_format_from_name("ktap"), ResultFormat::ktap);
  EXPECT_FALSE(result_format_from_name("junit"));
}
