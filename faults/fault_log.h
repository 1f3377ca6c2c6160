// The fault log: one JSON object per line for every fault fired, e.g.
//   {"t_ms":1532,"req":17,"rule":"itable-eio","phase":"armed","op":"read","sector":2050,
//    "sectors":8,"action":"fail","error":"EIO"}
// Fields, in this order:
//   t_ms     ms since the engine started (monotonic clock) — the ONLY field that
//            depends on timing; omitted when the log is opened with Time::Omit
//   req      the engine's request sequence number (1 = first request evaluated)
//   rule     the rule's name ("control" for a die command's dead state)
//   phase    the engine's phase when the request arrived (null before any phase)
//   op       read, write, flush, trim, zero, cache, block-status
//   sector   the request's first 512-byte sector; sectors: how many sectors it touches
//   action   fail, flip, zero, delay, disconnect, die, torn, or dead (a request
//            failed because an earlier die put the disk in the dead state)
//   error    for fail, die, torn, dead: the errno name ("EIO", "ENOSPC", ...)
//   bits     for flip: bit offsets relative to the request's first byte (byte
//            b/8, mask 1 << (b%8)), ascending; persist: whether written back
//   delay_ms for delay
// Each line is written with a single write(2) under a mutex: lines from
// concurrent threads never interleave and a reader tailing the file sees
// every complete line as soon as the fault is decided.
// Replay comparison: two logs are equivalent when their lines are equal after
// removing t_ms (FaultLog::without_time), or write them with Time::Omit.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "faults/request.h"

namespace fsfault::faults {

struct FaultRecord {
  std::uint64_t t_ms = 0;
  std::uint64_t req = 0;
  std::string rule;
  std::string phase;  // "" -> null
  Op op = Op::Read;
  std::uint64_t sector = 0;
  std::uint64_t sectors = 0;
  std::string action;
  int error = 0;                     // 0 -> no "error" field
  std::vector<std::uint64_t> bits;   // flip only
  bool persist = false;              // flip only
  std::uint32_t delay_ms = 0;        // delay only
};

class FaultLog {
 public:
  enum class Time { Include, Omit };

  // Creates (truncates) the file. Throws std::system_error.
  static std::shared_ptr<FaultLog> open_file(const std::string& path, Time time = Time::Include);
  // Keeps lines in memory (tests, replay comparison); see lines().
  static std::shared_ptr<FaultLog> in_memory(Time time = Time::Include);
  // Hands each line (without newline) to a callback, under the log's mutex.
  static std::shared_ptr<FaultLog> to_callback(std::function<void(std::string_view)> sink,
                                               Time time = Time::Include);
  ~FaultLog();
  FaultLog(const FaultLog&) = delete;
  FaultLog& operator=(const FaultLog&) = delete;

  void write(const FaultRecord& record);
  std::vector<std::string> lines() const;  // in_memory logs only

  static nlohmann::ordered_json to_json(const FaultRecord& record, bool with_time);
  // The line without its "t_ms" field: the form to compare for replay.
  static std::string without_time(std::string_view line);

 private:
  FaultLog() = default;
  Time time_ = Time::Include;
  int fd_ = -1;
  std::function<void(std::string_view)> sink_;
  bool memory_ = false;
  mutable std::mutex mu_;
  std::vector<std::string> lines_;
};

}  // namespace fsfault::faults
