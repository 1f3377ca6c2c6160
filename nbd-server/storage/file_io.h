// Small POSIX file helpers shared by the stores: full-length pread/pwrite that
// retry on EINTR and short transfers, and hole probing with SEEK_DATA/SEEK_HOLE.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "nbd-server/storage/block_device.h"

namespace fsfault::nbd {

// Returns 0 or a positive errno. Reads past EOF yield zeros.
int pread_full(int fd, std::span<std::uint8_t> buf, std::uint64_t offset);
int pwrite_full(int fd, std::span<const std::uint8_t> buf, std::uint64_t offset);

// Extents of [offset, offset+length) in a (possibly sparse) file, classified
// as data or hole via SEEK_DATA/SEEK_HOLE. Falls back to "all data" when the
// filesystem cannot tell.
void file_extents(int fd, std::uint64_t file_size, std::uint64_t offset, std::uint64_t length,
                  std::vector<ExtentInfo>& out);

// Punch a hole (keep size); returns 0 or errno.
int punch_hole(int fd, std::uint64_t offset, std::uint64_t length);

}  // namespace fsfault::nbd
