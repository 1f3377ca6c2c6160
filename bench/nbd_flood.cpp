// nbd_flood: drives an NBD server with random 4 KiB reads at a fixed queue
// depth through libnbd and reports completions per second, counting failed
// requests as completions. Used to measure the "error flood" path (a dead disk
// answering every request with EIO), which fio cannot report since it stops
// or skips accounting on errors.
//
// Usage: bench_nbd_flood URI [--qd N] [--seconds S] [--bs BYTES]
#include <libnbd.h>

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
    std::fprintf(stderr, "usage: %s URI [--qd N] [--seconds S] [--bs BYTES]\n", argv[0]);
    return 2;
  }
  std::string uri = argv[1];
  unsigned qd = 32;
  double seconds = 5;
  std::size_t bs = 4096;
  for (int i = 2; i + 1 < argc; i += 2) {
    std::string k = argv[i];
    if (k == "--qd") qd = static_cast<unsigned>(std::atoi(argv[i + 1]));
    else if (k == "--seconds") seconds = std::atof(argv[i + 1]);
    else if (k == "--bs") bs = static_cast<std::size_t>(std::atol(argv[i + 1]));
  }
  nbd_handle* h = nbd_create();
  if (!h || nbd_connect_uri(h, uri.c_str()) == -1) {
    std::fprintf(stderr, "%s\n", nbd_get_error());
    return 1;
  }
  const std::int64_t size = nbd_get_size(h);
  const std::uint64_t blocks = static_cast<std::uint64_t>(size) / bs;
  std::mt19937_64 rng(1);
  std::vector<std::vector<char>> bufs(qd, std::vector<char>(bs));
  Counters c;
  unsigned next = 0;
  auto issue = [&]() -> bool {
    std::uint64_t off = (rng() % blocks) * bs;
    nbd_completion_callback cb = {.callback = on_complete, .user_data = &c, .free = nullptr};
    if (nbd_aio_pread(h, bufs[next++ % qd].data(), bs, off, cb, 0) == -1) {
      std::fprintf(stderr, "aio_pread: %s\n", nbd_get_error());
      return false;
    }
    return true;
  };
  const auto start = std::chrono::steady_clock::now();
  const auto end = start + std::chrono::duration<double>(seconds);
  for (unsigned i = 0; i < qd; ++i) {
    if (!issue()) return 1;
  }
  while (std::chrono::steady_clock::now() < end) {
    if (nbd_poll(h, -1) == -1) {
      std::fprintf(stderr, "poll: %s\n", nbd_get_error());
      return 1;
    }
    while (nbd_aio_in_flight(h) < static_cast<int>(qd)) {
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
