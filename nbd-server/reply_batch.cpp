#include "nbd-server/reply_batch.h"

#include "nbd-server/protocol.h"
#include "nbd-server/socket_io.h"
#include "nbd-server/storage/mapped_page_order.h"

#include <algorithm>
#include <array>
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

void ReplyBatch::add_read_header(const RequestHeader& h) {
  if (headers_.size() == capacity_) throw std::length_error("ReplyBatch: more replies than its capacity");
  auto& hdr = headers_.emplace_back();
  if (!structured_) {
    encode_simple_reply(hdr.data(), {0, h.cookie});
    iov_.push_back({hdr.data(), kSimpleReplySize});
    return;
  }
  encode_chunk_header(hdr.data(), {kReplyFlagDone, kReplyOffsetData, h.cookie, 8 + h.length});
  for (int i = 0; i < 8; ++i) {
    hdr[kStructuredReplyHeaderSize + i] = static_cast<std::uint8_t>(h.offset >> (56 - 8 * i));
  }
  iov_.push_back({hdr.data(), kStructuredReplyHeaderSize + 8});
}

void ReplyBatch::add_read(const RequestHeader& h, const ReadPlan& plan) {
  if (plan.in_buffer) {
    add(h, Outcome{}, std::span<const std::uint8_t>(plan.buffer.data(), h.length), 0);
    return;
  }
  add_read_header(h);
  // Zeros come from a static buffer (never written, so never copied into RAM).
  static const std::array<std::uint8_t, 1 << 20> zeros{};
  for (const ReadPiece& p : plan.pieces) {
    if (p.data != nullptr) {
      mapped_ = true;
      iov_.push_back({const_cast<std::uint8_t*>(p.data), p.length});
      continue;
    }
    for (std::uint64_t left = p.length; left > 0;) {
      const std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(left, zeros.size()));
      iov_.push_back({const_cast<std::uint8_t*>(zeros.data()), n});
      left -= n;
    }
  }
}

bool ReplyBatch::flush(int fd) {
  bool ok = true;
  if (mapped_) {
    // The reads of mapped pages are recorded before the send, so a later in-place WRITE into them
    // is ordered after them (storage/mapped_page_order.h).
    mapped_pages::before_send(iov_.data(), iov_.size());
    ok = writev_all(fd, iov_.data(), static_cast<int>(iov_.size()), mapped_pages::sendmsg_unrecorded);
  } else if (!iov_.empty()) {
    ok = writev_all(fd, iov_.data(), static_cast<int>(iov_.size()));
  }
  mapped_ = false;
  iov_.clear();
  headers_.clear();
  payloads_.clear();
  return ok;
}

}  // namespace fsfault::nbd
