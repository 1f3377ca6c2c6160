// nbd_flood: drives an NBD server with random 4 KiB reads at a fixed queue
// depth through libnbd and reports completions per second, counting failed
// requests as completions. Used to measure the "error flood" path (a dead disk
// answering every request with EIO), which fio cannot report since it stops
// or skips accounting on errors.
//
// With --write it writes instead (a fixed byte pattern), and --span limits the
// requests to the first SPAN bytes of the disk; --sequential walks that span in
// order (wrapping around) instead of picking blocks at random. bench/nbd-flood-rss
// uses these to show that the overlay grows only with the data written.
//
// Usage: bench_nbd_flood URI [--qd N] [--seconds S] [--bs BYTES] [--write]
//                            [--span BYTES] [--sequential] [--count N]
// --count stops after N requests (0 = no limit; --seconds still applies).
#include <libnbd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

namespace {

struct Counters {
  std::uint64_t ok = 0;
  std::uint64_t failed = 0;
};

int on_complete(void* user_data, int* error) {
  auto* c = static_cast<Counters*>(user_data);
  if (*error != 0) {
    ++c->failed;
    *error = 0;  // a failed read is an expected outcome here, not a libnbd error
  } else {
    ++c->ok;
  }
  return 1;  // auto-retire the command
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr,
                 "usage: %s URI [--qd N] [--seconds S] [--bs BYTES] [--write] [--span BYTES] "
                 "[--sequential] [--count N]\n",
                 argv[0]);
    return 2;
  }
  std::string uri = argv[1];
  unsigned qd = 32;
  double seconds = 5;
  std::size_t bs = 4096;
  std::uint64_t span = 0;   // 0 = the whole disk
  std::uint64_t count = 0;  // 0 = until --seconds
  bool do_write = false, sequential = false;
  for (int i = 2; i < argc; ++i) {
    std::string k = argv[i];
    const bool has_value = i + 1 < argc;
    if (k == "--write") do_write = true;
    else if (k == "--sequential") sequential = true;
    else if (k == "--qd" && has_value) qd = static_cast<unsigned>(std::atoi(argv[++i]));
    else if (k == "--seconds" && has_value) seconds = std::atof(argv[++i]);
    else if (k == "--bs" && has_value) bs = static_cast<std::size_t>(std::atol(argv[++i]));
    else if (k == "--count" && has_value) count = static_cast<std::uint64_t>(std::atoll(argv[++i]));
    else if (k == "--span" && has_value) span = static_cast<std::uint64_t>(std::atoll(argv[++i]));
    else {
      std::fprintf(stderr, "%s: unknown or incomplete option %s\n", argv[0], k.c_str());
      return 2;
    }
  }
  if (qd == 0 || bs == 0) {
    std::fprintf(stderr, "%s: --qd and --bs must be positive\n", argv[0]);
    return 2;
  }
  nbd_handle* h = nbd_create();
  if (!h || nbd_connect_uri(h, uri.c_str()) == -1) {
    std::fprintf(stderr, "%s\n", nbd_get_error());
    return 1;
  }
  const std::int64_t size = nbd_get_size(h);
  const std::uint64_t limit = span > 0 ? std::min<std::uint64_t>(span, static_cast<std::uint64_t>(size))
                                        : static_cast<std::uint64_t>(size);
  const std::uint64_t blocks = limit / bs;
  if (blocks == 0) {
    std::fprintf(stderr, "%s: the disk (or --span) is smaller than one block\n", argv[0]);
    return 1;
  }
  std::mt19937_64 rng(1);
  // Written data: a fixed non-zero pattern (zeroes could be stored as holes).
  std::vector<std::vector<char>> bufs(qd, std::vector<char>(bs, '\x5a'));
  Counters c;
  unsigned next = 0;
  std::uint64_t seq = 0;
  std::uint64_t issued = 0;
  auto more = [&] { return count == 0 || issued < count; };
  auto issue = [&]() -> bool {
    ++issued;
    const std::uint64_t off = (sequential ? seq++ % blocks : rng() % blocks) * bs;
    nbd_completion_callback cb = {.callback = on_complete, .user_data = &c, .free = nullptr};
    char* buf = bufs[next++ % qd].data();
    const int rc = do_write ? nbd_aio_pwrite(h, buf, bs, off, cb, 0) : nbd_aio_pread(h, buf, bs, off, cb, 0);
    if (rc == -1) {
      std::fprintf(stderr, "aio_%s: %s\n", do_write ? "pwrite" : "pread", nbd_get_error());
      return false;
    }
    return true;
  };
  const auto start = std::chrono::steady_clock::now();
  const auto end = start + std::chrono::duration<double>(seconds);
  for (unsigned i = 0; i < qd && more(); ++i) {
    if (!issue()) return 1;
  }
  while (std::chrono::steady_clock::now() < end && more()) {
    if (nbd_poll(h, -1) == -1) {
      std::fprintf(stderr, "poll: %s\n", nbd_get_error());
      return 1;
    }
    while (nbd_aio_in_flight(h) < static_cast<int>(qd) && more()) {
      if (!issue()) return 1;
    }
  }
  while (nbd_aio_in_flight(h) > 0) nbd_poll(h, -1);
  const double elapsed =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("%.0f requests/s (%llu ok, %llu failed, %.2f s, qd %u, %zu bytes)\n",
              static_cast<double>(c.ok + c.failed) / elapsed,
              static_cast<unsigned long long>(c.ok), static_cast<unsigned long long>(c.failed),
              elapsed, qd, bs);
  nbd_shutdown(h, 0);
  nbd_close(h);
  return 0;
}
