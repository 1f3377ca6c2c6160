#include "nbd-server/storage/raw_store.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <system_error>
#include <vector>

#include "nbd-server/storage/file_io.h"

namespace fsfault::nbd {

namespace {
std::uint64_t file_size(int fd) {
  struct stat st {};
  if (::fstat(fd, &st) < 0) throw std::system_error(errno, std::generic_category(), "fstat");
  if (S_ISBLK(st.st_mode)) {
    off_t end = ::lseek(fd, 0, SEEK_END);
    if (end < 0) throw std::system_error(errno, std::generic_category(), "lseek");
    return static_cast<std::uint64_t>(end);
  }
  return static_cast<std::uint64_t>(st.st_size);
}
}  // namespace

RawStore::RawStore(const std::string& path, Mode mode) : mode_(mode) {
  int flags = (mode == Mode::ReadOnly ? O_RDONLY : O_RDWR) | O_CLOEXEC;
  fd_ = ::open(path.c_str(), flags);
  if (fd_ < 0) throw std::system_error(errno, std::generic_category(), "open " + path);
  size_ = file_size(fd_);
  map_ = std::make_unique<FileMapping>(fd_, size_);
}

RawStore::~RawStore() {
  if (fd_ >= 0) ::close(fd_);
}

IoResult RawStore::read(std::span<std::uint8_t> buf, std::uint64_t offset) {
  return IoResult::fail(pread_full(fd_, buf, offset));
}

IoResult RawStore::read_plan(std::uint64_t offset, std::uint64_t length, ReadPlan& plan) {
  if (map_->data() == nullptr) return read(plan.use_buffer(length), offset);
  plan.add(map_->data() + offset, length);
  return IoResult::ok();
}

IoResult RawStore::write(std::span<const std::uint8_t> buf, std::uint64_t offset, bool fua) {
  if (!writable()) return IoResult::fail(EPERM);
  if (int e = pwrite_full(fd_, buf, offset)) return IoResult::fail(e);
  return fua ? flush() : IoResult::ok();
}

IoResult RawStore::flush() {
  if (!writable()) return IoResult::ok();
  if (::fdatasync(fd_) < 0) return IoResult::fail(errno);
  return IoResult::ok();
}

IoResult RawStore::trim(std::uint64_t offset, std::uint64_t length, bool fua) {
  if (!writable()) return IoResult::fail(EPERM);
  // Trim is advisory: a filesystem that cannot punch holes just keeps the data.
  int e = punch_hole(fd_, offset, length);
  if (e != 0 && e != EOPNOTSUPP) return IoResult::fail(e);
  return fua ? flush() : IoResult::ok();
}

IoResult RawStore::write_zeroes(std::uint64_t offset, std::uint64_t length, bool may_trim,
                                bool fua) {
  if (!writable()) return IoResult::fail(EPERM);
  int e = EOPNOTSUPP;
  if (may_trim) e = punch_hole(fd_, offset, length);
  if (e != 0) {
    e = ::fallocate(fd_, FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE, static_cast<off_t>(offset),
                    static_cast<off_t>(length)) < 0
            ? errno
            : 0;
  }
  if (e == EOPNOTSUPP || e == ENODEV) {  // fall back to writing zeros
    std::vector<std::uint8_t> zeros(std::min<std::uint64_t>(length, 1 << 20), 0);
    e = 0;
    for (std::uint64_t done = 0; done < length && e == 0;) {
      std::uint64_t n = std::min<std::uint64_t>(zeros.size(), length - done);
      e = pwrite_full(fd_, std::span(zeros.data(), n), offset + done);
      done += n;
    }
  }
  if (e != 0) return IoResult::fail(e);
  return fua ? flush() : IoResult::ok();
}

IoResult RawStore::cache(std::uint64_t offset, std::uint64_t length) {
  ::posix_fadvise(fd_, static_cast<off_t>(offset), static_cast<off_t>(length),
                  POSIX_FADV_WILLNEED);
  return IoResult::ok();
}

IoResult RawStore::block_status(std::uint64_t offset, std::uint64_t length,
                                std::vector<ExtentInfo>& out) {
  file_extents(fd_, size_, offset, length, out);
  return IoResult::ok();
}

}  // namespace fsfault::nbd
