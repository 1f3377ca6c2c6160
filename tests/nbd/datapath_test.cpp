// The zero-copy data path through libnbd against the real server: READ replies
// sent from mappings of the golden image and the overlay (golden, data, hole
// and zero runs mixed in one request, unaligned offsets, simple and structured
// replies), WRITEs received straight into the overlay when they overwrite its
// data, reads racing writes on other connections, and fault rules on both paths
// (a changed read is copied, so only the named bytes change; a failed or torn
// in-place write lands nothing or its first half). Every read is checked
// against a model of the disk.
#include <libnbd.h>

#include <gtest/gtest.h>

#include <signal.h>
#include <sys/socket.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <mutex>
#include <thread>

#include "nbd-server/storage/mapped_page_order.h"  // FSFAULT_NBD_TSAN
#include "tests/nbd/raw_client.h"
#include "tests/nbd/support.h"

namespace fsfault::it {
namespace {

constexpr std::uint64_t kSize = 8 * 1024 * 1024;
constexpr std::uint64_t kMiB = 1024 * 1024;

struct Handle {
  nbd_handle* h = nbd_create();
  ~Handle() { nbd_close(h); }
  operator nbd_handle*() const { return h; }
};

void connect(Handle& h, const ServerProcess& s, bool structured) {
  ASSERT_NE(h.h, nullptr);
  ASSERT_EQ(nbd_set_request_structured_replies(h, structured), 0);
  ASSERT_EQ(nbd_set_export_name(h, "disk"), 0);
  ASSERT_EQ(nbd_connect_unix(h, s.socket().c_str()), 0) << nbd_get_error();
  ASSERT_EQ(nbd_get_structured_replies_negotiated(h), structured ? 1 : 0);
}

// The disk as the client must see it, kept next to the real one.
class DiskModel {
 public:
  explicit DiskModel(std::vector<std::uint8_t> golden) : bytes_(std::move(golden)) {}
  void write(nbd_handle* h, std::uint64_t off, const std::vector<std::uint8_t>& data) {
    ASSERT_EQ(nbd_pwrite(h, data.data(), data.size(), off, 0), 0) << nbd_get_error();
    std::copy(data.begin(), data.end(), bytes_.begin() + static_cast<std::ptrdiff_t>(off));
  }
  // Granule-aligned, so the server drops (and zeroes) exactly this range.
  void trim(nbd_handle* h, std::uint64_t off, std::uint64_t len) {
    ASSERT_EQ(nbd_trim(h, len, off, 0), 0) << nbd_get_error();
    zero(off, len);
  }
  void write_zeroes(nbd_handle* h, std::uint64_t off, std::uint64_t len) {
    ASSERT_EQ(nbd_zero(h, len, off, LIBNBD_CMD_FLAG_NO_HOLE), 0) << nbd_get_error();
    zero(off, len);
  }
  void zero(std::uint64_t off, std::uint64_t len) {
    std::fill_n(bytes_.begin() + static_cast<std::ptrdiff_t>(off), len, 0);
  }
  std::vector<std::uint8_t> expected(std::uint64_t off, std::uint64_t len) const {
    auto b = bytes_.begin() + static_cast<std::ptrdiff_t>(off);
    return {b, b + static_cast<std::ptrdiff_t>(len)};
  }
  // Reads [off, off+len) and compares it with the model, naming the first
  // differing byte.
  void check(nbd_handle* h, std::uint64_t off, std::uint64_t len) const {
    std::vector<std::uint8_t> got(len);
    ASSERT_EQ(nbd_pread(h, got.data(), len, off, 0), 0) << nbd_get_error();
    auto want = expected(off, len);
    auto diff = std::mismatch(got.begin(), got.end(), want.begin());
    EXPECT_TRUE(diff.first == got.end())
        << "read at " << off << " length " << len << " differs at byte " << off + (diff.first - got.begin());
  }

