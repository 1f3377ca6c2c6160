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
#include <unistd.h>

namespace fsfault::load {

struct ProcStats {
  int fds = -1;
  long rss_kib = -1;
  long peak_rss_kib = -1;  // VmHWM: the most RSS the process ever had
  // RssAnon: the server's own memory (buffers, heap, stacks). VmRSS also
  // counts the page-cache pages of the image and overlay mappings that READ
  // replies are sent from, which belong to the files, not to the server.
  long anon_kib = -1;
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
    if (key == "VmHWM:") st >> s.peak_rss_kib;
    if (key == "RssAnon:") st >> s.anon_kib;
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

// The baseline of an idle server: waits until it runs only its main thread
// (start-up probes and earlier clients reaped), then samples.
inline ProcStats quiet_baseline(pid_t pid) {
  ProcStats idle;
  idle.fds = 1 << 30;
  idle.threads = 1;
  // Twice, 300 ms apart: a just-connected start-up probe may not be accepted yet.
  for (int i = 0; i < 2; ++i) {
    settle(pid, idle, std::chrono::seconds(5));
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
  }
  settle(pid, idle, std::chrono::seconds(5));
  return proc_stats(pid);
}

// The server's descriptors and its threads' kernel stacks, for a failure message.
inline std::string describe(pid_t pid) {
  std::string out;
  std::string base = "/proc/" + std::to_string(pid);
  if (DIR* d = ::opendir((base + "/fd").c_str())) {
    while (dirent* e = ::readdir(d)) {
      if (e->d_name[0] == '.') continue;
      char target[256] = {};
      ssize_t n = ::readlink((base + "/fd/" + e->d_name).c_str(), target, sizeof target - 1);
      out += std::string("fd ") + e->d_name + " -> " + (n > 0 ? target : "?") + "\n";
    }
    ::closedir(d);
  }
  if (DIR* d = ::opendir((base + "/task").c_str())) {
    while (dirent* e = ::readdir(d)) {
      if (e->d_name[0] == '.') continue;
      std::ifstream st(base + "/task/" + e->d_name + "/stack");
      std::string line, first;
      std::getline(st, first);
      std::getline(st, line);
      out += std::string("task ") + e->d_name + ": " + first + " | " + line + "\n";
    }
    ::closedir(d);
  }
  return out;
}

}  // namespace fsfault::load
