#include <gtest/gtest.h>

#include <cerrno>
#include <cstdio>
#include <fstream>

#include "faults/schedule.h"
#include "faults/target_map.h"
#include "test_util.h"

namespace fsfault::faults {
namespace {

using testing::kDisk;
using testing::parse_error;
using testing::small_map;

TEST(ScheduleParse, EveryKey) {
  const auto map = small_map();
  const auto s = Schedule::parse(R"(seed = 42
[[rule]]
name = "itable-eio"
phase = "armed"
match = { op = "read", target = "inode:/data/f1" }
action = { fail = "ENOSPC" }
count = 3
after = 2
every = 4
probability = 0.25
after_ms = 1500

[[rule]]
match = { op = "write", sectors = "4096-4103" }
action = { torn = true }

[[rule]]
match = { op = "read", sectors = "7" }
action = { flip = { bits = 3, persist = true } }

[[rule]]
match = { sectors = 9 }
action = { flip = { offset = 17 } }

[[rule]]
match = { op = "any" }
action = { delay_ms = 250 }

[[rule]]
match = { op = "flush" }
action = { disconnect = true }

[[rule]]
match = { op = "trim", sectors = "10-20" }
action = { die = true }

[[rule]]
match = { op = "read", sectors = "1 - 2" }
action = { zero = true }

[[rule]]
match = { op = "zero" }
action = { fail = "EPERM" }
)",
                                 "s.toml", &map, 4 * 1024 * 1024);
  EXPECT_EQ(s.seed, 42u);
  EXPECT_EQ(s.source, "s.toml");
  ASSERT_EQ(s.rules.size(), 9u);
  const Rule& r = s.rules[0];
  EXPECT_EQ(r.name, "itable-eio");
  EXPECT_EQ(r.phase, "armed");
  EXPECT_EQ(r.op, OpMatch::Read);
  EXPECT_EQ(r.targets, std::vector<std::string>{"inode:/data/f1"});
  EXPECT_EQ(r.ranges, (std::vector<SectorRange>{{100, 101}, {200, 200}}));
  EXPECT_EQ(r.action.kind, ActionKind::Fail);
  EXPECT_EQ(r.action.error, ENOSPC);
  EXPECT_EQ(r.count, 3u);
  EXPECT_EQ(r.after, 2u);
  EXPECT_EQ(r.every, 4u);
  EXPECT_DOUBLE_EQ(r.probability, 0.25);
  EXPECT_EQ(r.after_ms, 1500u);
  EXPECT_EQ(r.pos.line, 2u);
  EXPECT_EQ(r.pos.column, 1u);

  EXPECT_EQ(s.rules[1].name, "rule#2");
  EXPECT_EQ(s.rules[1].op, OpMatch::Write);
  EXPECT_EQ(s.rules[1].ranges, (std::vector<SectorRange>{{4096, 4103}}));
  EXPECT_EQ(s.rules[1].action.kind, ActionKind::Torn);
  EXPECT_FALSE(s.rules[1].count.has_value());
  EXPECT_EQ(s.rules[1].after, 0u);
  EXPECT_EQ(s.rules[1].every, 1u);
  EXPECT_DOUBLE_EQ(s.rules[1].probability, 1.0);
  EXPECT_FALSE(s.rules[1].phase.has_value());

  EXPECT_EQ(s.rules[2].ranges, (std::vector<SectorRange>{{7, 7}}));
  EXPECT_EQ(s.rules[2].action.kind, ActionKind::Flip);
  EXPECT_EQ(s.rules[2].action.flip_bits, 3u);
  EXPECT_TRUE(s.rules[2].action.persist);
  EXPECT_FALSE(s.rules[2].action.flip_offset.has_value());

  // op defaults to "any"; a flip's "any" means reads. Integer sectors work.
  EXPECT_EQ(s.rules[3].op, OpMatch::Read);
  EXPECT_EQ(s.rules[3].ranges, (std::vector<SectorRange>{{9, 9}}));
  EXPECT_EQ(s.rules[3].action.flip_offset, 17u);
  EXPECT_EQ(s.rules[3].action.flip_bits, 1u);
  EXPECT_FALSE(s.rules[3].action.persist);

