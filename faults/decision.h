// The fault engine's answer for one request. The storage filter in nbd-server
// applies it; the engine itself never touches data or sockets.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace fsfault::faults {

// A change to bytes [begin, end) of a read, relative to the request's first
// byte: set them to `byte` (zero, fill) or invert every bit (flip of a byte range).
struct DataEdit {
  enum class Kind : std::uint8_t { Fill, Invert };
  Kind kind = Kind::Fill;
  std::uint8_t byte = 0;  // Fill: the value
  bool persist = false;   // write the changed bytes back to the media
  std::uint64_t begin = 0;
  std::uint64_t end = 0;
  bool operator==(const DataEdit&) const = default;
};

struct Decision {
  // Pass through to storage after delay_ms (0 = no delay) unless one of the
  // outcomes below is set. When several rules match, see fault_engine.h (delays
  // add up, data changes combine, the first terminal rule wins).
  std::uint32_t delay_ms = 0;
  int error = 0;              // fail the request with this errno (EIO, ENOSPC, ...)
  bool disconnect = false;    // drop the client's connection (no reply)
  bool torn = false;          // writes: first half reaches media, then fail with EIO
  // Reads: byte changes of zero, fill and byte-range flip rules, in the
  // rules' file order; only bytes inside each rule's ranges. Applied first.
  std::vector<DataEdit> edits;
  // Reads: then these bits are inverted. Bit offsets (relative to the first byte of the request) to invert in
  // the data returned, ascending, distinct: bit b is byte b / 8, mask
  // 1 << (b % 8). persist = write the corrupted bytes back to the media.
  std::vector<std::uint64_t> flip_bits;
  bool persist_flip = false;  // for flip_bits (edits carry their own)
  std::string rule;           // the terminal rule, else the first rule that fired

  bool passes() const {
    return error == 0 && !disconnect && !torn && edits.empty() && flip_bits.empty();
  }
};

}  // namespace fsfault::faults
