#include "nbd-server/storage/file_io.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace fsfault::nbd {

int pread_full(int fd, std::span<std::uint8_t> buf, std::uint64_t offset) {
  std::size_t done = 0;
  while (done < buf.size()) {
    ssize_t n = ::pread(fd, buf.data() + done, buf.size() - done,
                        static_cast<off_t>(offset + done));
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno;
    }
    if (n == 0) {  // past EOF: the rest reads as zeros
      std::memset(buf.data() + done, 0, buf.size() - done);
      return 0;
    }
    done += static_cast<std::size_t>(n);
  }
  return 0;
}

int pwrite_full(int fd, std::span<const std::uint8_t> buf, std::uint64_t offset) {
  std::size_t done = 0;
  while (done < buf.size()) {
    ssize_t n = ::pwrite(fd, buf.data() + done, buf.size() - done,
                         static_cast<off_t>(offset + done));
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno;
    }
    if (n == 0) return EIO;
    done += static_cast<std::size_t>(n);
  }
  return 0;
}

void file_extents(int fd, std::uint64_t file_size, std::uint64_t offset, std::uint64_t length,
                  std::vector<ExtentInfo>& out) {
  const std::uint64_t end = offset + length;
  std::uint64_t pos = offset;
  while (pos < end) {
    if (pos >= file_size) {  // beyond a short file: reads as zeros
      out.push_back({end - pos, true, true});
      return;
    }
    off_t data = ::lseek(fd, static_cast<off_t>(pos), SEEK_DATA);
    if (data < 0) {
      if (errno == ENXIO) {  // no data from pos to EOF
        out.push_back({end - pos, true, true});
      } else {  // cannot tell: claim data, which is always truthful enough
        out.push_back({end - pos, false, false});
      }
      return;
    }
    if (static_cast<std::uint64_t>(data) > pos) {
      std::uint64_t hole_end = std::min<std::uint64_t>(static_cast<std::uint64_t>(data), end);
      out.push_back({hole_end - pos, true, true});
      pos = hole_end;
      continue;
    }
    off_t hole = ::lseek(fd, static_cast<off_t>(pos), SEEK_HOLE);
    std::uint64_t data_end = hole < 0 ? end : std::min<std::uint64_t>(static_cast<std::uint64_t>(hole), end);
    if (data_end <= pos) data_end = end;
    out.push_back({data_end - pos, false, false});
    pos = data_end;
  }
}

int punch_hole(int fd, std::uint64_t offset, std::uint64_t length) {
  if (::fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, static_cast<off_t>(offset),
                  static_cast<off_t>(length)) < 0) {
    return errno;
  }
  return 0;
}

FileMapping::FileMapping(int fd, std::uint64_t size, bool writable) {
  if (size == 0) return;
  void* m = ::mmap(nullptr, size, writable ? PROT_READ | PROT_WRITE : PROT_READ, MAP_SHARED, fd, 0);
  if (m == MAP_FAILED) return;
  data_ = static_cast<std::uint8_t*>(m);
  size_ = size;
}

FileMapping::~FileMapping() {
  if (data_ != nullptr) ::munmap(data_, size_);
}

}  // namespace fsfault::nbd