  EXPECT_EQ(s.rules[4].op, OpMatch::Any);
  EXPECT_TRUE(s.rules[4].ranges.empty());
  EXPECT_EQ(s.rules[4].action.kind, ActionKind::Delay);
  EXPECT_EQ(s.rules[4].action.delay_ms, 250u);

  EXPECT_EQ(s.rules[5].op, OpMatch::Flush);
  EXPECT_EQ(s.rules[5].action.kind, ActionKind::Disconnect);
  EXPECT_EQ(s.rules[6].op, OpMatch::Trim);
  EXPECT_EQ(s.rules[6].action.kind, ActionKind::Die);
  EXPECT_EQ(s.rules[7].action.kind, ActionKind::Zero);
  EXPECT_EQ(s.rules[7].ranges, (std::vector<SectorRange>{{1, 2}}));
  EXPECT_EQ(s.rules[8].op, OpMatch::Zero);
  EXPECT_EQ(s.rules[8].action.error, EPERM);
}

TEST(ScheduleParse, EmptyAndDefaults) {
  auto s = Schedule::parse("", "e.toml", nullptr, 0);
  EXPECT_EQ(s.seed, 0u);
  EXPECT_TRUE(s.rules.empty());
  s = Schedule::parse("[[rule]]\nmatch = {}\naction = { fail = \"EIO\" }\n", "e.toml", nullptr, 0);
  ASSERT_EQ(s.rules.size(), 1u);
  EXPECT_EQ(s.rules[0].name, "rule#1");
  EXPECT_EQ(s.rules[0].op, OpMatch::Any);
  EXPECT_EQ(s.rules[0].action.error, EIO);
}

TEST(ScheduleParse, AllErrnoNames) {
  const std::pair<const char*, int> names[] = {{"EPERM", EPERM},   {"EIO", EIO},           {"ENOMEM", ENOMEM},
                                               {"EINVAL", EINVAL}, {"ENOSPC", ENOSPC},     {"EOVERFLOW", EOVERFLOW},
                                               {"ENOTSUP", ENOTSUP}, {"ESHUTDOWN", ESHUTDOWN}};
  for (const auto& [name, value] : names) {
    auto s = Schedule::parse(std::string("[[rule]]\nmatch = {}\naction = { fail = \"") + name + "\" }\n", "e.toml",
                             nullptr, 0);
    EXPECT_EQ(s.rules[0].action.error, value) << name;
  }
}

TEST(ScheduleParse, TargetRangesMergedAndChecked) {
  TargetMap m = TargetMap::parse(
      R"({"targets":{"t":{"ranges":[[10,12],[5,9],[20,20]]},"far":{"ranges":[[5000,5001]]}}})", "m.json");
  auto s = Schedule::parse("[[rule]]\nmatch = { target = \"t\" }\naction = { fail = \"EIO\" }\n", "s.toml", &m, kDisk);
  EXPECT_EQ(s.rules[0].ranges, (std::vector<SectorRange>{{5, 12}, {20, 20}}));
  EXPECT_EQ(parse_error("[[rule]]\nmatch = { target = \"far\" }\naction = { fail = \"EIO\" }\n", &m),
            "s.toml:2:20: expected target within the disk (sectors 0-2047), got \"far\" at sectors 5000-5001");
}

TEST(ScheduleParse, TargetListsAndIndexRanges) {
  const TargetMap m = testing::bitmap_map();
  auto s = Schedule::parse(R"([[rule]]
match = { target = ["block-bitmap:1-2", "inode-table:2", "inode:/a-1"] }
action = { zero = true }
[[rule]]
match = { target = "block-bitmap:0-0" }
action = { fail = "EIO" }
)",
                           "s.toml", &m, kDisk);
  const Rule& r = s.rules[0];
  EXPECT_EQ(r.targets,
            (std::vector<std::string>{"block-bitmap:1", "block-bitmap:2", "inode-table:2", "inode:/a-1"}));
  // Matching uses the merged ranges; byte windows count from each piece.
  EXPECT_EQ(r.ranges, (std::vector<SectorRange>{{1008, 1023}, {1100, 1131}, {1200, 1200}, {1300, 1301}}));
  EXPECT_EQ(r.pieces, (std::vector<SectorRange>{{1008, 1015}, {1016, 1023}, {1100, 1131}, {1200, 1200}, {1300, 1301}}));
  EXPECT_EQ(s.rules[1].targets, std::vector<std::string>{"block-bitmap:0"});
  // A name that exists is taken as is, dash or not.
  EXPECT_EQ(Schedule::parse("[[rule]]\nmatch = { target = \"inode:/a-1\" }\naction = { fail = \"EIO\" }\n", "s.toml",
                            &m, kDisk)
                .rules[0]
                .targets,
            std::vector<std::string>{"inode:/a-1"});
}

