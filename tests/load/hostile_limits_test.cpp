// Hostile clients and exact limits against the real server (complements
// tests/nbd/hostile_test.cpp, which covers garbage, huge lengths and option
// floods): slow-loris handshakes, a client that never reads its replies,
// lengths exactly at and one past each limit, and an overlay whose
// filesystem fills up. After each test the server is alive, serves a normal
// client, has reaped every connection, and the golden image is unchanged.
#include <libnbd.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <cstring>
#include <thread>

#include "tests/load/load_util.h"
#include "tests/nbd/raw_client.h"
#include "tests/nbd/support.h"

namespace fsfault::it {
namespace {

using raw::Bytes;
using raw::go_payload;
using raw::option;
using raw::request;
using raw::simple_reply;
using Clock = std::chrono::steady_clock;
constexpr std::uint64_t kSize = 72ULL * 1024 * 1024;  // room for a 64 MiB request
constexpr std::uint32_t kMaxBlock = 64 * 1024 * 1024;  // advertised maximum block size
constexpr std::uint64_t kMaxDrain = 128ULL * 1024 * 1024;  // WRITE payload drained up to this

class HostileLimitsTest : public ServerTest {
 protected:
  void SetUp() override {
    img_ = make_image("golden.img", kSize, 5);
    golden_sha_ = sha256_file(img_);
  }
  void TearDown() override {
    clients_.close_all();
    if (server_ != nullptr && server_->alive()) {
      expect_still_serving();
      load::ProcStats after = load::settle(server_->pid(), baseline_);
      EXPECT_EQ(after.fds, baseline_.fds) << "descriptors leaked:\n" << load::describe(server_->pid());
      EXPECT_EQ(after.threads, baseline_.threads) << "threads leaked";
    }
    EXPECT_EQ(sha256_file(img_), golden_sha_) << "the golden image changed";
    ServerTest::TearDown();
  }
  void start(std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {"--image", img_, "--export", "disk"};
    args.insert(args.end(), extra.begin(), extra.end());
    server_ = &start_server(args);
    baseline_ = load::quiet_baseline(server_->pid());
  }
  int connect() { return clients_.connect(server_->socket()); }
  void forget(int fd) { clients_.close(fd); }
  int negotiating() { return clients_.negotiating(server_->socket()); }
  int transmitting() { return clients_.transmitting(server_->socket(), "disk"); }
  static std::uint32_t reply(int fd) { return raw::option_reply_type(fd); }
  void expect_still_serving() {
    ASSERT_TRUE(server_->alive()) << "the server died:\n" << server_->log();
    nbd_handle* h = nbd_create();
    ASSERT_NE(h, nullptr);
    nbd_set_export_name(h, "disk");
    ASSERT_EQ(nbd_connect_unix(h, server_->socket().c_str()), 0) << nbd_get_error();
    std::vector<char> buf(1 << 20);
    EXPECT_EQ(nbd_pread(h, buf.data(), buf.size(), 0, 0), 0) << nbd_get_error();
    EXPECT_EQ(nbd_pwrite(h, buf.data(), 4096, 8192, 0), 0) << nbd_get_error();
    nbd_shutdown(h, 0);
    nbd_close(h);
  }

