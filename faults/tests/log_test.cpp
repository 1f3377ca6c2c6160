#include <gtest/gtest.h>

#include <cerrno>
#include <cstdio>
#include <fstream>
#include <thread>

#include "faults/fault_engine.h"
#include "faults/fault_log.h"
#include "test_util.h"

namespace fsfault::faults {
namespace {

std::vector<std::string> read_lines(const std::string& path) {
  std::ifstream in(path);
  std::vector<std::string> out;
  for (std::string l; std::getline(in, l);) out.push_back(l);
  return out;
}

TEST(FaultLog, RecordFormats) {
  FaultRecord r;
  r.t_ms = 12;
  r.req = 3;
  r.rule = "x";
  r.phase = "armed";
  r.op = Op::Read;
  r.sector = 2048;
  r.sectors = 8;
  r.action = "fail";
  r.error = ENOSPC;
  EXPECT_EQ(FaultLog::to_json(r, true).dump(),
            R"({"t_ms":12,"req":3,"rule":"x","phase":"armed","op":"read","sector":2048,"sectors":8,"action":"fail","error":"ENOSPC"})");
  r.action = "flip";
  r.error = 0;
  r.bits = {1, 9};
  r.persist = true;
  EXPECT_EQ(FaultLog::to_json(r, false).dump(),
            R"({"req":3,"rule":"x","phase":"armed","op":"read","sector":2048,"sectors":8,"action":"flip","bits":[1,9],"persist":true})");
  r.action = "delay";
  r.delay_ms = 40;
  r.phase = "";
  EXPECT_EQ(FaultLog::to_json(r, false).dump(),
            R"({"req":3,"rule":"x","phase":null,"op":"read","sector":2048,"sectors":8,"action":"delay","delay_ms":40})");
  EXPECT_EQ(FaultLog::without_time(FaultLog::to_json(r, true).dump()), FaultLog::to_json(r, false).dump());
  // Byte changes: [begin, end) pairs relative to the request's first byte.
  r.action = "fill";
  r.bytes = {{0, 1024}, {4096, 5120}};
  r.fill_byte = 0xff;
  EXPECT_EQ(FaultLog::to_json(r, false).dump(),
            R"({"req":3,"rule":"x","phase":null,"op":"read","sector":2048,"sectors":8,"action":"fill",)"
            R"("bytes":[[0,1024],[4096,5120]],"byte":255})");
  r.action = "flip";
  EXPECT_EQ(FaultLog::to_json(r, false).dump(),
            R"({"req":3,"rule":"x","phase":null,"op":"read","sector":2048,"sectors":8,"action":"flip",)"
            R"("bytes":[[0,1024],[4096,5120]],"persist":true})");
}

// The hot-path formatter writes exactly what to_json().dump() writes.
TEST(FaultLog, AppendLineEqualsToJsonDump) {
  FaultRecord r;
  r.t_ms = 1234567;
  r.req = UINT64_MAX;
  r.rule = "itable-eio";
  r.op = Op::BlockStatus;
  r.sector = 0;
  r.sectors = 1;
  std::vector<std::pair<std::string, std::string>> names = {
      {"plain", "armed"}, {"q\"uo\\te", ""}, {"tab\there", "ph\nase"}, {"ünïcode", "\x01ctl"}};
  for (const auto& [rule, phase] : names) {
    for (const char* action : {"fail", "flip", "delay", "dead", "zero", "fill", "flip-bytes"}) {
      r.rule = rule;
      r.phase = phase;
      r.action = action;
      // zero, fill and flip of a byte range log the bytes changed.
      const bool by_bytes = r.action == "zero" || r.action == "fill" || r.action == "flip-bytes";
      if (r.action == "flip-bytes") r.action = "flip";
      r.bytes = by_bytes ? std::vector<std::pair<std::uint64_t, std::uint64_t>>{{0, 1024}, {4096, 5120}}
                         : std::vector<std::pair<std::uint64_t, std::uint64_t>>{};
      r.fill_byte = 0xff;
      r.error = std::string_view(action) == "fail" ? ENOSPC : 0;
      r.bits = r.action == "flip" && !by_bytes ? std::vector<std::uint64_t>{0, 7, 4096} : std::vector<std::uint64_t>{};
      r.persist = !r.persist;
      r.delay_ms = 40;
      for (bool with_time : {true, false}) {
        std::string line = "prefix";
        FaultLog::append_line(line, r, with_time);
        EXPECT_EQ(line, "prefix" + FaultLog::to_json(r, with_time).dump()) << rule << " " << action;
      }
    }
  }
}

// A stats request or a phase change flushes: the file then holds every fault
// counted so far, without waiting for the flush timer.
TEST(FaultLog, StatsAndPhaseChangeFlush) {
  const std::string path = ::testing::TempDir() + "/faults_flush.jsonl";
  auto log = FaultLog::open_file(path, FaultLog::Time::Omit);
  std::uint64_t now = 0;
  FaultEngine engine([&now] { return now; }, log);
  engine.load(Schedule::parse(R"([[rule]]
name = "eio"
match = { op = "read" }
action = { fail = "EIO" })",
                              "f.toml", nullptr, testing::kDisk));
  for (int i = 0; i < 3; ++i) engine.evaluate({Op::Read, 0, 512});
  EXPECT_EQ(engine.stats()["rules"][0]["fired"], 3);
  EXPECT_EQ(read_lines(path).size(), 3u);
  engine.evaluate({Op::Read, 0, 512});
  engine.set_phase("next");
  EXPECT_EQ(read_lines(path).size(), 4u);
  engine.evaluate({Op::Read, 0, 512});
  engine.die();
  EXPECT_EQ(read_lines(path).size(), 5u);
  engine.evaluate({Op::Read, 0, 512});
  log.reset();
  engine.set_log(nullptr);  // the engine held the last reference: its destructor flushes
  auto lines = read_lines(path);
  ASSERT_EQ(lines.size(), 6u);
  EXPECT_EQ(lines[5], R"({"req":6,"rule":"control","phase":"next","op":"read","sector":0,"sectors":1,"action":"dead","error":"EIO"})");
  std::remove(path.c_str());
}

TEST(FaultLog, FileIsWrittenPerFlush) {
  const std::string path = ::testing::TempDir() + "/faults.jsonl";
  auto log = FaultLog::open_file(path);
  std::uint64_t now = 100;
  FaultEngine engine([&now] { return now; }, log);
  engine.load(Schedule::parse(R"([[rule]]
name = "eio"
phase = "armed"
match = { op = "read", sectors = "16-23" }
action = { fail = "EIO" }
[[rule]]
name = "bits"
match = { op = "read", sectors = "30" }
action = { flip = { offset = 12 } })",
                              "l.toml", nullptr, testing::kDisk));
  engine.set_phase("armed");
  now = 150;
  engine.evaluate({Op::Read, 16 * 512, 4096});
  log->flush();  // what the timer, a phase change or a stats request do
  auto lines = read_lines(path);
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0],
            R"({"t_ms":50,"req":1,"rule":"eio","phase":"armed","op":"read","sector":16,"sectors":8,"action":"fail","error":"EIO"})");
  now = 170;
  engine.evaluate({Op::Read, 29 * 512, 1024});
  log->flush();
  lines = read_lines(path);
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[1],
            R"({"t_ms":70,"req":2,"rule":"bits","phase":"armed","op":"read","sector":29,"sectors":2,"action":"flip","bits":[4108],"persist":false})");
  std::remove(path.c_str());
  EXPECT_THROW(FaultLog::open_file("/nonexistent-dir/x.jsonl"), std::system_error);
}

TEST(FaultLog, ConcurrentWritersNeverInterleave) {
  const std::string path = ::testing::TempDir() + "/faults_mt.jsonl";
  auto log = FaultLog::open_file(path, FaultLog::Time::Omit);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      FaultRecord r;
      r.rule = std::string(200, static_cast<char>('a' + t));
      r.action = "flip";
      r.bits.assign(100, static_cast<std::uint64_t>(t));
      for (int i = 0; i < 200; ++i) log->write(r);
    });
  }
  for (auto& th : threads) th.join();
  log->flush();
  auto lines = read_lines(path);
  ASSERT_EQ(lines.size(), 800u);
  for (const auto& l : lines) EXPECT_TRUE(nlohmann::json::accept(l)) << l;
  std::remove(path.c_str());
}

TEST(FaultLog, Callback) {
  std::vector<std::string> got;
  auto log = FaultLog::to_callback([&](std::string_view l) { got.emplace_back(l); }, FaultLog::Time::Omit);
  FaultRecord r;
  r.rule = "a";
  r.action = "zero";
  log->write(r);
  log->flush();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0], R"({"req":0,"rule":"a","phase":null,"op":"read","sector":0,"sectors":0,"action":"zero"})");
}

}  // namespace
}  // namespace fsfault::faults