TEST(ScheduleParse, ByteWindowActions) {
  const TargetMap m = testing::bitmap_map();
  auto s = Schedule::parse(R"([[rule]]
match = { target = "block-bitmap:1-3" }
action = { zero = { offset = 0, bytes = 1024 } }
[[rule]]
match = { sectors = "8-15" }
action = { fill = { offset = 100, bytes = 28, byte = 0xff } }
[[rule]]
match = { sectors = "8-15" }
action = { flip = { offset = 512, bytes = 4, persist = true } }
[[rule]]
match = { sectors = "8-15" }
action = { fill = { byte = 7 } }
[[rule]]
match = { sectors = "8-15" }
action = { zero = true }
)",
                           "s.toml", &m, kDisk);
  ASSERT_EQ(s.rules.size(), 5u);
  EXPECT_EQ(s.rules[0].action.kind, ActionKind::Zero);
  ASSERT_TRUE(s.rules[0].action.window);
  EXPECT_EQ(s.rules[0].action.window->offset, 0u);
  EXPECT_EQ(s.rules[0].action.window->bytes, 1024u);
  EXPECT_EQ(s.rules[0].op, OpMatch::Read);
  EXPECT_EQ(s.rules[1].action.kind, ActionKind::Fill);
  EXPECT_EQ(s.rules[1].action.fill_byte, 0xff);
  EXPECT_EQ(s.rules[1].action.window->offset, 100u);
  EXPECT_EQ(s.rules[2].action.kind, ActionKind::Flip);
  EXPECT_EQ(s.rules[2].action.window->offset, 512u);  // bytes, not a bit offset
  EXPECT_EQ(s.rules[2].action.window->bytes, 4u);
  EXPECT_FALSE(s.rules[2].action.flip_offset);
  EXPECT_TRUE(s.rules[2].action.persist);
  EXPECT_EQ(s.rules[3].action.window->offset, 0u);
  EXPECT_FALSE(s.rules[3].action.window->bytes);  // to the end of each range
  EXPECT_FALSE(s.rules[4].action.window);          // zero = true: all of it
}

