#include "nbd-server/reply_batch.h"

#include "nbd-server/protocol.h"
#include "nbd-server/socket_io.h"

#include <stdexcept>

namespace fsfault::nbd {

ReplyBatch::ReplyBatch(bool structured, std::size_t capacity)
    : structured_(structured), capacity_(capacity) {
  headers_.reserve(capacity);
  payloads_.reserve(capacity);
  iov_.reserve(capacity * 2);
}

void ReplyBatch::add(const RequestHeader& h, const Outcome& out,
                     std::span<const std::uint8_t> data, std::uint32_t base_allocation_id) {
  // One more would reallocate headers_ and leave earlier iovecs dangling.
  if (headers_.size() == capacity_) throw std::length_error("ReplyBatch: more replies than its capacity");
  auto& hdr = headers_.emplace_back();
  auto push = [this](const void* p, std::size_t n) {
    if (n > 0) iov_.push_back({const_cast<void*>(p), n});
  };
  const bool read_data = h.type == kCmdRead && out.error == 0 && !data.empty();
  if (!structured_) {
    encode_simple_reply(hdr.data(), {out.error, h.cookie});
    push(hdr.data(), kSimpleReplySize);
    if (read_data) push(data.data(), data.size());
    return;
  }
  if (out.error != 0) {
    Bytes& payload = payloads_.emplace_back(encode_error_payload(out.error, out.message));
    encode_chunk_header(hdr.data(), {kReplyFlagDone, kReplyError, h.cookie,
                                     static_cast<std::uint32_t>(payload.size())});
    push(hdr.data(), kStructuredReplyHeaderSize);
    push(payload.data(), payload.size());
    return;
  }
  if (read_data) {
    // The chunk header and the 8-byte offset share the header slot.
    encode_chunk_header(hdr.data(), {kReplyFlagDone, kReplyOffsetData, h.cookie,
                                     static_cast<std::uint32_t>(8 + data.size())});
    for (int i = 0; i < 8; ++i) {
      hdr[kStructuredReplyHeaderSize + i] = static_cast<std::uint8_t>(h.offset >> (56 - 8 * i));
    }
    push(hdr.data(), kStructuredReplyHeaderSize + 8);
    push(data.data(), data.size());
    return;
  }
  if (h.type == kCmdBlockStatus) {
    Bytes& payload =
        payloads_.emplace_back(encode_block_status_payload(base_allocation_id, out.extents));
    encode_chunk_header(hdr.data(), {kReplyFlagDone, kReplyBlockStatus, h.cookie,
                                     static_cast<std::uint32_t>(payload.size())});
    push(hdr.data(), kStructuredReplyHeaderSize);
    push(payload.data(), payload.size());
    return;
  }
  encode_chunk_header(hdr.data(), {kReplyFlagDone, kReplyNone, h.cookie, 0});
  push(hdr.data(), kStructuredReplyHeaderSize);
}

bool ReplyBatch::flush(int fd) {
  bool ok = true;
  // IOV_MAX is 1024; a batch holds at most capacity_ * 2 entries.
  if (!iov_.empty()) ok = writev_all(fd, iov_.data(), static_cast<int>(iov_.size()));
  iov_.clear();
  headers_.clear();
  payloads_.clear();
  return ok;
}

}  // namespace fsfault::nbd
