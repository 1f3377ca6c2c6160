// Load under random faults against the real server: 1000 connect/disconnect
// cycles, then 64 connections at queue depth 32 for a bounded time. The
// server's descriptors and threads must return to their baseline and its RSS
// stay within slack; libnbd's completion callbacks prove every request was
// answered exactly once; the golden image is never touched.
#include <libnbd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <random>
#include <thread>
#include <vector>

#include "tests/load/load_util.h"
#include "tests/nbd/support.h"

namespace fsfault::it {
namespace {

using load::proc_stats;
using load::ProcStats;
using Clock = std::chrono::steady_clock;

constexpr std::uint64_t kSize = 64ULL * 1024 * 1024;

// Random faults on every op (the schedule is seeded: reproducible decisions).
constexpr const char* kSchedule = R"(seed = 8
[[rule]]
name = "read-eio"
match = { op = "read" }
action = { fail = "EIO" }
probability = 0.05
[[rule]]
name = "write-enospc"
match = { op = "write" }
action = { fail = "ENOSPC" }
probability = 0.05
[[rule]]
name = "delay"
match = { op = "any" }
action = { delay_ms = 2 }
probability = 0.05
[[rule]]
name = "flip"
match = { op = "read" }
action = { flip = { bits = 4 } }
probability = 0.1
[[rule]]
name = "trim-eio"
match = { op = "trim", sectors = "0-20479" }
action = { fail = "EIO" }
probability = 0.5
)";

// RSS may grow with allocator caches; it must not grow with the work done.
constexpr long kRssSlackKib = 48 * 1024;

class LoadTest : public ServerTest {
 protected:
  void SetUp() override {
    img_ = make_image("golden.img", kSize, 77);
    golden_sha_ = sha256_file(img_);
    std::FILE* f = std::fopen(dir_.file("faults.toml").c_str(), "w");
    ASSERT_NE(f, nullptr);
    std::fputs(kSchedule, f);
    std::fclose(f);
    server_ = &start_server({"--image", img_, "--export", "disk", "--schedule", dir_.file("faults.toml"),
                             "--max-connections", "128", "-q"});
    // Warm up (first connection allocates the allocator's arenas), then measure.
    for (int i = 0; i < 3; ++i) connect_and_read();
    baseline_ = load::quiet_baseline(server_->pid());
  }
  void TearDown() override {
    if (server_ != nullptr) {
      EXPECT_TRUE(server_->alive()) << server_->log();
      EXPECT_EQ(sha256_file(img_), golden_sha_) << "the golden image changed";
    }
    ServerTest::TearDown();
  }
  nbd_handle* open_handle() {
    nbd_handle* h = nbd_create();
    if (h == nullptr) return nullptr;
    nbd_set_export_name(h, "disk");
    if (nbd_connect_unix(h, server_->socket().c_str()) != 0) {
      ADD_FAILURE() << nbd_get_error();
      nbd_close(h);
      return nullptr;
    }
    return h;
  }
  void connect_and_read() {
    nbd_handle* h = open_handle();
    ASSERT_NE(h, nullptr);
    char buf[4096];
    nbd_pread(h, buf, sizeof buf, 0, 0);  // may fail with an injected EIO
    nbd_shutdown(h, 0);
    nbd_close(h);
  }
  void expect_back_to_baseline(const char* what) {
    ProcStats after = load::settle(server_->pid(), baseline_);
    std::printf("[ figures  ] %s: fds %d -> %d, threads %d -> %d, RSS %ld -> %ld KiB (anon %ld -> %ld)\n",
                what, baseline_.fds, after.fds, baseline_.threads, after.threads, baseline_.rss_kib,
                after.rss_kib, baseline_.anon_kib, after.anon_kib);
    EXPECT_EQ(after.fds, baseline_.fds) << "descriptors leaked:\n" << load::describe(server_->pid());
    EXPECT_EQ(after.threads, baseline_.threads) << "threads leaked";
#ifndef FSFAULT_SANITIZED_SERVER
    EXPECT_LE(after.anon_kib, baseline_.anon_kib + kRssSlackKib) << "RSS did not come back";
#endif
  }

  std::string img_, golden_sha_;
  ServerProcess* server_ = nullptr;
  ProcStats baseline_;
};

TEST_F(LoadTest, ThousandConnectDisconnectCycles) {
  int ok = 0;
  for (int i = 0; i < 1000; ++i) {
    nbd_handle* h = open_handle();
    ASSERT_NE(h, nullptr) << "cycle " << i;
    if (i % 2 == 0) {
      char buf[512];
      nbd_pread(h, buf, sizeof buf, static_cast<std::uint64_t>(i) * 4096, 0);
      nbd_shutdown(h, 0);  // orderly: NBD_CMD_DISC
    }
    nbd_close(h);  // odd cycles: the socket just closes
    ++ok;
  }
  EXPECT_EQ(ok, 1000);
  expect_back_to_baseline("1000 connect/disconnect cycles");
}

// One connection's client: keeps 32 commands in flight until the deadline.
struct Worker {
  static constexpr int kDepth = 32;
  static constexpr std::size_t kMaxLen = 64 * 1024;
  nbd_handle* h = nullptr;
  std::vector<int> answered;  // per issued command: completion callbacks seen
  std::vector<std::vector<char>> bufs = std::vector<std::vector<char>>(kDepth, std::vector<char>(kMaxLen));
  std::vector<int> free_slots;
  long errors = 0, issued_fail = 0;
  std::string failure;