  std::string img_, golden_sha_;
  ServerProcess* server_ = nullptr;
  load::ProcStats baseline_;
  raw::RawClients clients_;
};

TEST_F(HostileLimitsTest, SlowLorisHandshakesAreCutOff) {
  start({"--handshake-timeout", "2"});
  std::vector<int> silent;
  for (int i = 0; i < 16; ++i) {
    int fd = clients_.greeted(server_->socket());
    ASSERT_TRUE(send_all(fd, "\0\0", 2));  // half of the client flags, then nothing
    silent.push_back(fd);
  }
  int stalled_option = negotiating();
  Bytes o = option(3, {});
  ASSERT_TRUE(send_all(stalled_option, o.data(), 10));  // an option header cut short
  expect_still_serving();  // the stalled handshakes do not block anybody
  for (int fd : silent) EXPECT_TRUE(wait_closed(fd, std::chrono::seconds(10)));
  EXPECT_TRUE(wait_closed(stalled_option, std::chrono::seconds(10)));
}

// A client that trickles one byte every 900 ms never lets a single recv()
// wait out the timeout: the timeout must bound the whole negotiation, so the
// server closes the connection before the 16-byte option header is complete.
TEST_F(HostileLimitsTest, TrickledHandshakeIsCutOffToo) {
  start({"--handshake-timeout", "2"});
  int fd = negotiating();
  Bytes o = option(3, {});
  bool closed = false;
  std::size_t sent = 0;
  for (; sent < o.size() && !closed; ++sent) {
    if (::send(fd, &o[sent], 1, MSG_NOSIGNAL) != 1) closed = true;
    std::this_thread::sleep_for(std::chrono::milliseconds(900));
    char c;
    if (::recv(fd, &c, 1, MSG_DONTWAIT) == 0) closed = true;
  }
  EXPECT_TRUE(closed) << "a handshake trickled over " << sent * 0.9
                      << " s outlived --handshake-timeout 2";
}

// A client that sends READs and never reads the replies fills its socket; the
// server must keep serving everybody else, and free the connection when the
// client goes away.
TEST_F(HostileLimitsTest, ClientThatStopsReadingDoesNotWedgeOthers) {
  start({"--threads", "4"});
  int fd = transmitting();
  Bytes reqs;
  for (std::uint64_t i = 0; i < 64; ++i) {
    Bytes r = request(0, i, (i % 32) * (1 << 20), 1 << 20);
    reqs.insert(reqs.end(), r.begin(), r.end());
  }
  ASSERT_TRUE(raw::send(fd, reqs));
  std::this_thread::sleep_for(std::chrono::milliseconds(500));  // its workers block in sendmsg
  for (int i = 0; i < 5; ++i) expect_still_serving();
  forget(fd);  // now the blocked writes fail and the connection ends
}

// The same stalled client must not keep SIGTERM from stopping the server.
TEST_F(HostileLimitsTest, SigtermWithAStalledReaderStillExits) {
  start({"--threads", "4"});
  int fd = transmitting();
  Bytes reqs;
  for (std::uint64_t i = 0; i < 64; ++i) {
    Bytes r = request(0, i, 0, 1 << 20);
    reqs.insert(reqs.end(), r.begin(), r.end());
  }
  ASSERT_TRUE(raw::send(fd, reqs));
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  int status = 0;
  EXPECT_TRUE(server_->signal_and_wait(SIGTERM, &status, std::chrono::seconds(20)))
      << "fsfault-nbd did not exit on SIGTERM while a client stopped reading:\n"
      << server_->log();
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "status " << status;
  server_ = nullptr;
}

TEST_F(HostileLimitsTest, RequestLengthsAtAndPastEveryLimit) {
  start();
  int fd = transmitting();
  std::uint64_t cookie = 1;
  auto roundtrip = [&](std::uint16_t type, std::uint64_t off, std::uint32_t len, std::uint16_t flags,
                       std::size_t payload) {
    Bytes r = request(type, cookie, off, len, flags);
    EXPECT_TRUE(raw::send(fd, r));
    if (payload > 0) {
      Bytes zeros(1 << 20, 0x5a);
      for (std::size_t left = payload; left > 0;) {
        std::size_t n = std::min(left, zeros.size());
        EXPECT_TRUE(send_all(fd, zeros.data(), n));
        left -= n;
      }
    }
    return simple_reply(fd, cookie++, type == 0 ? len : 0);
  };
  // READ: exactly the maximum block size works; one byte more is EINVAL, or
  // EOVERFLOW with DF (DF is refused without structured replies: EINVAL).
  EXPECT_EQ(roundtrip(0, 0, kMaxBlock, 0, 0), 0);
  EXPECT_EQ(roundtrip(0, 0, kMaxBlock + 1, 0, 0), 22);
  // Bounds: the last byte works, one past the end does not.
  EXPECT_EQ(roundtrip(0, kSize - 1, 1, 0, 0), 0);
  EXPECT_EQ(roundtrip(0, kSize, 1, 0, 0), 22);
  EXPECT_EQ(roundtrip(0, kSize - 1, 2, 0, 0), 22);
  EXPECT_EQ(roundtrip(1, kSize - 1, 2, 0, 2), 28);  // write past the end: ENOSPC
  EXPECT_EQ(roundtrip(4, kSize - 512, 1024, 0, 0), 28);  // trim past the end
  EXPECT_EQ(roundtrip(0, ~0ULL - 10, 512, 0, 0), 22);  // offset + length overflows
  // WRITE: the maximum block size works; above it the payload is drained and
  // refused with EINVAL up to 128 MiB, and the connection stays in sync.
  EXPECT_EQ(roundtrip(1, 0, kMaxBlock, 0, kMaxBlock), 0);
  EXPECT_EQ(roundtrip(1, 0, kMaxBlock + 1, 0, kMaxBlock + 1), 22);
  EXPECT_EQ(roundtrip(1, 0, static_cast<std::uint32_t>(kMaxDrain), 0, kMaxDrain), 22);
  EXPECT_EQ(roundtrip(0, 0, 4096, 0, 0), 0) << "out of sync after the drained writes";
  // One byte past the drain limit: the connection is closed.
  Bytes w = request(1, cookie, 0, static_cast<std::uint32_t>(kMaxDrain + 1));
  ASSERT_TRUE(raw::send(fd, w));
  EXPECT_TRUE(wait_closed(fd, std::chrono::seconds(10)));
}

// Eight maximum-size READs pipelined to one worker: a batch stops taking
// requests once its buffers hold 4 MiB, and buffers over 1 MiB are freed once
// answered, so the server never holds 8 x 64 MiB at once, nor keeps 64 MiB
// after the replies.
TEST_F(HostileLimitsTest, PipelinedMaximumReadsKeepMemoryBounded) {
#ifdef FSFAULT_SANITIZED_SERVER
  GTEST_SKIP() << "sanitizer allocators keep freed memory: RSS says nothing here";
#endif
  start({"--threads", "1"});
  int fd = transmitting();
  Bytes reqs;
  for (std::uint64_t i = 1; i <= 8; ++i) {
    Bytes r = request(0, i, 0, kMaxBlock);
    reqs.insert(reqs.end(), r.begin(), r.end());
  }
  ASSERT_TRUE(raw::send(fd, reqs));
  for (std::uint64_t i = 1; i <= 8; ++i) ASSERT_EQ(simple_reply(fd, i, kMaxBlock), 0) << "READ " << i;
  const long peak_mib = load::proc_stats(server_->pid()).peak_rss_kib / 1024;
  std::printf("[ figures  ] 8 pipelined 64 MiB READs, one worker: peak RSS %ld MiB\n", peak_mib);
  EXPECT_LT(peak_mib, 160) << "more than two 64 MiB buffers held at once";
  load::ProcStats now = load::proc_stats(server_->pid());
  for (int i = 0; i < 50 && now.anon_kib - baseline_.anon_kib > 32 * 1024; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    now = load::proc_stats(server_->pid());
  }
  EXPECT_LT(now.anon_kib - baseline_.anon_kib, 32 * 1024) << "64 MiB buffers kept after their replies";
}

TEST_F(HostileLimitsTest, OptionLengthsAndNamesAtTheirLimits) {
  start({"--max-options", "1000"});
  int fd = negotiating();
  // Option payload: 64 KiB is read and parsed (an invalid INFO: ERR_INVALID);
  // one byte more is skipped with ERR_TOO_BIG.
  Bytes at = option(6, Bytes(64 * 1024, 0));
  ASSERT_TRUE(raw::send(fd, at));
  EXPECT_EQ(reply(fd), 0x80000003u) << "NBD_REP_ERR_INVALID";
  Bytes past = option(6, Bytes(64 * 1024 + 1, 0));
  ASSERT_TRUE(raw::send(fd, past));
  EXPECT_EQ(reply(fd), 0x80000009u) << "NBD_REP_ERR_TOO_BIG";
  // Export names: 4096 bytes is a valid (unknown) name, 4097 is invalid.
  Bytes n4096 = option(6, go_payload(std::string(4096, 'x')));
  ASSERT_TRUE(raw::send(fd, n4096));
  EXPECT_EQ(reply(fd), 0x80000006u) << "NBD_REP_ERR_UNKNOWN";
  Bytes n4097 = option(6, go_payload(std::string(4097, 'x')));
  ASSERT_TRUE(raw::send(fd, n4097));
  EXPECT_EQ(reply(fd), 0x80000003u) << "NBD_REP_ERR_INVALID";
  // Still in sync: GO works.
  Bytes go = option(7, go_payload("disk"));
  ASSERT_TRUE(raw::send(fd, go));
  std::uint32_t t;
  while ((t = reply(fd)) == 3) {
  }
  EXPECT_EQ(t, 1u);
}

TEST_F(HostileLimitsTest, ConnectionLimitRefusesTheExtraClient) {
  start({"--max-connections", "4"});
  std::vector<int> held;
  for (int i = 0; i < 4; ++i) held.push_back(transmitting());
  int extra = connect();
  EXPECT_TRUE(wait_closed(extra, std::chrono::seconds(5))) << "a 5th connection was served";
  for (int fd : held) forget(fd);
  forget(extra);
  // Freed slots are usable again once the server has reaped them.
  load::settle(server_->pid(), baseline_);
}

// The overlay's filesystem fills up: writes fail with ENOSPC, reads and the
// server go on. Needs root for a small tmpfs (skipped otherwise).
TEST_F(HostileLimitsTest, OverlayDiskFullGivesEnospcAndTheServerSurvives) {
  std::string mnt = dir_.file("small");
  ASSERT_EQ(::mkdir(mnt.c_str(), 0700), 0);
  if (::mount("tmpfs", mnt.c_str(), "tmpfs", 0, "size=4m,mode=0700") != 0) {
    GTEST_SKIP() << "cannot mount a tmpfs (" << std::strerror(errno) << "); needs root";
  }
  struct Unmount {
    std::string p;
    ~Unmount() { ::umount2(p.c_str(), MNT_DETACH); }
  } unmount{mnt};
  // Not start_server(): it puts the overlay in the test's directory.
  servers_.push_back(std::make_unique<ServerProcess>());
  ASSERT_TRUE(servers_.back()->start({"--image", img_, "--export", "disk", "--overlay-dir", mnt},
                                     dir_.file("full.sock"), dir_.file("full.log")));
  server_ = servers_.back().get();
  baseline_ = load::quiet_baseline(server_->pid());
  nbd_handle* h = nbd_create();
  ASSERT_NE(h, nullptr);
  nbd_set_export_name(h, "disk");
  ASSERT_EQ(nbd_connect_unix(h, server_->socket().c_str()), 0) << nbd_get_error();
  std::vector<char> buf(1 << 20, 0x33);
  int enospc = 0, ok = 0;
  for (std::uint64_t off = 0; off + buf.size() <= 16 * (1 << 20); off += buf.size()) {
    if (nbd_pwrite(h, buf.data(), buf.size(), off, 0) == 0) {
      ++ok;
    } else {
      EXPECT_EQ(nbd_get_errno(), ENOSPC) << nbd_get_error();
      ++enospc;
    }
  }
  EXPECT_GT(ok, 0);
  EXPECT_GT(enospc, 0) << "16 MiB fitted in a 4 MiB tmpfs?";
  std::printf("[ figures  ] overlay on a 4 MiB tmpfs: %d MiB written, %d MiB refused with ENOSPC\n", ok,
              enospc);
  // Reads still work, including of what was written.
  std::vector<char> back(4096);
  EXPECT_EQ(nbd_pread(h, back.data(), back.size(), 0, 0), 0) << nbd_get_error();
  EXPECT_EQ(back[0], 0x33);
  nbd_shutdown(h, 0);
  nbd_close(h);
  // TearDown writes 4 KiB more (expect_still_serving); free room first.
  nbd_handle* t = nbd_create();
  nbd_set_export_name(t, "disk");
  ASSERT_EQ(nbd_connect_unix(t, server_->socket().c_str()), 0);
  EXPECT_EQ(nbd_trim(t, 4 << 20, 0, 0), 0) << nbd_get_error();
  nbd_close(t);
}

TEST_F(HostileLimitsTest, MaxWriteDrainIsConfigurable) {
  start({"--max-write-drain", std::to_string(kMaxBlock + 1)});
  int fd = transmitting();
  Bytes w = request(1, 1, 0, kMaxBlock + 1);
  Bytes payload(kMaxBlock + 1, 0x11);
  ASSERT_TRUE(raw::send(fd, w));
  ASSERT_TRUE(raw::send(fd, payload));
  EXPECT_EQ(simple_reply(fd, 1), 22) << "drained and refused with EINVAL";
  Bytes w2 = request(1, 2, 0, kMaxBlock + 2);
  ASSERT_TRUE(raw::send(fd, w2));
  EXPECT_TRUE(wait_closed(fd, std::chrono::seconds(10))) << "past --max-write-drain: closed";
}

}  // namespace
}  // namespace fsfault::it
