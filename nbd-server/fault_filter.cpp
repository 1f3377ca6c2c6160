#include "nbd-server/fault_filter.h"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <thread>
#include <optional>
#include <vector>

namespace fsfault::nbd {

using faults::Decision;
using faults::Op;

namespace {
// What a torn request leaves on the media: the first half, in whole sectors
// when the request has several - what a power cut mid-write leaves behind.
std::uint64_t torn_length(std::uint64_t length) {
  std::uint64_t half = length / 2;
  if (length >= 2 * faults::kSectorSize) half -= half % faults::kSectorSize;
  return half;
}
}  // namespace

bool FaultFilter::gate(Op op, std::uint64_t offset, std::uint64_t length, Decision& d,
                       IoResult& early) {
  d = engine_->evaluate({op, offset, length});
  if (d.delay_ms > 0) std::this_thread::sleep_for(std::chrono::milliseconds(d.delay_ms));
  if (d.disconnect) {
    early = {0, true};
    return true;
  }
  if (d.error != 0) {
    early = IoResult::fail(d.error);
    return true;
  }
  return false;
}

IoResult FaultFilter::read(std::span<std::uint8_t> buf, std::uint64_t offset) {
  Decision d;
  IoResult early;
  if (gate(Op::Read, offset, buf.size(), d, early)) return early;
  if (d.torn) return IoResult::fail(EIO);  // a torn read is just a failed read
  return read_changed(d, buf, offset);
}

IoResult FaultFilter::read_plan(std::uint64_t offset, std::uint64_t length, ReadPlan& plan) {
  Decision d;
  IoResult early;
  if (gate(Op::Read, offset, length, d, early)) return early;
  if (d.torn) return IoResult::fail(EIO);
  if (d.edits.empty() && d.flip_bits.empty()) return inner_->read_plan(offset, length, plan);
  return read_changed(d, plan.use_buffer(length), offset);
}

IoResult FaultFilter::read_changed(const Decision& d, std::span<std::uint8_t> buf,
                                   std::uint64_t offset) {
  IoResult r = inner_->read(buf, offset);
  if (r.error || (d.edits.empty() && d.flip_bits.empty())) return r;
  if (IoResult w = persist(d, buf, offset); w.error) return w;
  apply(d, buf, false);
  return IoResult::ok();
}

// Changes only the bytes the decision names: the engine has cut them to the
// rules' ranges, so the rest of the request is served as stored.
void FaultFilter::apply(const Decision& d, std::span<std::uint8_t> buf, bool persistent_only) {
  for (const faults::DataEdit& e : d.edits) {
    if (persistent_only && !e.persist) continue;
    const std::uint64_t end = std::min<std::uint64_t>(e.end, buf.size());
    if (e.begin >= end) continue;
    auto bytes = buf.subspan(e.begin, end - e.begin);
    if (e.kind == faults::DataEdit::Kind::Fill) {
      std::memset(bytes.data(), e.byte, bytes.size());
    } else {
      for (auto& b : bytes) b = static_cast<std::uint8_t>(~b);
    }
  }
  if (persistent_only && !d.persist_flip) return;
  for (std::uint64_t bit : d.flip_bits) {
    if (bit / 8 < buf.size()) buf[bit / 8] ^= static_cast<std::uint8_t>(1u << (bit % 8));
  }
}

// Writes the persistent changes back (those alone: a transient zero in the
// same request must not reach the media), and only the bytes they change, so
// a concurrent write elsewhere in the request's range is not undone.
IoResult FaultFilter::persist(const Decision& d, std::span<const std::uint8_t> stored,
                              std::uint64_t offset) {
  const bool any = d.persist_flip || std::any_of(d.edits.begin(), d.edits.end(),
                                                 [](const faults::DataEdit& e) { return e.persist; });
  if (!any) return IoResult::ok();
  std::vector<std::uint8_t> media(stored.begin(), stored.end());
  apply(d, media, true);
  auto write_back = [&](std::uint64_t begin, std::uint64_t end) {
    end = std::min<std::uint64_t>(end, media.size());
    if (begin >= end) return IoResult::ok();
    return inner_->write(std::span<const std::uint8_t>(media).subspan(begin, end - begin), offset + begin,
                         false);
  };
  for (const faults::DataEdit& e : d.edits) {
    if (!e.persist) continue;
    if (IoResult w = write_back(e.begin, e.end); w.error) return w;
  }
  if (!d.persist_flip) return IoResult::ok();
  for (std::uint64_t bit : d.flip_bits) {
    if (IoResult w = write_back(bit / 8, bit / 8 + 1); w.error) return w;
  }
  return IoResult::ok();
}

IoResult FaultFilter::write(std::span<const std::uint8_t> buf, std::uint64_t offset, bool fua) {
  Decision d;
  IoResult early;
  if (gate(Op::Write, offset, buf.size(), d, early)) return early;
  return write_decided(d, buf, offset, fua);
}

IoResult FaultFilter::write_decided(const Decision& d, std::span<const std::uint8_t> buf,
                                    std::uint64_t offset, bool fua) {
  if (d.torn) {
    const std::uint64_t half = torn_length(buf.size());
    if (half > 0) {
      IoResult w = inner_->write(buf.first(half), offset, fua);
      if (w.error) return w;
    }
    return IoResult::fail(EIO);
  }
  return inner_->write(buf, offset, fua);
}

std::optional<IoResult> FaultFilter::write_in_place(PayloadSource& payload, std::uint64_t offset,
                                                    std::uint64_t length, bool fua) {
  if (!inner_->can_write_in_place(offset, length)) return std::nullopt;
  Decision d;
  IoResult early;
  if (gate(Op::Write, offset, length, d, early)) {
    if (early.disconnect) return early;
    return payload.discard(length) ? early : IoResult::fail(EIO);
  }
  if (!d.torn) {
    if (auto r = inner_->write_in_place(payload, offset, length, fua)) return r;
  }
  // Torn, or the store changed its mind (nothing consumed): through a buffer.
  std::vector<std::uint8_t> buf(length);
  if (!payload.receive(buf)) return IoResult::fail(EIO);
  return write_decided(d, buf, offset, fua);
}

IoResult FaultFilter::flush() {
  Decision d;
  IoResult early;
  if (gate(Op::Flush, 0, 0, d, early)) return early;
  if (d.torn) return IoResult::fail(EIO);
  return inner_->flush();
}

IoResult FaultFilter::trim(std::uint64_t offset, std::uint64_t length, bool fua) {
  Decision d;
  IoResult early;
  if (gate(Op::Trim, offset, length, d, early)) return early;
  if (d.torn) return IoResult::fail(EIO);
  return inner_->trim(offset, length, fua);
}

IoResult FaultFilter::write_zeroes(std::uint64_t offset, std::uint64_t length, bool may_trim,
                                   bool fua) {
  Decision d;
  IoResult early;
  if (gate(Op::Zero, offset, length, d, early)) return early;
  if (d.torn) {
    const std::uint64_t half = torn_length(length);
    if (half > 0) {
      IoResult w = inner_->write_zeroes(offset, half, may_trim, fua);
      if (w.error) return w;
    }
    return IoResult::fail(EIO);
  }
  return inner_->write_zeroes(offset, length, may_trim, fua);
}

IoResult FaultFilter::cache(std::uint64_t offset, std::uint64_t length) {
  Decision d;
  IoResult early;
  if (gate(Op::Cache, offset, length, d, early)) return early;
  return inner_->cache(offset, length);
}

IoResult FaultFilter::block_status(std::uint64_t offset, std::uint64_t length,
                                   std::vector<ExtentInfo>& out) {
  Decision d;
  IoResult early;
  if (gate(Op::BlockStatus, offset, length, d, early)) return early;
  return inner_->block_status(offset, length, out);
}

}  // namespace fsfault::nbd
