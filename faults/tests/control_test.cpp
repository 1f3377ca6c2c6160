#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>

#include "faults/control.h"
#include "test_util.h"

namespace fsfault::faults {
namespace {

const std::vector<DataEdit> kZeroed512{{DataEdit::Kind::Fill, 0, false, 0, 512}};

using nlohmann::json;

struct Control : ::testing::Test {
  TargetMap map = testing::small_map();
  FaultEngine engine{[] { return std::uint64_t{0}; }};
  ControlCommands ctl{engine, &map, testing::kDisk};
};

TEST_F(Control, PhaseStatsDieClear) {
  EXPECT_EQ(ctl.handle({{"cmd", "phase"}, {"name", "armed"}}), (json{{"ok", true}, {"phase", "armed"}}));
  EXPECT_EQ(engine.phase(), "armed");
  EXPECT_EQ(ctl.handle({{"cmd", "stats"}}),
            (json{{"ok", true}, {"phase", "armed"}, {"dead", false}, {"requests", 0}, {"rules", json::array()}}));
  EXPECT_EQ(ctl.handle({{"cmd", "die"}}), (json{{"ok", true}}));
  EXPECT_TRUE(engine.dead());
  EXPECT_EQ(ctl.handle({{"cmd", "stats"}})["dead"], true);
  EXPECT_EQ(ctl.handle({{"cmd", "clear"}}), (json{{"ok", true}}));
  EXPECT_FALSE(engine.dead());
}

// The control socket loads the byte-precise forms like a schedule file, and
// names a bad index range with its position in the inline text.
TEST(ControlByteForms, LoadTargetListsAndWindows) {
  const TargetMap map = testing::bitmap_map();
  FaultEngine engine{[] { return std::uint64_t{0}; }};
  ControlCommands ctl{engine, &map, testing::kDisk};
  EXPECT_EQ(ctl.handle({{"cmd", "load"},
                        {"toml", "[[rule]]\nmatch = { target = [\"block-bitmap:1-2\", \"inode-table:2\"] }\n"
                                 "action = { fill = { offset = 0, bytes = 16, byte = 0xff } }\n"}}),
            (json{{"ok", true}, {"rules", 1}}));
  EXPECT_EQ(engine.evaluate({Op::Read, 1008 * 512, 8192}).edits,
            (std::vector<DataEdit>{{DataEdit::Kind::Fill, 0xff, false, 0, 16},
                                   {DataEdit::Kind::Fill, 0xff, false, 4096, 4112}}));
  EXPECT_EQ(ctl.handle({{"cmd", "load"}, {"toml", "[[rule]]\nmatch = { target = \"block-bitmap:2-9\" }\n"
                                                  "action = { zero = true }\n"}})["error"],
            "<control>:2:20: expected a target of image map \"bm\", got \"block-bitmap:4\" in \"block-bitmap:2-9\" "
            "(close matches: \"block-bitmap:0\", \"block-bitmap:1\", \"block-bitmap:2\", \"block-bitmap:3\")");
  EXPECT_EQ(engine.rule_count(), 1u);  // the failed load left the rule in force
}

TEST_F(Control, LoadInlineAndFromFile) {
  auto r = ctl.handle({{"cmd", "load"},
                       {"toml", "[[rule]]\nname = \"sb\"\nmatch = { target = \"superblock\" }\naction = { fail = \"EIO\" }\n"
                                "[[rule]]\nmatch = { op = \"flush\" }\naction = { delay_ms = 1 }\n"}});
  EXPECT_EQ(r, (json{{"ok", true}, {"rules", 2}}));
  EXPECT_EQ(engine.evaluate({Op::Read, 2 * 512, 512}).error, 5);
  auto stats = ctl.handle({{"cmd", "stats"}});
  EXPECT_EQ(stats["rules"][0], (json{{"name", "sb"}, {"matches", 1}, {"fired", 1}}));
  EXPECT_EQ(stats["rules"][1]["name"], "rule#2");

  const std::string path = ::testing::TempDir() + "/ctl.toml";
  {
    std::ofstream(path) << "[[rule]]\nmatch = {}\naction = { zero = true }\n";
  }
  EXPECT_EQ(ctl.handle({{"cmd", "load"}, {"path", path}}), (json{{"ok", true}, {"rules", 1}}));
  EXPECT_EQ(engine.evaluate({Op::Read, 0, 512}).edits, kZeroed512);
  {
    std::ofstream(path) << "[[rule]]\nmatch = {}\naction = { zero = true }\nbogus = 1\n";
  }
  EXPECT_EQ(ctl.handle({{"cmd", "load"}, {"path", path}}),
            (json{{"ok", false},
                  {"error", path + ":4:1: expected a rule key (name, phase, match, action, count, after, every, "
                                   "probability, after_ms), got \"bogus\""}}));
  // A failed load leaves the previous schedule in force.
  EXPECT_EQ(engine.evaluate({Op::Read, 0, 512}).edits, kZeroed512);
  std::remove(path.c_str());
  EXPECT_EQ(ctl.handle({{"cmd", "load"}, {"path", path}}),
            (json{{"ok", false}, {"error", path + ": cannot read schedule: No such file or directory"}}));
  EXPECT_EQ(ctl.handle({{"cmd", "load"}, {"toml", "[[rule]]\nmatch = { target = \"superblok\" }\naction = { die = true }\n"}}),
            (json{{"ok", false},
                  {"error", "<control>:2:20: expected a target of image map \"ext4-basic\", got \"superblok\" "
                            "(close matches: \"superblock\")"}}));
}

TEST_F(Control, MalformedCommands) {
  auto err = [&](const json& cmd) {
    auto r = ctl.handle(cmd);
    EXPECT_EQ(r["ok"], false) << cmd.dump();
    return r.value("error", std::string());
  };
  EXPECT_EQ(err(json::array()), "expected a JSON object with \"cmd\"");
  EXPECT_EQ(err(json::object()), "expected \"cmd\" to be a string");
  EXPECT_EQ(err({{"cmd", 3}}), "expected \"cmd\" to be a string");
  EXPECT_EQ(err({{"cmd", "reboot"}}), "unknown command \"reboot\" (expected phase, stats, die, load, clear)");
  EXPECT_EQ(err({{"cmd", "phase"}}), "phase: expected \"name\" to be a non-empty string");
  EXPECT_EQ(err({{"cmd", "phase"}, {"name", ""}}), "phase: expected \"name\" to be a non-empty string");
  EXPECT_EQ(err({{"cmd", "phase"}, {"name", 1}}), "phase: expected \"name\" to be a non-empty string");
  EXPECT_EQ(err({{"cmd", "phase"}, {"name", "a"}, {"x", 1}}),
            "unexpected key \"x\" for command \"phase\" (expected cmd, name)");
  EXPECT_EQ(err({{"cmd", "stats"}, {"verbose", true}}),
            "unexpected key \"verbose\" for command \"stats\" (expected cmd)");
  EXPECT_EQ(err({{"cmd", "load"}}), "load: expected exactly one of \"path\" or \"toml\"");
  EXPECT_EQ(err({{"cmd", "load"}, {"path", "a"}, {"toml", "b"}}), "load: expected exactly one of \"path\" or \"toml\"");
  EXPECT_EQ(err({{"cmd", "load"}, {"path", 5}}), "load: expected \"path\" to be a string");
  EXPECT_EQ(engine.phase(), "");
}

TEST_F(Control, Lines) {
  EXPECT_EQ(ctl.handle_line(R"({"cmd":"phase","name":"flood"})"), (json{{"ok", true}, {"phase", "flood"}}));
  auto r = ctl.handle_line("{not json");
  EXPECT_EQ(r["ok"], false);
  EXPECT_EQ(r["error"].get<std::string>().rfind("invalid JSON: ", 0), 0u);
  EXPECT_EQ(ctl.handle_line(""), ctl.handle_line(""));
  EXPECT_EQ(ctl.handle_line("")["ok"], false);
}

}  // namespace
}  // namespace fsfault::faults
