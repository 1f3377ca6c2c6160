// ReplyBatch: the replies to several requests, encoded and gathered into one
// iovec list so they leave in a single sendmsg(2). Reply data is referenced,
// not copied: the buffers (and a READ plan's mapped pieces) must outlive flush().
#pragma once

#include <sys/uio.h>

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "nbd-server/codec.h"
#include "nbd-server/dispatch.h"

namespace fsfault::nbd {

class ReplyBatch {
 public:
  ReplyBatch(bool structured, std::size_t capacity);

  // Encodes the reply to `h`; `data` is the READ payload (empty otherwise).
  void add(const RequestHeader& h, const Outcome& out, std::span<const std::uint8_t> data,
           std::uint32_t base_allocation_id);
  // The reply to a READ that succeeded, its data described by `plan`.
  void add_read(const RequestHeader& h, const ReadPlan& plan);
  bool empty() const { return iov_.empty(); }
  // Writes every reply; false when the socket failed. Clears the batch.
  bool flush(int fd);

 private:
  // The reply header for a READ of h.length bytes (simple, or one OFFSET_DATA chunk).
  void add_read_header(const RequestHeader& h);
  bool structured_;
  std::size_t capacity_;
  // Fixed storage: iovecs point into these, so they never reallocate within
  // a batch (reserved to capacity in the constructor).
  std::vector<std::array<std::uint8_t, 32>> headers_;
  std::vector<Bytes> payloads_;
  std::vector<struct iovec> iov_;
  bool mapped_ = false;  // some reply data is mapped store memory (mapped_page_order.h)
};

}  // namespace fsfault::nbd
