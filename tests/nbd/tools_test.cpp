// The real NBD tools against the real server: nbdinfo (advertised flags and
// size), qemu-io (pattern writes/reads at the edges and unaligned), nbdcopy +
// qemu-img compare (round trips out of and into the server).
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "tests/nbd/support.h"

namespace fsfault::it {
namespace {

constexpr std::size_t kSize = 4 * 1024 * 1024 + 3 * 512;  // not a power of two

class ToolsTest : public ServerTest {
 protected:
  void SetUp() override {
    for (const char* t : {"nbdinfo", "qemu-io", "qemu-img", "nbdcopy"}) {
      if (!have_tool(t)) GTEST_SKIP() << t << " is not installed";
    }
  }
  nlohmann::json nbdinfo(const std::vector<std::string>& args) {
    std::vector<std::string> argv = {"nbdinfo", "--json"};
    argv.insert(argv.end(), args.begin(), args.end());
    RunResult r = run(argv);
    EXPECT_EQ(r.exit_code, 0) << r.output;
    try {
      return nlohmann::json::parse(r.output);
    } catch (const std::exception& e) {
      ADD_FAILURE() << "nbdinfo output is not JSON (" << e.what() << "):\n" << r.output;
      return {};
    }
  }
  // Runs qemu-io with -c commands; expects success and no pattern mismatch.
  void qemu_io(const std::string& u, const std::vector<std::string>& cmds) {
    std::vector<std::string> argv = {"qemu-io", "-f", "raw", u};
    for (const auto& c : cmds) {
      argv.push_back("-c");
      argv.push_back(c);
    }
    RunResult r = run(argv);
    EXPECT_EQ(r.exit_code, 0) << r.output;
    EXPECT_EQ(r.output.find("Pattern verification failed"), std::string::npos) << r.output;
    EXPECT_EQ(r.output.find("error"), std::string::npos) << r.output;
    EXPECT_EQ(r.output.find("failed"), std::string::npos) << r.output;
  }
};

TEST_F(ToolsTest, NbdinfoShowsFlagsAndSize) {
  std::string img = make_image("disk.img", kSize, 1);
  auto& s = start_server({"--image", img, "--export", "disk"});
  auto j = nbdinfo({uri(s, "disk")});
  EXPECT_EQ(j["protocol"], "newstyle-fixed");
  EXPECT_EQ(j["TLS"], false);
  EXPECT_EQ(j["structured"], true);
  ASSERT_EQ(j["exports"].size(), 1u);
  auto e = j["exports"][0];
  EXPECT_EQ(e["export-name"], "disk");
  EXPECT_EQ(e["description"], "disk.img");
  EXPECT_EQ(e["export-size"], kSize);
  EXPECT_EQ(e["is_read_only"], false);
  EXPECT_EQ(e["is_rotational"], false);
  for (const char* f : {"can_cache", "can_df", "can_fast_zero", "can_flush", "can_fua",
                        "can_multi_conn", "can_trim", "can_zero"}) {
    EXPECT_EQ(e[f], true) << f;
  }
  EXPECT_EQ(e["block_size_minimum"], 1);
  EXPECT_EQ(e["block_size_preferred"], 4096);
  EXPECT_EQ(e["block_size_maximum"], 64 * 1024 * 1024);
  ASSERT_TRUE(e["contexts"].is_array());
  EXPECT_NE(std::find(e["contexts"].begin(), e["contexts"].end(), "base:allocation"),
            e["contexts"].end());
}

TEST_F(ToolsTest, NbdinfoReadOnlyVariant) {
  std::string img = make_image("ro.img", kSize, 2);
  auto& s = start_server({"--image", img, "--export", "ro", "--read-only"});
  auto j = nbdinfo({uri(s, "ro")});
  ASSERT_EQ(j["exports"].size(), 1u);
  auto e = j["exports"][0];
  EXPECT_EQ(e["export-size"], kSize);
  EXPECT_EQ(e["is_read_only"], true);
  for (const char* f : {"can_trim", "can_zero", "can_fua", "can_fast_zero"}) {
    EXPECT_EQ(e[f], false) << f << " must not be advertised on a read-only export";
  }
  EXPECT_EQ(e["can_flush"], true);
  EXPECT_EQ(e["can_cache"], true);
  EXPECT_EQ(e["can_df"], true);
}

TEST_F(ToolsTest, NbdinfoListsEveryExport) {
  std::string a = make_image("a.img", 1 << 20, 3);
  std::string b = make_image("b.img", 2 << 20, 4);
  auto& s = start_server({"--image", a, "--export", "alpha", "--image", b, "--export", "beta"});
  auto j = nbdinfo({"--list", uri(s, "")});
  ASSERT_EQ(j["exports"].size(), 2u);
  EXPECT_EQ(j["exports"][0]["export-name"], "alpha");
  EXPECT_EQ(j["exports"][0]["export-size"], 1 << 20);
  EXPECT_EQ(j["exports"][1]["export-name"], "beta");
  EXPECT_EQ(j["exports"][1]["export-size"], 2 << 20);
}

TEST_F(ToolsTest, QemuIoPatternsAtEdgesAndUnaligned) {
  std::string img = make_image("disk.img", kSize, 5);
  auto& s = start_server({"--image", img, "--export", "disk"});
  const std::string last = std::to_string(kSize - 512);
  const std::string u = uri(s, "disk");
  qemu_io(u, {"write -P 0xab 0 512", "read -P 0xab 0 512",
              "write -P 0xcd " + last + " 512", "read -P 0xcd " + last + " 512",
              "write -P 0x5a 1000 3333", "read -P 0x5a 1000 3333",
              "write -P 0x11 8191 2", "read -P 0x11 8191 2",
              "write -z 65536 131072", "read -P 0 65536 131072",
              "write -P 0x77 -f 1048576 4096", "read -P 0x77 1048576 4096",  // FUA
              "discard 262144 65536", "flush"});
  // A second connection sees the first one's data (same overlay).
  qemu_io(u, {"read -P 0xab 0 512", "read -P 0xcd " + last + " 512", "read -P 0x5a 1000 3333",
              "read -P 0x11 8191 2", "read -P 0 65536 131072"});
  // The check can fail: a wrong pattern is reported.
  RunResult bad = run({"qemu-io", "-f", "raw", u, "-c", "read -P 0xee 0 512"});
  EXPECT_NE(bad.output.find("Pattern verification failed"), std::string::npos) << bad.output;
  // Past the end is refused by qemu's block layer or the server, never served.
  RunResult past = run({"qemu-io", "-f", "raw", u, "-c", "read " + std::to_string(kSize) + " 512"});
  EXPECT_EQ(past.output.find("read 512/512 bytes"), std::string::npos) << past.output;
}

TEST_F(ToolsTest, NbdcopyOutAndQemuImgCompare) {
  std::string img = make_image("disk.img", 8 * 1024 * 1024, 6);
  auto& s = start_server({"--image", img, "--export", "disk"});
  std::string out = dir_.file("out.img");
  RunResult c = run({"nbdcopy", uri(s, "disk"), out});
  ASSERT_EQ(c.exit_code, 0) << c.output;
  RunResult cmp = run({"qemu-img", "compare", "-f", "raw", "-F", "raw", img, out});
  EXPECT_EQ(cmp.exit_code, 0) << cmp.output;
  // qemu-img also reads straight from the server.
  RunResult cmp2 = run({"qemu-img", "compare", "-f", "raw", "-F", "raw", img, uri(s, "disk")});
  EXPECT_EQ(cmp2.exit_code, 0) << cmp2.output;
}

TEST_F(ToolsTest, NbdcopyIntoOverlayThenOut) {
  const std::size_t size = 8 * 1024 * 1024;
  std::string img = make_image("golden.img", size, 7);
  std::string golden_sha = sha256_file(img);
  // New content with a zero region in the middle (nbdcopy sends it as zero).
  auto content = random_bytes(size, 8);
  std::fill(content.begin() + 2 * 1024 * 1024, content.begin() + 3 * 1024 * 1024, 0);
  std::string src = dir_.file("src.img");
  write_file(src, content);
  auto& s = start_server({"--image", img, "--export", "disk"});
  RunResult in = run({"nbdcopy", src, uri(s, "disk")});
  ASSERT_EQ(in.exit_code, 0) << in.output;
  std::string out = dir_.file("out.img");
  RunResult o = run({"nbdcopy", uri(s, "disk"), out});
  ASSERT_EQ(o.exit_code, 0) << o.output;
  RunResult cmp = run({"qemu-img", "compare", "-f", "raw", "-F", "raw", src, out});
  EXPECT_EQ(cmp.exit_code, 0) << cmp.output;
  // ... and differs from the golden image, which itself is untouched.
  RunResult differs = run({"qemu-img", "compare", "-q", "-f", "raw", "-F", "raw", img, out});
  EXPECT_EQ(differs.exit_code, 1) << differs.output;
  EXPECT_EQ(sha256_file(img), golden_sha);
}

}  // namespace
}  // namespace fsfault::it