TEST(ScheduleParse, TargetAndWindowErrors) {
  const TargetMap m = testing::bitmap_map();
  const std::pair<const char*, const char*> cases[] = {
      {"[[rule]]\nmatch = { target = \"block-bitmap:1-7\" }\naction = { fail = \"EIO\" }\n",
       "s.toml:2:20: expected a target of image map \"bm\", got \"block-bitmap:4\" in \"block-bitmap:1-7\" (close "
       "matches: \"block-bitmap:0\", \"block-bitmap:1\", \"block-bitmap:2\", \"block-bitmap:3\")"},
      {"[[rule]]\nmatch = { target = \"block-bitmap:3-1\" }\naction = { fail = \"EIO\" }\n",
       "s.toml:2:20: expected a target range \"NAME:A-B\" with A <= B, got \"block-bitmap:3-1\""},
      {"[[rule]]\nmatch = { target = [\"block-bitmap:1\", \"inode-tabel:2\"] }\naction = { fail = \"EIO\" }\n",
       "s.toml:2:39: expected a target of image map \"bm\", got \"inode-tabel:2\" (close matches: \"inode-table:2\")"},
      {"[[rule]]\nmatch = { target = [] }\naction = { fail = \"EIO\" }\n",
       "s.toml:2:20: expected target to be a non-empty string (or a list of them), got an empty list"},
      {"[[rule]]\nmatch = { target = [\"block-bitmap:1\", 3] }\naction = { fail = \"EIO\" }\n",
       "s.toml:2:39: expected target to be a non-empty string (or a list of them), got 3"},
      {"[[rule]]\nmatch = { target = \"block-bitmap:x-2\" }\naction = { fail = \"EIO\" }\n",
       "s.toml:2:20: expected a target of image map \"bm\", got \"block-bitmap:x-2\" (close matches: "
       "\"block-bitmap:2\", \"block-bitmap:0\", \"block-bitmap:1\", \"block-bitmap:3\")"},
      {"[[rule]]\nmatch = {}\naction = { zero = { offset = 0, bytes = 1024 } }\n",
       "s.toml:2:9: expected sectors or target in match for a zero with offset/bytes (they count from the start of "
       "each range), got neither"},
      {"[[rule]]\nmatch = { target = \"block-bitmap:1\" }\naction = { zero = { offset = 4096 } }\n",
       "s.toml:3:30: expected offset to lie inside a range of the rule (the largest is 4096 bytes), got 4096"},
      {"[[rule]]\nmatch = { sectors = \"1\" }\naction = { zero = { bytes = 0 } }\n",
       "s.toml:3:29: expected bytes to be a positive integer, got 0"},
      {"[[rule]]\nmatch = { sectors = \"1\" }\naction = { zero = { bits = 1 } }\n",
       "s.toml:3:21: expected a zero key (offset, bytes), got \"bits\""},
      {"[[rule]]\nmatch = { sectors = \"1\" }\naction = { fill = { offset = 0 } }\n",
       "s.toml:3:19: expected key byte (the value to fill with, 0-255) in fill, got none"},
      {"[[rule]]\nmatch = { sectors = \"1\" }\naction = { fill = { byte = 256 } }\n",
       "s.toml:3:28: expected byte to be an integer from 0 to 255, got 256"},
      {"[[rule]]\nmatch = { sectors = \"1\" }\naction = { fill = true }\n",
       "s.toml:3:19: expected fill to be a table (e.g. { offset = 0, bytes = 1024, byte = 0xff }), got true"},
      {"[[rule]]\nmatch = { op = \"write\", sectors = \"1\" }\naction = { fill = { byte = 1 } }\n",
       "s.toml:2:16: expected op \"read\" or \"any\" for a fill action (it changes data being read), got \"write\""},
      {"[[rule]]\nmatch = { sectors = \"1\" }\naction = { flip = { bits = 2, bytes = 4 } }\n",
       "s.toml:3:28: expected bits or bytes in flip, got both"},
  };
  for (const auto& [text, error] : cases) EXPECT_EQ(parse_error(text, &m), error) << text;
}

TEST(ScheduleParse, ExtraTopLevelKeysForScenarios) {
  ParseOptions opts;
  opts.extra_top_level_keys = {"name", "step"};
  auto s = Schedule::parse("name = \"x\"\nstep = [1]\n[[rule]]\nmatch = {}\naction = { die = true }\n", "sc.toml",
                           nullptr, 0, opts);
  EXPECT_EQ(s.rules.size(), 1u);
  try {
    Schedule::parse("kernel = \">=5.16\"\n", "sc.toml", nullptr, 0, opts);
    FAIL() << "no error";
  } catch (const ScheduleError& e) {
    EXPECT_STREQ(e.what(), "sc.toml:1:1: expected a top-level key (seed, rule, name, step), got \"kernel\"");
  }
}

