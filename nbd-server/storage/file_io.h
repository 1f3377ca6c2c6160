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

// A shared mapping of the first `size` bytes of a file, whose pages a reply
// sends with sendmsg(2) (the kernel copies them from the page cache into the
// socket, the only copy) or, when writable, a WRITE payload is received into
// with recv(2). The server itself never touches the pages; the kernel does,
// so a page it cannot fault in (the file shrank, memory ran out) fails that
// sendmsg/recv with EFAULT and never raises SIGBUS. Empty (data() null) when
// the file cannot be mapped; callers then copy with pread/pwrite.
class FileMapping {
 public:
  FileMapping() = default;
  FileMapping(int fd, std::uint64_t size, bool writable = false);
  ~FileMapping();
  FileMapping(const FileMapping&) = delete;
  FileMapping& operator=(const FileMapping&) = delete;
  std::uint8_t* data() const { return data_; }

 private:
  std::uint8_t* data_ = nullptr;
  std::uint64_t size_ = 0;
};

}  // namespace fsfault::nbd
