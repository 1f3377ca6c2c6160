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
//   bits     for flip of bits: bit offsets relative to the request's first byte
//            (byte b/8, mask 1 << (b%8)), ascending; persist: whether written back
//   bytes    for zero, fill and flip of a byte range: the bytes changed, as
//            [begin, end) pairs relative to the request's first byte, ascending
//            (flip: with persist; fill: byte, the value written)
//   delay_ms for delay
// BUFFERING: write() only queues the record (the fault engine calls it under
// its lock, so it must be cheap); lines are formatted and written in batches,
// one write(2) per batch, by flush(). flush() runs whenever someone needs the
// log complete: the server before sending each batch of replies (so a fault is
// in the file before the client sees its reply), the engine on a phase change,
// on die and on stats (a client asking `stats` then reading the file sees
// every fault counted), the destructor (server shutdown); and, as a safety
// net, a background thread every kFlushInterval or when kFlushAt records wait. Lines never interleave and keep
// the order in which write() was called. Why: formatting and writing one line
// per fault under the engine's exclusive lock cost ≈ 2 µs per failed request
// in the error flood (docs/performance.md).
// Replay comparison: two logs are equivalent when their lines are equal after
// removing t_ms (FaultLog::without_time), or write them with Time::Omit.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
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
  std::vector<std::uint64_t> bits;   // flip of bits only
  std::vector<std::pair<std::uint64_t, std::uint64_t>> bytes;  // zero, fill, flip of bytes: [begin, end)
  std::uint8_t fill_byte = 0;        // fill only
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
  // Hands each line (without newline) to a callback, on the flushing thread.
  static std::shared_ptr<FaultLog> to_callback(std::function<void(std::string_view)> sink,
                                               Time time = Time::Include);
  ~FaultLog();
  FaultLog(const FaultLog&) = delete;
  FaultLog& operator=(const FaultLog&) = delete;

  // Queues one record; its line is written at the next flush().
  void write(FaultRecord record);
  // Formats and writes every queued record; returns when they are written.
  void flush();
  std::vector<std::string> lines();  // in_memory logs only; flushes first

  // Queued records that trigger an early flush, and the most a writer lets
  // pile up before it flushes itself (bounds memory when the disk is slow).
  // Two record buffers (queue and batch being written) swap and keep their
  // capacity, so memory stays flat at most 2 × kMaxQueued records (≈ 5 MiB).
  static constexpr std::size_t kFlushAt = 2048;
  static constexpr std::size_t kMaxQueued = 16384;
  static constexpr std::chrono::milliseconds kFlushInterval{50};

  static nlohmann::ordered_json to_json(const FaultRecord& record, bool with_time);
  // Appends to_json(record, with_time).dump() to `out`, without building a
  // json object (the log's hot path; the tests hold the two equal).
  static void append_line(std::string& out, const FaultRecord& record, bool with_time);
  // The line without its "t_ms" field: the form to compare for replay.
  static std::string without_time(std::string_view line);

 private:
  FaultLog() = default;
  void start_flusher();
  void output();  // writes batch_; under out_mu_

  Time time_ = Time::Include;
  int fd_ = -1;
  std::function<void(std::string_view)> sink_;
  bool memory_ = false;
  // Lock order: out_mu_ before queue_mu_. out_mu_ serializes flushes so that
  // batches reach the output in the order they were queued.
  std::mutex out_mu_;
  std::vector<std::string> lines_;  // in_memory; under out_mu_
  std::string text_;                // reused output buffer; under out_mu_
  std::vector<FaultRecord> batch_;  // records being written; under out_mu_
  std::mutex queue_mu_;
  std::condition_variable wake_;
  std::vector<FaultRecord> queue_;  // under queue_mu_
  bool stopping_ = false;           // under queue_mu_
  std::thread flusher_;
};

}  // namespace fsfault::faults