TEST(ScheduleParse, LoadFile) {
  const std::string path = ::testing::TempDir() + "/sched_load.toml";
  {
    std::ofstream out(path);
    out << "seed = 7\n[[rule]]\nmatch = { op = \"read\", sectors = \"0-7\" }\naction = { fail = \"EIO\" }\n";
  }
  auto s = Schedule::load_file(path, nullptr, kDisk);
  EXPECT_EQ(s.seed, 7u);
  EXPECT_EQ(s.source, path);
  {
    std::ofstream out(path);
    out << "seed = 7\n\n[[rule]]\nmatch = { op = \"raed\" }\naction = { fail = \"EIO\" }\n";
  }
  try {
    Schedule::load_file(path, nullptr, kDisk);
    FAIL() << "no error";
  } catch (const ScheduleError& e) {
    EXPECT_EQ(std::string(e.what()),
              path + ":4:16: expected op to be one of \"read\", \"write\", \"flush\", \"trim\", \"zero\", \"any\", "
                     "got \"raed\"");
    EXPECT_EQ(e.source(), path);
    EXPECT_EQ(e.line(), 4u);
    EXPECT_EQ(e.column(), 16u);
  }
  std::remove(path.c_str());
  try {
    Schedule::load_file(path, nullptr, kDisk);
    FAIL() << "no error";
  } catch (const ScheduleError& e) {
    EXPECT_EQ(std::string(e.what()), path + ": cannot read schedule: No such file or directory");
  }
}

struct ErrorCase {
  const char* text;
  const char* error;
};

class ScheduleErrors : public ::testing::TestWithParam<ErrorCase> {};

TEST_P(ScheduleErrors, ExactMessage) {
  const auto map = small_map();
  EXPECT_EQ(parse_error(GetParam().text, &map), GetParam().error) << GetParam().text;
}

