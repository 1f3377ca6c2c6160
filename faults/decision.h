// The fault engine's answer for one request. The storage filter in nbd-server
// applies it; the engine itself never touches data or sockets.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace fsfault::faults {

struct Decision {
  // Pass through to storage after delay_ms (0 = no delay) unless one of the
  // outcomes below is set. When several rules match, see fault_engine.h (delays
  // add up, flips unite, the first terminal rule wins).
  std::uint32_t delay_ms = 0;
  int error = 0;              // fail the request with this errno (EIO, ENOSPC, ...)
  bool zero = false;          // reads: return zeros instead of media contents
  bool disconnect = false;    // drop the client's connection (no reply)
  bool torn = false;          // writes: first half reaches media, then fail with EIO
  // Reads: bit offsets (relative to the first byte of the request) to invert in
  // the data returned, ascending, distinct: bit b is byte b / 8, mask
  // 1 << (b % 8). persist = write the corrupted bytes back to the media.
  std::vector<std::uint64_t> flip_bits;
  bool persist_flip = false;
  std::string rule;           // the terminal rule, else the first rule that fired

  bool passes() const {
    return error == 0 && !zero && !disconnect && !torn && flip_bits.empty();
  }
};

}  // namespace fsfault::faults
