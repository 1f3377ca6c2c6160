// The storage interface every layer below request dispatch speaks: stores
// implement it, filters (the fault filter) wrap another BlockDevice. Errors are
// positive errnos; 0 is success. Offsets and lengths are bytes and already
// bounds-checked by the dispatcher.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

namespace fsfault::nbd {

struct ExtentInfo {
  std::uint64_t length = 0;
  bool hole = false;  // not allocated
  bool zero = false;  // reads as zeros
};

// How a request ended, beyond its errno: a filter can ask the connection to
// drop the client (a vanished device) instead of replying.
struct IoResult {
  int error = 0;
  bool disconnect = false;
  static IoResult ok() { return {}; }
  static IoResult fail(int e) { return {e, false}; }
};

class BlockDevice {
 public:
  virtual ~BlockDevice() = default;

  virtual std::uint64_t size() const = 0;
  virtual bool writable() const = 0;
  // True when every connection sees the same data (safe to advertise
  // NBD_FLAG_CAN_MULTI_CONN).
  virtual bool consistent_across_connections() const { return true; }
  // True when write_zeroes can avoid writing data (for NBD_CMD_FLAG_FAST_ZERO).
  virtual bool fast_zero() const { return true; }
  // True when a request may sleep on purpose (an injected delay): the
  // connection then runs each request on its own instead of in batches.
  virtual bool may_sleep() const { return false; }
  // Called before the replies to the requests executed so far are sent: a
  // filter that keeps records of them (the fault log) makes them visible now,
  // so a client that saw a fault can find it in the log. Batched by the
  // connection (once per reply batch), so the cost is not per request.
  virtual void publish() {}

  virtual IoResult read(std::span<std::uint8_t> buf, std::uint64_t offset) = 0;
  virtual IoResult write(std::span<const std::uint8_t> buf, std::uint64_t offset, bool fua) = 0;
  virtual IoResult flush() = 0;
  virtual IoResult trim(std::uint64_t offset, std::uint64_t length, bool fua) = 0;
  virtual IoResult write_zeroes(std::uint64_t offset, std::uint64_t length, bool may_trim,
                                bool fua) = 0;
  virtual IoResult cache(std::uint64_t offset, std::uint64_t length) = 0;
  // Appends extents covering [offset, offset+length) (possibly fewer bytes,
  // never more, at least one extent on success).
  virtual IoResult block_status(std::uint64_t offset, std::uint64_t length,
                                std::vector<ExtentInfo>& out) = 0;
};

}  // namespace fsfault::nbd