// Each schedule below has exactly one mistake; the message must name its
// line and column and say what was expected.
INSTANTIATE_TEST_SUITE_P(
    Messages, ScheduleErrors,
    ::testing::Values(
        ErrorCase{"seed = \n", "s.toml:1:8: Error while parsing key-value pair: expected value, saw '\\n'"},
        ErrorCase{"seed = 1\ncolour = \"red\"\n", "s.toml:2:1: expected a top-level key (seed, rule), got \"colour\""},
        ErrorCase{"seed = \"x\"\n", "s.toml:1:8: expected seed to be a non-negative integer, got \"x\""},
        ErrorCase{"seed = -1\n", "s.toml:1:8: expected seed to be a non-negative integer, got -1"},
        ErrorCase{"rule = 3\n", "s.toml:1:8: expected rule to be an array of tables ([[rule]]), got 3"},
        ErrorCase{"[[rule]]\nmatch = {}\naction = { fail = \"EIO\" }\ncolour = 1\n",
                  "s.toml:4:1: expected a rule key (name, phase, match, action, count, after, every, probability, "
                  "after_ms), got \"colour\""},
        ErrorCase{"[[rule]]\nname = 3\nmatch = {}\naction = { fail = \"EIO\" }\n",
                  "s.toml:2:8: expected name to be a non-empty string, got 3"},
        ErrorCase{"[[rule]]\nname = \"\"\nmatch = {}\naction = { fail = \"EIO\" }\n",
                  "s.toml:2:8: expected name to be a non-empty string, got \"\""},
        ErrorCase{"[[rule]]\nname = \"a\"\nmatch = {}\naction = { fail = \"EIO\" }\n"
                  "[[rule]]\nname = \"a\"\nmatch = {}\naction = { fail = \"EIO\" }\n",
                  "s.toml:5:1: expected a unique rule name, got \"a\" again (first at 1:1)"},
        ErrorCase{"[[rule]]\nphase = true\nmatch = {}\naction = { fail = \"EIO\" }\n",
                  "s.toml:2:9: expected phase to be a non-empty string, got true"},
        ErrorCase{"[[rule]]\nname = \"x\"\naction = { fail = \"EIO\" }\n",
                  "s.toml:1:1: expected key match in rule \"x\", got none"},
        ErrorCase{"seed = 1\n[[rule]]\nmatch = {}\n", "s.toml:2:1: expected key action in rule \"rule#1\", got none"},
        ErrorCase{"[[rule]]\nmatch = \"read\"\naction = { fail = \"EIO\" }\n",
                  "s.toml:2:9: expected match to be a table (e.g. { op = \"read\", sectors = \"8-15\" }), got \"read\""},
        ErrorCase{"[[rule]]\nmatch = { op = \"read\", sector = \"1\" }\naction = { fail = \"EIO\" }\n",
                  "s.toml:2:24: expected a match key (op, sectors, target), got \"sector\""},
        ErrorCase{"[[rule]]\nmatch = { op = \"raed\" }\naction = { fail = \"EIO\" }\n",
                  "s.toml:2:16: expected op to be one of \"read\", \"write\", \"flush\", \"trim\", \"zero\", \"any\", "
                  "got \"raed\""},
        ErrorCase{"[[rule]]\nmatch = { op = 1 }\naction = { fail = \"EIO\" }\n",
                  "s.toml:2:16: expected op to be one of \"read\", \"write\", \"flush\", \"trim\", \"zero\", \"any\", "
                  "got 1"},
        ErrorCase{"[[rule]]\nmatch = { sectors = \"12-\" }\naction = { fail = \"EIO\" }\n",
                  "s.toml:2:21: expected sectors as \"A-B\" or \"A\" (512-byte sectors, inclusive), got \"12-\""},
        ErrorCase{"[[rule]]\nmatch = { sectors = \"x\" }\naction = { fail = \"EIO\" }\n",
                  "s.toml:2:21: expected sectors as \"A-B\" or \"A\" (512-byte sectors, inclusive), got \"x\""},
        ErrorCase{"[[rule]]\nmatch = { sectors = \"99999999999999999999\" }\naction = { fail = \"EIO\" }\n",
                  "s.toml:2:21: expected sectors as \"A-B\" or \"A\" (512-byte sectors, inclusive), got "
                  "\"99999999999999999999\""},
        ErrorCase{"[[rule]]\nmatch = { sectors = -4 }\naction = { fail = \"EIO\" }\n",
                  "s.toml:2:21: expected sectors as \"A-B\" or \"A\" (512-byte sectors, inclusive), got -4"},
        ErrorCase{"[[rule]]\nmatch = { sectors = \"20-10\" }\naction = { fail = \"EIO\" }\n",
                  "s.toml:2:21: expected sectors \"A-B\" with A <= B, got \"20-10\""},
        ErrorCase{"[[rule]]\nmatch = { sectors = \"2040-2048\" }\naction = { fail = \"EIO\" }\n",
                  "s.toml:2:21: expected sectors within the disk (0-2047), got \"2040-2048\""},
        ErrorCase{"[[rule]]\nmatch = { sectors = \"1\", target = \"superblock\" }\naction = { fail = \"EIO\" }\n",
                  "s.toml:2:35: expected either sectors or target in match, got both"},
        ErrorCase{"[[rule]]\nmatch = { target = \"inode:/data/f2\" }\naction = { fail = \"EIO\" }\n",
                  "s.toml:2:20: expected a target of image map \"ext4-basic\", got \"inode:/data/f2\" (close matches: "
                  "\"inode:/data/f1\", \"inode:/data/f10\")"},
        ErrorCase{"[[rule]]\nmatch = { target = \"bitmap\" }\naction = { fail = \"EIO\" }\n",
                  "s.toml:2:20: expected a target of image map \"ext4-basic\", got \"bitmap\" (no close matches)"},
        ErrorCase{"[[rule]]\nmatch = { target = \"superblok\" }\naction = { fail = \"EIO\" }\n",
                  "s.toml:2:20: expected a target of image map \"ext4-basic\", got \"superblok\" (close matches: "
                  "\"superblock\")"},
        ErrorCase{"[[rule]]\nmatch = { target = 5 }\naction = { fail = \"EIO\" }\n",
                  "s.toml:2:20: expected target to be a non-empty string (or a list of them), got 5"},
        ErrorCase{"[[rule]]\nmatch = { op = \"flush\", sectors = \"1-2\" }\naction = { fail = \"EIO\" }\n",
                  "s.toml:2:35: expected no sectors or target for op \"flush\" (a flush has no range), got sectors"},
        ErrorCase{"[[rule]]\nmatch = {}\naction = \"EIO\"\n",
                  "s.toml:3:10: expected action to be a table (e.g. { fail = \"EIO\" }), got \"EIO\""},
        ErrorCase{"[[rule]]\nmatch = {}\naction = {}\n",
                  "s.toml:3:10: expected exactly one action (fail, flip, zero, fill, delay_ms, disconnect, die, torn), got "
                  "none"},
        ErrorCase{"[[rule]]\nmatch = {}\naction = { fail = \"EIO\", zero = true }\n",
                  "s.toml:3:10: expected exactly one action (fail, flip, zero, fill, delay_ms, disconnect, die, torn), got "
                  "2: fail, zero"},
        ErrorCase{"[[rule]]\nmatch = {}\naction = { crash = true }\n",
                  "s.toml:3:12: expected an action (fail, flip, zero, fill, delay_ms, disconnect, die, torn), got \"crash\""},
        ErrorCase{"[[rule]]\nmatch = {}\naction = { fail = \"EIOO\" }\n",
                  "s.toml:3:19: expected fail to be one of EPERM, EIO, ENOMEM, EINVAL, ENOSPC, EOVERFLOW, ENOTSUP, "
                  "ESHUTDOWN, got \"EIOO\""},
        ErrorCase{"[[rule]]\nmatch = {}\naction = { fail = 5 }\n",
                  "s.toml:3:19: expected fail to be one of EPERM, EIO, ENOMEM, EINVAL, ENOSPC, EOVERFLOW, ENOTSUP, "
                  "ESHUTDOWN, got 5"},
        ErrorCase{"[[rule]]\nmatch = {}\naction = { flip = true }\n",
                  "s.toml:3:19: expected flip to be a table (e.g. { bits = 1 }), got true"},
        ErrorCase{"[[rule]]\nmatch = {}\naction = { flip = { bit = 1 } }\n",
                  "s.toml:3:21: expected a flip key (bits, persist, offset, bytes), got \"bit\""},
        ErrorCase{"[[rule]]\nmatch = {}\naction = { flip = { bits = 0 } }\n",
                  "s.toml:3:28: expected bits to be an integer from 1 to 65536, got 0"},
        ErrorCase{"[[rule]]\nmatch = {}\naction = { flip = { bits = 1.5 } }\n",
                  "s.toml:3:28: expected bits to be an integer from 1 to 65536, got 1.5"},
        ErrorCase{"[[rule]]\nmatch = {}\naction = { flip = { persist = \"yes\" } }\n",
                  "s.toml:3:31: expected persist to be a boolean, got \"yes\""},
        ErrorCase{"[[rule]]\nmatch = {}\naction = { flip = { offset = -1 } }\n",
                  "s.toml:3:30: expected offset to be a non-negative integer, got -1"},
        ErrorCase{"[[rule]]\nmatch = { sectors = \"4-5\" }\naction = { flip = { offset = 8192 } }\n",
                  "s.toml:3:30: expected offset to be a bit within the rule's sectors (0-8191), got 8192"},
        ErrorCase{"[[rule]]\nmatch = {}\naction = { flip = { bits = 2, offset = 3 } }\n",
                  "s.toml:3:28: expected bits = 1 (or no bits) with a fixed offset, got 2"},
        ErrorCase{"[[rule]]\nmatch = { op = \"write\" }\naction = { flip = { bits = 1 } }\n",
                  "s.toml:2:16: expected op \"read\" or \"any\" for a flip action (it changes data being read), got "
                  "\"write\""},
        ErrorCase{"[[rule]]\nmatch = { op = \"trim\" }\naction = { zero = true }\n",
                  "s.toml:2:16: expected op \"read\" or \"any\" for a zero action (it changes data being read), got "
                  "\"trim\""},
        ErrorCase{"[[rule]]\nmatch = { op = \"read\" }\naction = { torn = true }\n",
                  "s.toml:2:16: expected op \"write\" or \"any\" for a torn action, got \"read\""},
        ErrorCase{"[[rule]]\nmatch = {}\naction = { zero = false }\n", "s.toml:3:19: expected zero = true, got false"},
        ErrorCase{"[[rule]]\nmatch = {}\naction = { disconnect = 1 }\n",
                  "s.toml:3:25: expected disconnect = true, got 1"},
        ErrorCase{"[[rule]]\nmatch = {}\naction = { die = \"yes\" }\n", "s.toml:3:18: expected die = true, got \"yes\""},
        ErrorCase{"[[rule]]\nmatch = {}\naction = { torn = false }\n", "s.toml:3:19: expected torn = true, got false"},
        ErrorCase{"[[rule]]\nmatch = {}\naction = { delay_ms = -5 }\n",
                  "s.toml:3:23: expected delay_ms to be an integer from 0 to 3600000, got -5"},
        ErrorCase{"[[rule]]\nmatch = {}\naction = { delay_ms = 3600001 }\n",
                  "s.toml:3:23: expected delay_ms to be an integer from 0 to 3600000, got 3600001"},
        ErrorCase{"[[rule]]\nmatch = {}\naction = { fail = \"EIO\" }\ncount = 0\n",
                  "s.toml:4:9: expected count to be a positive integer, got 0"},
        ErrorCase{"[[rule]]\nmatch = {}\naction = { fail = \"EIO\" }\nafter = -1\n",
                  "s.toml:4:9: expected after to be a non-negative integer, got -1"},
        ErrorCase{"[[rule]]\nmatch = {}\naction = { fail = \"EIO\" }\nevery = 0\n",
                  "s.toml:4:9: expected every to be a positive integer, got 0"},
        ErrorCase{"[[rule]]\nmatch = {}\naction = { fail = \"EIO\" }\nprobability = 1.5\n",
                  "s.toml:4:15: expected probability to be a number from 0 to 1, got 1.5"},
        ErrorCase{"[[rule]]\nmatch = {}\naction = { fail = \"EIO\" }\nprobability = \"half\"\n",
                  "s.toml:4:15: expected probability to be a number from 0 to 1, got \"half\""},
        ErrorCase{"[[rule]]\nmatch = {}\naction = { fail = \"EIO\" }\nafter_ms = 2.5\n",
                  "s.toml:4:12: expected after_ms to be a non-negative integer, got 2.5"},
        // Standard-table form reports positions the same way.
        ErrorCase{"[[rule]]\naction = { fail = \"EIO\" }\n[rule.match]\nop = \"reed\"\n",
                  "s.toml:4:6: expected op to be one of \"read\", \"write\", \"flush\", \"trim\", \"zero\", \"any\", "
                  "got \"reed\""}));

