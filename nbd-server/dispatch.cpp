#include "nbd-server/dispatch.h"

#include <fmt/format.h>

#include <cerrno>

#include "nbd-server/protocol.h"

namespace fsfault::nbd {

std::uint32_t nbd_error_from_errno(int e) {
  switch (e) {
    case 0: return 0;
    case EPERM: case EROFS: return kErrPerm;
    case EIO: return kErrIo;
    case ENOMEM: return kErrNoMem;
    case EINVAL: return kErrInval;
    case ENOSPC: case EDQUOT: case EFBIG: return kErrNoSpc;
    case EOVERFLOW: return kErrOverflow;
    case ENOTSUP: return kErrNotSup;
    case ESHUTDOWN: return kErrShutdown;
    default: return kErrIo;
  }
}

namespace {
// Flags each command accepts (anything else is EINVAL).
std::uint16_t allowed_flags(std::uint16_t type, bool structured) {
  switch (type) {
    case kCmdRead: return structured ? kCmdFlagDf : 0;
    case kCmdWrite: return kCmdFlagFua;
    case kCmdTrim: return kCmdFlagFua;
    case kCmdWriteZeroes: return kCmdFlagFua | kCmdFlagNoHole | kCmdFlagFastZero;
    case kCmdBlockStatus: return kCmdFlagReqOne;
    default: return 0;
  }
}

bool is_write_type(std::uint16_t type) {
  return type == kCmdWrite || type == kCmdTrim || type == kCmdWriteZeroes;
}
}  // namespace

Refusal Dispatcher::check(const RequestHeader& h) const {
  const Export& e = *s_.exp;
  switch (h.type) {
    case kCmdRead: case kCmdWrite: case kCmdFlush: case kCmdTrim: case kCmdCache:
    case kCmdWriteZeroes: case kCmdBlockStatus: break;
    default: return {kErrInval, fmt::format("unknown command {}", h.type)};
  }
  std::uint16_t allowed = allowed_flags(h.type, s_.structured);
  // Once SEND_FUA is advertised (writable exports) the spec says the server
  // MUST accept FUA on every command, ignoring it where it means nothing.
  if (!e.read_only) allowed |= kCmdFlagFua;
  if (h.flags & ~allowed) return {kErrInval, fmt::format("flags {:#x} not accepted", h.flags & ~allowed)};
  if (e.read_only && is_write_type(h.type)) return {kErrPerm, "read-only export"};
  if (h.type == kCmdFlush) return {};
  if (h.type == kCmdBlockStatus && !s_.base_allocation) return {kErrInval, "base:allocation not negotiated"};
  if ((h.type == kCmdRead || h.type == kCmdWrite) && h.length > kMaxBlockSize) {
    // The spec suggests EOVERFLOW for an oversized read when DF was asked for.
    const bool df = h.type == kCmdRead && (h.flags & kCmdFlagDf);
    return {df ? kErrOverflow : kErrInval, fmt::format("longer than the {}-byte maximum", kMaxBlockSize)};
  }
  if (h.type == kCmdBlockStatus && h.length == 0) return {kErrInval, "zero length"};
  const std::uint64_t size = e.device->size();
  const bool past_end = h.offset > size || h.length > size - h.offset;
  if (past_end) {
    return {is_write_type(h.type) ? kErrNoSpc : kErrInval,
            fmt::format("past the end of the {}-byte export", size)};
  }
  if (h.type == kCmdWriteZeroes && (h.flags & kCmdFlagFastZero) && !e.device->fast_zero()) {
    return {kErrNotSup, "fast zero not supported by this export"};
  }
  return {};
}

Outcome Dispatcher::execute_read(const RequestHeader& h, ReadPlan& plan) {
  plan.clear();
  Outcome out;
  if (h.length == 0) return out;
  IoResult r = s_.exp->device->read_plan(h.offset, h.length, plan);
  out.disconnect = r.disconnect;
  out.error = nbd_error_from_errno(r.error);
  return out;
}

std::optional<Outcome> Dispatcher::execute_write_in_place(const RequestHeader& h,
                                                          PayloadSource& payload) {
  if (h.type != kCmdWrite || h.length == 0) return std::nullopt;
  auto r = s_.exp->device->write_in_place(payload, h.offset, h.length, h.flags & kCmdFlagFua);
  if (!r) return std::nullopt;
  Outcome out;
  out.disconnect = r->disconnect;
  out.error = nbd_error_from_errno(r->error);
  return out;
}

Outcome Dispatcher::execute(const RequestHeader& h, std::span<std::uint8_t> data) {
  BlockDevice& dev = *s_.exp->device;
  const bool fua = h.flags & kCmdFlagFua;
  IoResult r;
  Outcome out;
  switch (h.type) {
    case kCmdRead:
      if (h.length != 0) r = dev.read(data.first(h.length), h.offset);
      break;
    case kCmdWrite:
      if (h.length != 0) r = dev.write(data.first(h.length), h.offset, fua);
      break;
    case kCmdFlush: r = dev.flush(); break;
    case kCmdTrim:
      if (h.length != 0) r = dev.trim(h.offset, h.length, fua);
      break;
    case kCmdWriteZeroes:
      if (h.length != 0) r = dev.write_zeroes(h.offset, h.length, !(h.flags & kCmdFlagNoHole), fua);
      break;
    case kCmdCache: r = dev.cache(h.offset, h.length); break;
    case kCmdBlockStatus: {
      std::vector<ExtentInfo> extents;
      r = dev.block_status(h.offset, h.length, extents);
      if (r.error == 0 && !r.disconnect) {
        for (const auto& x : extents) {
          // Descriptor lengths are 32-bit: split long extents, keep them 512-aligned.
          std::uint64_t left = x.length;
          std::uint32_t flags = (x.hole ? kStateHole : 0) | (x.zero ? kStateZero : 0);
          while (left > 0) {
            std::uint32_t n = static_cast<std::uint32_t>(std::min<std::uint64_t>(left, 0xFFFFFE00u));
            if (!out.extents.empty() && out.extents.back().flags == flags &&
                std::uint64_t{out.extents.back().length} + n <= 0xFFFFFE00u) {
              out.extents.back().length += n;
            } else {
              out.extents.push_back({n, flags});
            }
            left -= n;
          }
          if (h.flags & kCmdFlagReqOne) break;
        }
        if ((h.flags & kCmdFlagReqOne) && out.extents.size() > 1) out.extents.resize(1);
      }
      break;
    }
    default: out.error = kErrInval; return out;
  }
  out.disconnect = r.disconnect;
  out.error = nbd_error_from_errno(r.error);
  return out;
}

}  // namespace fsfault::nbd
