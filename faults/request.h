// What the fault engine sees of an I/O request: an operation on a byte range.
// Nothing here knows about NBD or sockets; the server translates its commands.
#pragma once

#include <cstdint>
#include <string_view>

namespace fsfault::faults {

enum class Op : std::uint8_t { Read, Write, Flush, Trim, Zero, Cache, BlockStatus };

std::string_view to_string(Op op);

struct Request {
  Op op = Op::Read;
  std::uint64_t offset = 0;  // bytes
  std::uint64_t length = 0;  // bytes; 0 for flush
};

inline constexpr std::uint64_t kSectorSize = 512;

}  // namespace fsfault::faults