 private:
  std::vector<std::uint8_t> bytes_;
};

// Kills the server when a test outlives `limit`: its clients' calls then fail,
// so a server that stops answering fails the test in bounded time, naming the
// cause, instead of hanging it to ctest's timeout.
class Watchdog {
 public:
  Watchdog(pid_t server, std::chrono::seconds limit)
      : thread_([this, server, limit] {
          std::unique_lock lock(mu_);
          if (cv_.wait_for(lock, limit, [this] { return done_; })) return;
          fired_ = true;
          ::kill(server, SIGKILL);
        }) {}
  ~Watchdog() {
    {
      std::lock_guard lock(mu_);
      done_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }
  bool fired() const { return fired_; }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool done_ = false;
  std::atomic<bool> fired_{false};
  std::thread thread_;  // last: starts once the members it uses exist
};

class DataPathTest : public ServerTest, public ::testing::WithParamInterface<bool> {
 protected:
  void SetUp() override { img_ = make_image("disk.img", kSize, 77); }
  ServerProcess& start(const std::vector<std::string>& extra = {}) {
    std::vector<std::string> a = {"--image", img_, "--export", "disk"};
    a.insert(a.end(), extra.begin(), extra.end());
    return start_server(a);
  }
  std::string img_;
};

// One 1 MiB region of every kind of run, and reads that cross them at
// unaligned offsets: each reply is built from several pieces of the mappings.
TEST_P(DataPathTest, ReadsAcrossGoldenDataHoleAndZeroRunsMatchTheModel) {
  auto& s = start();
  Handle h;
  connect(h, s, GetParam());
  DiskModel disk(read_file(img_));
  disk.check(h, 0, kMiB);  // untouched overlay: the golden image alone
  // A checkerboard in the first MiB: every third 4 KiB granule written.
  for (std::uint64_t g = 0; g < 256; g += 3) {
    disk.write(h, g * 4096, random_bytes(4096, 1000 + static_cast<std::uint32_t>(g)));
  }
  disk.write(h, 2 * kMiB + 100, random_bytes(300000, 2));  // unaligned, partial granules
  disk.trim(h, 2 * kMiB + 128 * 1024, 64 * 1024);        // a hole inside that data
  disk.write_zeroes(h, 3 * kMiB - 8192, 16384);          // allocated zeros across a MiB edge
  disk.write(h, 4 * kMiB, random_bytes(kMiB, 3));        // a whole MiB of data
  for (std::uint64_t off = 0; off < kSize; off += kMiB) disk.check(h, off, kMiB);
  const std::pair<std::uint64_t, std::uint64_t> odd[] = {
      {1, 7},          {4095, 4098},          {12287, kMiB + 3},        {2 * kMiB + 99, 300003},
      {2 * kMiB, kMiB}, {3 * kMiB - 10000, 20000}, {4 * kMiB - 1, kMiB + 2}, {kSize - 5000, 5000}};
  for (auto [off, len] : odd) disk.check(h, off, len);
}

// Overwrites of overlay data are received in place; writes that reach
// granules without data still copy them up. Both read back as written.
TEST_P(DataPathTest, WritesOverOverlayDataReadBackAsWritten) {
  auto& s = start();
  Handle h;
  connect(h, s, GetParam());
  DiskModel disk(read_file(img_));
  disk.write(h, kMiB, random_bytes(kMiB, 10));                // first pass: copy-up path
  disk.write(h, kMiB, random_bytes(kMiB, 11));                // all data: in place
  disk.write(h, kMiB + 12345, random_bytes(200000, 12));      // in place, unaligned ends
  disk.write(h, kMiB + kMiB / 2, random_bytes(kMiB, 13));     // half data, half golden
  disk.trim(h, kMiB + 65536, 65536);
  disk.write(h, kMiB, random_bytes(256 * 1024, 14));          // over the trimmed hole
  for (std::uint64_t off = 0; off < 4 * kMiB; off += kMiB) disk.check(h, off, kMiB);
  disk.check(h, kMiB + 12340, 200010);
}

// Four connections, each rewriting and re-reading its own 1 MiB with large
// requests while the others do the same: in-place writes and mapped reads
// on one store, from many threads, never mix regions.
TEST_P(DataPathTest, ConcurrentConnectionsReadBackTheirOwnLargeWrites) {
  auto& s = start();
  // ~2 s under TSan; 60 s means the server stopped answering.
  Watchdog watchdog(s.pid(), std::chrono::seconds(60));
  constexpr int kConns = 4;
  std::vector<std::thread> threads;
  std::vector<std::string> failures(kConns);
  for (int c = 0; c < kConns; ++c) {
    threads.emplace_back([&, c] {
      Handle h;
      if (nbd_set_request_structured_replies(h, GetParam()) != 0 ||
          nbd_set_export_name(h, "disk") != 0 || nbd_connect_unix(h, s.socket().c_str()) != 0) {
        failures[c] = nbd_get_error();
        return;
      }
      const std::uint64_t base = static_cast<std::uint64_t>(c) * 2 * kMiB;
      std::vector<std::uint8_t> got(kMiB);
      for (std::uint32_t round = 0; round < 20 && failures[c].empty(); ++round) {
        auto data = random_bytes(kMiB, 100 * static_cast<std::uint32_t>(c) + round);
        if (nbd_pwrite(h, data.data(), kMiB, base, 0) != 0 ||
            nbd_pread(h, got.data(), kMiB, base, 0) != 0) {
          failures[c] = nbd_get_error();
        } else if (got != data) {
          failures[c] = "round " + std::to_string(round) + " read back other bytes";
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  ASSERT_FALSE(watchdog.fired()) << "the server stopped answering; killed after 60 s";
  for (int c = 0; c < kConns; ++c) EXPECT_EQ(failures[c], "") << "connection " << c;
}

// Faults on the fast paths: a fill rule inside a 1 MiB read changes exactly
// its sector (the read is copied); the second large write over overlay data
// into a failing rule's sectors lands nothing, into a torn rule's its first half.
TEST_P(DataPathTest, FaultRulesApplyToExactlyTheirBytesOnTheFastPaths) {
  const std::string schedule = dir_.file("s.toml");
  const std::string text = R"(seed = 1
[[rule]]
match = { op = "read", sectors = "2050" }
action = { fill = { byte = 0xab } }
[[rule]]
match = { op = "write", sectors = "8192" }
after = 1
action = { fail = "EIO" }
[[rule]]
match = { op = "write", sectors = "12288" }
after = 1
action = { torn = true }
)";
  write_file(schedule, std::vector<std::uint8_t>(text.begin(), text.end()));
  auto& s = start({"--schedule", schedule});
  Handle h;
  connect(h, s, GetParam());
  DiskModel disk(read_file(img_));
  std::vector<std::uint8_t> got(kMiB);
  ASSERT_EQ(nbd_pread(h, got.data(), kMiB, kMiB, 0), 0) << nbd_get_error();
  auto want = disk.expected(kMiB, kMiB);
  std::fill_n(want.begin() + 1024, 512, 0xab);  // sector 2050 = byte 1 MiB + 1024
  EXPECT_TRUE(got == want) << "the fill changed other bytes than its sector, or not its own";
  // Make both regions overlay data (the rules skip their first match), then
  // write them again: those writes go in place, through the rules.
  disk.write(h, 4 * kMiB, random_bytes(kMiB, 20));
  disk.write(h, 6 * kMiB, random_bytes(kMiB, 21));
  auto second = random_bytes(kMiB, 22);
  EXPECT_EQ(nbd_pwrite(h, second.data(), kMiB, 4 * kMiB, 0), -1);
  EXPECT_EQ(nbd_get_errno(), EIO);
  EXPECT_EQ(nbd_pwrite(h, second.data(), kMiB, 6 * kMiB, 0), -1);
  EXPECT_EQ(nbd_get_errno(), EIO);
  std::vector<std::uint8_t> half(second.begin(), second.begin() + kMiB / 2);
  disk.check(h, 4 * kMiB, kMiB);  // the failed write left the first data
  ASSERT_EQ(nbd_pread(h, got.data(), kMiB, 6 * kMiB, 0), 0) << nbd_get_error();
  auto torn = disk.expected(6 * kMiB, kMiB);
  std::copy(half.begin(), half.end(), torn.begin());
  EXPECT_TRUE(got == torn) << "a torn write must land exactly its first half";
}

INSTANTIATE_TEST_SUITE_P(Replies, DataPathTest, ::testing::Values(false, true),
                         [](const auto& info) { return info.param ? "Structured" : "Simple"; });

// What the mapped reads and in-place writes allow, shown on the wire: a WRITE
// the client sends before the reply to an overlapping READ has arrived (both
// in flight, their order unspecified by NBD) is received into the pages that
// reply is still being sent from, so the reply's first bytes, already in the
// socket, may be the old data and its rest the new. Every byte is one or the
// other, never a third value. A client that waits for the reply first never
// sees this: sendmsg(2) has copied the whole reply by then
// (nbd-server/storage/mapped_page_order.h). ThreadSanitizer rightly reports
// these accesses, which overlap in time, so the test does not run under it.
class PipelinedDataPathTest : public ServerTest {};

// The cookie of the next reply on fd, peeked (left in the socket); 0 when no
// whole header arrives within 30 s.
std::uint64_t next_reply_cookie(int fd) {
  std::uint8_t r[16];
  for (int i = 0; i < 3000; ++i) {
    if (::recv(fd, r, sizeof r, MSG_PEEK | MSG_DONTWAIT) == static_cast<ssize_t>(sizeof r)) {
      std::uint64_t cookie = 0;
      for (int b = 8; b < 16; ++b) cookie = (cookie << 8) | r[b];
      return cookie;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return 0;
}

TEST_F(PipelinedDataPathTest, WriteOverAReadStillBeingSentChangesOnlyItsUnsentBytes) {
#ifdef FSFAULT_NBD_TSAN
  GTEST_SKIP() << "overlapping in-flight requests touch the same pages at once, by design";
#endif
  const std::string img = make_image("disk.img", kSize, 78);
  auto& s = start_server({"--image", img, "--export", "disk"});
  raw::RawClients clients;
  const int fd = clients.transmitting(s.socket(), "disk");
  ASSERT_GE(fd, 0);
  const auto before = random_bytes(kMiB, 30), after = random_bytes(kMiB, 31);
  auto write = [&](std::uint64_t cookie, const std::vector<std::uint8_t>& data) {
    raw::Bytes req = raw::request(1, cookie, kMiB, kMiB);
    req.insert(req.end(), data.begin(), data.end());
    return raw::send(fd, req);
  };
  ASSERT_TRUE(write(1, before));  // the range becomes overlay data: the next write goes in place
  ASSERT_EQ(raw::simple_reply(fd, 1), 0);
  // The 1 MiB reply fills the socket's buffer and its sendmsg blocks, since
  // nothing reads it yet; meanwhile another worker receives the WRITE.
  ASSERT_TRUE(raw::send(fd, raw::request(0, 2, kMiB, kMiB)));
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  ASSERT_TRUE(write(3, after));
  std::this_thread::sleep_for(std::chrono::milliseconds(500));  // the payload lands
  // Both replies in the order they come (under load the WRITE may be received
  // before the READ's sendmsg starts; then its reply is first and the READ
  // returns the new data only).
  raw::Bytes got;
  if (next_reply_cookie(fd) == 3) {
    ASSERT_EQ(raw::simple_reply(fd, 3), 0);
    ASSERT_EQ(raw::simple_reply(fd, 2, kMiB, &got), 0);
  } else {
    ASSERT_EQ(raw::simple_reply(fd, 2, kMiB, &got), 0);
    ASSERT_EQ(raw::simple_reply(fd, 3), 0);
  }
  ASSERT_EQ(got.size(), kMiB);
  // Every byte is the old or the new data, nothing else (no torn granule, no
  // zeros). Where it switches depends on timing, so it is recorded, not bounded.
  std::size_t old_bytes = 0;
  for (std::size_t i = 0; i < kMiB; ++i) {
    ASSERT_TRUE(got[i] == before[i] || got[i] == after[i])
        << "byte " << i << " is neither the old nor the new data";
    old_bytes += got[i] == before[i] && got[i] != after[i] ? 1 : 0;
  }
  RecordProperty("old_bytes_in_reply", static_cast<int>(old_bytes));
  raw::Bytes now;
  ASSERT_TRUE(raw::send(fd, raw::request(0, 4, kMiB, kMiB)));
  ASSERT_EQ(raw::simple_reply(fd, 4, kMiB, &now), 0);
  EXPECT_TRUE(now == after) << "once replied to, the write is what reads return";
}

}  // namespace
}  // namespace fsfault::it
