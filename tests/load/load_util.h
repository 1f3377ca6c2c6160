// Helpers for the load tests: the server process's descriptors, RSS and
// threads from /proc, and a wait for them to settle back to a baseline.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <dirent.h>
#include <fstream>
#include <string>
#include <thread>

namespace fsfault::load {

struct ProcStats {
  int fds = -1;
  long rss_kib = -1;
  int threads = -1;
};

inline ProcStats proc_stats(pid_t pid) {
  ProcStats s;
  std::string base = "/proc/" + std::to_string(pid);
  if (DIR* d = ::opendir((base + "/fd").c_str())) {
    s.fds = 0;
    while (dirent* e = ::readdir(d)) {
      if (e->d_name[0] != '.') ++s.fds;
    }
    ::closedir(d);
  }
  std::ifstream st(base + "/status");
  std::string key;
  while (st >> key) {
    if (key == "VmRSS:") st >> s.rss_kib;
    if (key == "Threads:") st >> s.threads;
  }
  return s;
}

// Waits (up to `limit`) until the server has reaped its finished connections:
// descriptors and threads back to the baseline. Returns the last sample.
inline ProcStats settle(pid_t pid, const ProcStats& baseline,
                        std::chrono::milliseconds limit = std::chrono::seconds(15)) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  ProcStats s = proc_stats(pid);
  while ((s.fds > baseline.fds || s.threads > baseline.threads) &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    s = proc_stats(pid);
  }
  return s;
}

}  // namespace fsfault::load