  struct Ctx {
    Worker* w;
    std::size_t id;
    int slot;
  };
  static int done(void* user, int* error) {
    auto* c = static_cast<Ctx*>(user);
    c->w->answered[c->id]++;
    if (*error != 0) c->w->errors++;
    c->w->free_slots.push_back(c->slot);
    delete c;
    return 1;  // retire the command
  }

  void run(Clock::time_point deadline, unsigned seed) {
    std::mt19937_64 rng(seed);
    for (int i = 0; i < kDepth; ++i) free_slots.push_back(i);
    answered.reserve(1 << 16);
    while (Clock::now() < deadline) {
      while (!free_slots.empty()) {
        int slot = free_slots.back();
        free_slots.pop_back();
        const std::uint64_t len = 512 * (1 + rng() % (kMaxLen / 512));
        const std::uint64_t off = (rng() % ((kSize - len) / 512)) * 512;
        auto* c = new Ctx{this, answered.size(), slot};
        answered.push_back(0);
        nbd_completion_callback cb = {.callback = done, .user_data = c, .free = nullptr};
        std::int64_t cookie;
        switch (rng() % 8) {
          case 0: case 1: case 2: cookie = nbd_aio_pread(h, bufs[slot].data(), len, off, cb, 0); break;
          case 3: case 4: cookie = nbd_aio_pwrite(h, bufs[slot].data(), len, off, cb, 0); break;
          case 5: cookie = nbd_aio_flush(h, cb, 0); break;
          case 6: cookie = nbd_aio_trim(h, len, off, cb, 0); break;
          default: cookie = nbd_aio_zero(h, len, off, cb, 0); break;
        }
        if (cookie < 0) {
          failure = std::string("submitting failed: ") + nbd_get_error();
          delete c;
          answered.pop_back();
          return;
        }
      }
      if (nbd_poll(h, 1000) < 0) {
        failure = std::string("poll failed: ") + nbd_get_error();
        return;
      }
    }
    // Drain what is still in flight.
    auto drain_deadline = Clock::now() + std::chrono::seconds(60);
    while (nbd_aio_in_flight(h) > 0 && Clock::now() < drain_deadline) {
      if (nbd_poll(h, 1000) < 0) {
        failure = std::string("poll failed while draining: ") + nbd_get_error();
        return;
      }
    }
  }
};

TEST_F(LoadTest, SixtyFourConnectionsAtQueueDepth32WithFaults) {
  constexpr int kConns = 64;
  std::vector<Worker> workers(kConns);
  for (auto& w : workers) {
    w.h = open_handle();
    ASSERT_NE(w.h, nullptr);
  }
  ProcStats busy = proc_stats(server_->pid());
  const auto t0 = Clock::now();
  const auto deadline = t0 + std::chrono::seconds(6);
  std::vector<std::thread> threads;
  for (int i = 0; i < kConns; ++i) {
    threads.emplace_back([&, i] { workers[i].run(deadline, 1000 + i); });
  }
  for (auto& t : threads) t.join();
  const double secs = std::chrono::duration<double>(Clock::now() - t0).count();
  ProcStats peak = proc_stats(server_->pid());
  long total = 0, errors = 0;
  for (auto& w : workers) {
    EXPECT_EQ(w.failure, "");
    EXPECT_EQ(nbd_aio_in_flight(w.h), 0);
    EXPECT_FALSE(nbd_aio_is_dead(w.h)) << nbd_get_error();
    std::size_t not_once = 0;
    for (int n : w.answered) not_once += n != 1;
    EXPECT_EQ(not_once, 0u) << "requests answered zero or several times";
    total += static_cast<long>(w.answered.size());
    errors += w.errors;
  }
  std::printf("[ figures  ] %d connections x QD%d: %ld requests in %.1f s, %ld failed by injected faults;"
              " server while connected: fds %d, threads %d, RSS %ld KiB (after load %ld KiB)\n",
              kConns, Worker::kDepth, total, secs, errors, busy.fds, busy.threads, busy.rss_kib,
              peak.rss_kib);
  EXPECT_GT(total, kConns * Worker::kDepth);
  EXPECT_GT(errors, 0) << "the fault rules never fired";
  for (auto& w : workers) {
    nbd_shutdown(w.h, 0);
    nbd_close(w.h);
  }
  expect_back_to_baseline("64 connections x QD32");
}

}  // namespace
}  // namespace fsfault::it
