// Storage modes and process lifecycle: overlay mode never changes the golden
// image; --write-through data survives SIGKILL after a flush; SIGTERM and
// SIGINT end the server with status 0 and remove its socket.
#include <libnbd.h>
#include <signal.h>
#include <sys/wait.h>

#include <gtest/gtest.h>

#include <filesystem>

#include "tests/nbd/support.h"

namespace fsfault::it {
namespace {

constexpr std::uint64_t kSize = 8 * 1024 * 1024;

nbd_handle* open_handle(const ServerProcess& s, const char* name) {
  nbd_handle* h = nbd_create();
  EXPECT_NE(h, nullptr);
  EXPECT_EQ(nbd_set_export_name(h, name), 0);
  EXPECT_EQ(nbd_connect_unix(h, s.socket().c_str()), 0) << nbd_get_error();
  return h;
}

class LifecycleTest : public ServerTest {};

TEST_F(LifecycleTest, OverlayLeavesGoldenImageUnchanged) {
  std::string img = make_image("golden.img", kSize, 41);
  const std::string sha = sha256_file(img);
  auto mtime = std::filesystem::last_write_time(img);
  auto& s = start_server({"--image", img, "--export", "disk"});
  nbd_handle* h = open_handle(s, "disk");
  auto d = random_bytes(1 << 20, 42);
  ASSERT_EQ(nbd_pwrite(h, d.data(), d.size(), 0, LIBNBD_CMD_FLAG_FUA), 0) << nbd_get_error();
  ASSERT_EQ(nbd_pwrite(h, d.data(), 1000, kSize - 1000, 0), 0);
  ASSERT_EQ(nbd_trim(h, 1 << 20, 2 << 20, 0), 0);
  ASSERT_EQ(nbd_zero(h, 1 << 20, 4 << 20, 0), 0);
  ASSERT_EQ(nbd_zero(h, 12345, 6 << 20, LIBNBD_CMD_FLAG_NO_HOLE), 0);
  ASSERT_EQ(nbd_flush(h, 0), 0);
  // The writes are really there (through the server) ...
  std::vector<std::uint8_t> back(d.size());
  ASSERT_EQ(nbd_pread(h, back.data(), back.size(), 0, 0), 0);
  EXPECT_EQ(back, d);
  nbd_close(h);
  if (have_tool("qemu-io")) {
    RunResult r = run({"qemu-io", "-f", "raw", uri(s, "disk"), "-c", "write -P 0x99 4096 65536",
                       "-c", "discard 0 4096"});
    EXPECT_EQ(r.exit_code, 0) << r.output;
  }
  // ... but the golden image is byte-identical, during and after the session.
  EXPECT_EQ(sha256_file(img), sha);
  int status = 0;
  ASSERT_TRUE(s.signal_and_wait(SIGTERM, &status));
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  EXPECT_EQ(sha256_file(img), sha);
  EXPECT_EQ(std::filesystem::last_write_time(img), mtime);
  // No overlay file is left behind in the overlay directory.
  for (const auto& e : std::filesystem::directory_iterator(dir_.path())) {
    std::string name = e.path().filename().string();
    EXPECT_TRUE(name == "golden.img" || name == "nbd.sock.log") << "left behind: " << name;
  }
}

TEST_F(LifecycleTest, WriteThroughSurvivesSigkillAfterFlush) {
  std::string img = make_image("disk.img", kSize, 43);
  auto model = read_file(img);
  auto& s = start_server({"--image", img, "--export", "disk", "--write-through"});
  nbd_handle* h = open_handle(s, "disk");
  auto a = random_bytes(3 << 20, 44);
  auto b = random_bytes(777, 45);
  ASSERT_EQ(nbd_pwrite(h, a.data(), a.size(), 4096, 0), 0) << nbd_get_error();
  ASSERT_EQ(nbd_pwrite(h, b.data(), b.size(), kSize - 777, LIBNBD_CMD_FLAG_FUA), 0);
  ASSERT_EQ(nbd_zero(h, 65536, 5 << 20, LIBNBD_CMD_FLAG_NO_HOLE), 0);
  ASSERT_EQ(nbd_flush(h, 0), 0) << nbd_get_error();
  std::copy(a.begin(), a.end(), model.begin() + 4096);
  std::copy(b.begin(), b.end(), model.end() - 777);
  std::fill_n(model.begin() + (5 << 20), 65536, 0);
  int status = 0;
  s.signal_and_wait(SIGKILL, &status);
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
  nbd_close(h);
  auto now = read_file(img);
  ASSERT_EQ(now.size(), model.size());
  EXPECT_TRUE(now == model) << "acknowledged data is missing from the image after SIGKILL";
}

TEST_F(LifecycleTest, SigtermExitsCleanlyAndRemovesSocket) {
  std::string img = make_image("disk.img", kSize, 46);
  for (int sig : {SIGTERM, SIGINT}) {
    SCOPED_TRACE(sig == SIGTERM ? "SIGTERM" : "SIGINT");
    auto& s = start_server({"--image", img, "--export", "disk"}, sig == SIGTERM ? "t.sock" : "i.sock");
    // One idle client in transmission and one mid-negotiation.
    nbd_handle* h = open_handle(s, "disk");
    std::vector<std::uint8_t> buf(4096);
    ASSERT_EQ(nbd_pread(h, buf.data(), buf.size(), 0, 0), 0);
    int raw = connect_unix(s.socket());
    ASSERT_GE(raw, 0);
    ASSERT_TRUE(std::filesystem::exists(s.socket()));
    int status = 0;
    ASSERT_TRUE(s.signal_and_wait(sig, &status, std::chrono::seconds(5)))
        << "not stopped within 5 s\n" << s.log();
    EXPECT_TRUE(WIFEXITED(status)) << status;
    EXPECT_EQ(WEXITSTATUS(status), 0) << s.log();
    EXPECT_FALSE(std::filesystem::exists(s.socket())) << "socket left behind";
    EXPECT_NE(s.log().find("stopped"), std::string::npos) << s.log();
    ::close(raw);
    // The client sees the connection gone.
    EXPECT_EQ(nbd_pread(h, buf.data(), buf.size(), 0, 0), -1);
    nbd_close(h);
  }
}

}  // namespace
}  // namespace fsfault::it