TEST(ScheduleParse, TargetWithoutMap) {
  EXPECT_EQ(parse_error("[[rule]]\nmatch = { target = \"superblock\" }\naction = { fail = \"EIO\" }\n", nullptr),
            "s.toml:2:20: expected an image map to resolve target \"superblock\", got none");
}

TEST(ScheduleParse, DiskSizeZeroMeansUnchecked) {
  auto s = Schedule::parse("[[rule]]\nmatch = { sectors = \"1000000-1000001\" }\naction = { fail = \"EIO\" }\n",
                           "s.toml", nullptr, 0);
  EXPECT_EQ(s.rules[0].ranges, (std::vector<SectorRange>{{1000000, 1000001}}));
  // The last sector of the disk is fine; one past it is not.
  EXPECT_EQ(parse_error("[[rule]]\nmatch = { sectors = \"2047\" }\naction = { fail = \"EIO\" }\n"), "");
  EXPECT_EQ(parse_error("[[rule]]\nmatch = { sectors = \"2048\" }\naction = { fail = \"EIO\" }\n"),
            "s.toml:2:21: expected sectors within the disk (0-2047), got \"2048\"");
}

TEST(ScheduleParse, FirstErrorInSourceOrder) {
  // Two mistakes in one rule: the one earlier in the file is reported, even
  // though toml++ keeps keys sorted by name.
  EXPECT_EQ(parse_error("[[rule]]\nzzz = 1\naaa = 2\nmatch = {}\naction = { fail = \"EIO\" }\n"),
            "s.toml:2:1: expected a rule key (name, phase, match, action, count, after, every, probability, "
            "after_ms), got \"zzz\"");
}

}  // namespace
}  // namespace fsfault::faults
