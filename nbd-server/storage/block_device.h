// The storage interface every layer below request dispatch speaks: stores
// implement it, filters (the fault filter) wrap another BlockDevice. Errors are
// positive errnos; 0 is success. Offsets and lengths are bytes and already
// bounds-checked by the dispatcher.
#pragma once

#include <cstdint>
#include <optional>
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
// Where the bytes of a read are, so the connection can send them with one
// sendmsg(2) from a mapping of the store's files (the kernel's copy into the
// socket is the only one) instead of reading them into a buffer first. Either
// pieces (memory and zeros, in order, covering the read exactly) or, when the
// device had to produce the bytes itself (a fault changed them), `buffer`.
// Mapped memory is read when the reply is sent: it must hold this offset's
// data for any concurrent request's point of view (a golden image never
// changes; an overlay range holds this offset's data or, after a racing
// trim, zeros).
struct ReadPiece {
  const std::uint8_t* data = nullptr;  // nullptr: zeros
  std::uint64_t length = 0;
};
struct ReadPlan {
  std::vector<ReadPiece> pieces;
  std::vector<std::uint8_t> buffer;
  bool in_buffer = false;
  void clear() {
    pieces.clear();
    in_buffer = false;
  }
  // Appends a piece, merging it with the previous one when contiguous.
  void add(const std::uint8_t* data, std::uint64_t length);
  // Switches to the buffer (sized to `length`) and returns it.
  std::span<std::uint8_t> use_buffer(std::size_t length);
};

struct IoResult {
  int error = 0;
  bool disconnect = false;
  static IoResult ok() { return {}; }
  static IoResult fail(int e) { return {e, false}; }
};

// The payload of a WRITE still in the socket, for write_in_place(). Knows no
// NBD: it hands out the next bytes of the payload, in order.
class PayloadSource {
 public:
  virtual ~PayloadSource() = default;
  // Receives the next dst.size() payload bytes into dst; false when the
  // client went away (the bytes already received stay where they landed).
  virtual bool receive(std::span<std::uint8_t> dst) = 0;
  virtual bool discard(std::uint64_t n) = 0;
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
  // The same read, described instead of copied where the device can (stores
  // backed by files). The default copies through plan.buffer.
  virtual IoResult read_plan(std::uint64_t offset, std::uint64_t length, ReadPlan& plan);
  virtual IoResult write(std::span<const std::uint8_t> buf, std::uint64_t offset, bool fua) = 0;
  // A WRITE whose payload can be received straight into the store's memory
  // (no buffer, no pwrite): true when write_in_place() would do so now. Pure
  // (a hint: write_in_place() stays correct if the store changed since).
  virtual bool can_write_in_place(std::uint64_t /*offset*/, std::uint64_t /*length*/) const {
    return false;
  }
  // Takes the WRITE's `length` payload bytes from `payload` and writes them at
  // `offset`, in place where it can. Always consumes the payload, unless the
  // result is a disconnect. nullopt, with nothing consumed: not done, the
  // caller receives the payload into a buffer and calls write().
  virtual std::optional<IoResult> write_in_place(PayloadSource& /*payload*/, std::uint64_t /*offset*/,
                                                 std::uint64_t /*length*/, bool /*fua*/) {
    return std::nullopt;
  }
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
