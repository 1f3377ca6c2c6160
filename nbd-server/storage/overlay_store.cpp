#include "nbd-server/storage/overlay_store.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <system_error>
#include <vector>

#include "nbd-server/storage/file_io.h"
#include "nbd-server/storage/mapped_page_order.h"

namespace fsfault::nbd {

OverlayStore::OverlayStore(const std::string& golden_path, const std::string& overlay_dir) {
  golden_fd_ = ::open(golden_path.c_str(), O_RDONLY | O_CLOEXEC);
  if (golden_fd_ < 0) {
    throw std::system_error(errno, std::generic_category(), "open " + golden_path);
  }
  struct stat st {};
  if (::fstat(golden_fd_, &st) < 0) {
    int e = errno;
    ::close(golden_fd_);
    throw std::system_error(e, std::generic_category(), "fstat " + golden_path);
  }
  size_ = S_ISBLK(st.st_mode) ? static_cast<std::uint64_t>(::lseek(golden_fd_, 0, SEEK_END))
                              : static_cast<std::uint64_t>(st.st_size);
  // A memfd skips the filesystem's block allocation on first writes, which
  // dominated 1 MiB writes into an on-disk overlay (docs/performance.md).
  overlay_fd_ = overlay_dir.empty()
                    ? ::memfd_create("fsfault-overlay", MFD_CLOEXEC)
                    : ::open(overlay_dir.c_str(), O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
  if (overlay_fd_ < 0) {
    int e = errno;
    ::close(golden_fd_);
    throw std::system_error(e, std::generic_category(),
                            overlay_dir.empty() ? "memfd_create overlay"
                                                : "create overlay in " + overlay_dir);
  }
  if (::ftruncate(overlay_fd_, static_cast<off_t>(size_)) < 0) {
    int e = errno;
    ::close(golden_fd_);
    ::close(overlay_fd_);
    throw std::system_error(e, std::generic_category(), "size overlay");
  }
  golden_map_ = std::make_unique<FileMapping>(golden_fd_, size_);
  overlay_map_ = std::make_unique<FileMapping>(overlay_fd_, size_, /*writable=*/true);
  granules_ = (size_ + kGranule - 1) / kGranule;
  states_ = std::make_unique<std::atomic<std::uint8_t>[]>(granules_);
  for (std::uint64_t g = 0; g < granules_; ++g) states_[g].store(kGolden, std::memory_order_relaxed);
}

OverlayStore::~OverlayStore() {
  golden_map_.reset();
  overlay_map_.reset();
  if (golden_fd_ >= 0) ::close(golden_fd_);
  if (overlay_fd_ >= 0) ::close(overlay_fd_);
}

std::uint64_t OverlayStore::run_end(std::uint64_t pos, std::uint64_t end, State s) const {
  std::uint64_t stop = std::min(end, (pos / kGranule + 1) * kGranule);
  while (stop < end && state(stop / kGranule) == s) stop = std::min(end, stop + kGranule);
  return stop;
}

int OverlayStore::read_run(State s, std::span<std::uint8_t> buf, std::uint64_t offset) {
  switch (s) {
    case kGolden: return pread_full(golden_fd_, buf, offset);
    case kData: return pread_full(overlay_fd_, buf, offset);
    case kHole:
    case kZeroAlloc: std::memset(buf.data(), 0, buf.size()); return 0;
  }
  return EIO;
}

void OverlayStore::snapshot_runs(std::uint64_t offset, std::uint64_t end,
                                 std::vector<Run>& runs) const {
  runs.clear();
  for (std::uint64_t pos = offset; pos < end;) {
    const State s = state(pos / kGranule);
    const std::uint64_t stop = run_end(pos, end, s);
    runs.push_back({s, pos, stop});
    pos = stop;
  }
}

IoResult OverlayStore::read_plan(std::uint64_t offset, std::uint64_t length, ReadPlan& plan) {
  const std::uint8_t* golden = golden_map_->data();
  const std::uint8_t* overlay = overlay_map_->data();
  if (golden == nullptr || overlay == nullptr) return read(plan.use_buffer(length), offset);
  if (!touched_.load(std::memory_order_acquire)) {
    plan.add(golden + offset, length);
    return IoResult::ok();
  }
  thread_local std::vector<Run> runs;
  snapshot_runs(offset, offset + length, runs);
  for (const Run& r : runs) {
    // A Data range is read when the reply is sent: if a trim races it, the
    // punched range reads as zeros, which the trim allows.
    const std::uint8_t* base = r.state == kGolden ? golden : r.state == kData ? overlay : nullptr;
    plan.add(base == nullptr ? nullptr : base + r.begin, r.end - r.begin);
  }
  return IoResult::ok();
}

IoResult OverlayStore::read(std::span<std::uint8_t> buf, std::uint64_t offset) {
  if (!touched_.load(std::memory_order_acquire)) {
    return IoResult::fail(pread_full(golden_fd_, buf, offset));
  }
  const std::uint64_t end = offset + buf.size();
  thread_local std::vector<Run> runs;
  snapshot_runs(offset, end, runs);
  if (runs.size() <= kMaxRunsPerRead) {
    for (const Run& r : runs) {
      if (int e = read_run(r.state, buf.subspan(r.begin - offset, r.end - r.begin), r.begin)) {
        return IoResult::fail(e);
      }
    }
    return IoResult::ok();
  }
  // A checkerboard (e.g. after random small writes): one pread of the golden
  // span, then only the non-golden runs over it, so the overlay is read in
  // proportion to the data it holds. Measured in docs/performance.md.
  std::uint64_t golden_begin = end, golden_end = offset;
  for (const Run& r : runs) {
    if (r.state != kGolden) continue;
    golden_begin = std::min(golden_begin, r.begin);
    golden_end = std::max(golden_end, r.end);
  }
  if (golden_begin < golden_end) {
    if (int e = pread_full(golden_fd_, buf.subspan(golden_begin - offset, golden_end - golden_begin),
                           golden_begin)) {
      return IoResult::fail(e);
    }
  }
  for (const Run& r : runs) {
    if (r.state == kGolden) continue;
    if (int e = read_run(r.state, buf.subspan(r.begin - offset, r.end - r.begin), r.begin)) {
      return IoResult::fail(e);
    }
  }
  return IoResult::ok();
}

int OverlayStore::write_partial(std::uint64_t g, std::span<const std::uint8_t> buf,
                                std::uint64_t offset) {
  std::lock_guard lock(stripe(g));
  State s = state(g);
  if (s == kData) return pwrite_full(overlay_fd_, buf, offset);
  const std::uint64_t gstart = g * kGranule;
  const std::uint64_t glen = std::min(kGranule, size_ - gstart);
  std::array<std::uint8_t, kGranule> granule{};
  if (s == kGolden) {
    if (int e = pread_full(golden_fd_, std::span(granule.data(), glen), gstart)) return e;
  }
  std::memcpy(granule.data() + (offset - gstart), buf.data(), buf.size());
  if (int e = pwrite_full(overlay_fd_, std::span(granule.data(), glen), gstart)) return e;
  set_state(g, kData);
  return 0;
}

IoResult OverlayStore::write(std::span<const std::uint8_t> buf, std::uint64_t offset, bool) {
  touched_.store(true, std::memory_order_release);
  const std::uint64_t end = offset + buf.size();
  std::uint64_t pos = offset;
  while (pos < end) {
    const std::uint64_t g = pos / kGranule;
    const std::uint64_t gstart = g * kGranule;
    const std::uint64_t gend = std::min(gstart + kGranule, size_);
    if (pos != gstart || std::min(end, gend) != gend) {
      // A partial granule: copy-up (or a plain write if it is already Data).
      std::uint64_t chunk_end = std::min(end, gend);
      if (int e = write_partial(g, buf.subspan(pos - offset, chunk_end - pos), pos)) {
        return IoResult::fail(e);
      }
      pos = chunk_end;
      continue;
    }
    // A run of whole granules [g, g1): one pwrite for all of them.
    std::uint64_t g1 = g + 1;
    while (g1 < granules_ && std::min((g1 + 1) * kGranule, size_) <= end) ++g1;
    const std::uint64_t run_end = std::min(g1 * kGranule, size_);
    auto piece = buf.subspan(pos - offset, run_end - pos);
    bool all_data = true;
    for (std::uint64_t x = g; x < g1 && all_data; ++x) all_data = state(x) == kData;
    if (all_data) {
      // Data granules never need copy-up: no lock.
      if (int e = pwrite_full(overlay_fd_, piece, pos)) return IoResult::fail(e);
    } else {
      // Serialize with partial writes that may be copying these granules up.
      // Stripes are taken in ascending index order, each once.
      std::vector<std::size_t> idx;
      for (std::uint64_t x = g; x < g1 && idx.size() < stripes_.size(); ++x) {
        idx.push_back(x % stripes_.size());
      }
      std::sort(idx.begin(), idx.end());
      idx.erase(std::unique(idx.begin(), idx.end()), idx.end());
      for (auto i : idx) stripes_[i].lock();
      int e = pwrite_full(overlay_fd_, piece, pos);
      if (e == 0) {
        for (std::uint64_t x = g; x < g1; ++x) set_state(x, kData);
      }
      for (auto it = idx.rbegin(); it != idx.rend(); ++it) stripes_[*it].unlock();
      if (e != 0) return IoResult::fail(e);
    }
    pos = run_end;
  }
  return IoResult::ok();
}

bool OverlayStore::can_write_in_place(std::uint64_t offset, std::uint64_t length) const {
  if (overlay_map_->data() == nullptr || length == 0) return false;
  const std::uint64_t last = (offset + length - 1) / kGranule;
  for (std::uint64_t g = offset / kGranule; g <= last; ++g) {
    if (state(g) != kData) return false;
  }
  return true;
}

std::optional<IoResult> OverlayStore::write_in_place(PayloadSource& payload, std::uint64_t offset,
                                                     std::uint64_t length, bool fua) {
  // Data granules stay Data (only a trim or a zero changes them, and one
  // racing this write may be ordered either side of it; a page it punched is
  // faulted back in by the receive, and reads as zeros while the granule is
  // a hole). Anything else takes the buffered path.
  if (can_write_in_place(offset, length)) {
    auto dst = std::span(overlay_map_->data() + offset, length);
    mapped_pages::before_access();  // after the sends of earlier replies from these pages
    const bool received = payload.receive(dst);
    mapped_pages::after_access();
    return received ? IoResult::ok() : IoResult::fail(EIO);
  }
  std::vector<std::uint8_t> buf(length);  // rare (a racing trim): not kept
  if (!payload.receive(buf)) return IoResult::fail(EIO);
  return write(buf, offset, fua);
}

int OverlayStore::zero_granules(std::uint64_t g0, std::uint64_t g1, State s) {
  for (std::uint64_t g = g0; g < g1; ++g) {
    std::lock_guard lock(stripe(g));
    set_state(g, s);
  }
  if (g1 > g0) {
    // Free the overlay space; failure only costs disk, never correctness.
    (void)punch_hole(overlay_fd_, g0 * kGranule, std::min(g1 * kGranule, size_) - g0 * kGranule);
  }
  return 0;
}

IoResult OverlayStore::trim(std::uint64_t offset, std::uint64_t length, bool) {
  // Trim is advisory: only whole granules are dropped; partial ones keep data.
  touched_.store(true, std::memory_order_release);
  std::uint64_t g0 = (offset + kGranule - 1) / kGranule;
  std::uint64_t end = offset + length;
  std::uint64_t g1 = end == size_ ? granules_ : end / kGranule;
  if (g1 > g0) zero_granules(g0, g1, kHole);
  return IoResult::ok();
}

IoResult OverlayStore::write_zeroes(std::uint64_t offset, std::uint64_t length, bool may_trim,
                                    bool) {
  touched_.store(true, std::memory_order_release);
  const std::uint64_t end = offset + length;
  std::uint64_t g0 = (offset + kGranule - 1) / kGranule;
  std::uint64_t g1 = end == size_ ? granules_ : end / kGranule;
  if (g1 <= g0) {  // inside one granule, or spanning no whole granule
    std::vector<std::uint8_t> zeros(length, 0);
    return write(zeros, offset, false);
  }
  // Partial head and tail are written as zeros; whole granules change state.
  std::uint64_t head_end = g0 * kGranule;
  std::uint64_t tail_start = std::min(g1 * kGranule, size_);
  if (head_end > offset) {
    std::vector<std::uint8_t> zeros(head_end - offset, 0);
    if (auto r = write(zeros, offset, false); r.error) return r;
  }
  if (end > tail_start) {
    std::vector<std::uint8_t> zeros(end - tail_start, 0);
    if (auto r = write(zeros, tail_start, false); r.error) return r;
  }
  zero_granules(g0, g1, may_trim ? kHole : kZeroAlloc);
  return IoResult::ok();
}

IoResult OverlayStore::cache(std::uint64_t offset, std::uint64_t length) {
  ::posix_fadvise(golden_fd_, static_cast<off_t>(offset), static_cast<off_t>(length),
                  POSIX_FADV_WILLNEED);
  return IoResult::ok();
}

IoResult OverlayStore::block_status(std::uint64_t offset, std::uint64_t length,
                                    std::vector<ExtentInfo>& out) {
  const std::uint64_t end = offset + length;
  std::uint64_t pos = offset;
  auto append = [&out](ExtentInfo e) {
    if (!out.empty() && out.back().hole == e.hole && out.back().zero == e.zero) {
      out.back().length += e.length;
    } else {
      out.push_back(e);
    }
  };
  while (pos < end) {
    std::uint64_t g = pos / kGranule;
    State s = state(g);
    const std::uint64_t stop = run_end(pos, end, s);
    switch (s) {
      case kGolden: {
        std::vector<ExtentInfo> golden;
        file_extents(golden_fd_, size_, pos, stop - pos, golden);
        for (const auto& e : golden) append(e);
        break;
      }
      case kData: append({stop - pos, false, false}); break;
      case kHole: append({stop - pos, true, true}); break;
      case kZeroAlloc: append({stop - pos, false, true}); break;
    }
    pos = stop;
  }
  return IoResult::ok();
}

std::uint64_t OverlayStore::overlay_bytes() const {
  std::uint64_t n = 0;
  for (std::uint64_t g = 0; g < granules_; ++g) {
    if (state(g) == kData) ++n;
  }
  return n * kGranule;
}

std::uint64_t OverlayStore::overlay_allocated() const {
  struct stat st {};
  if (::fstat(overlay_fd_, &st) < 0) return 0;
  return static_cast<std::uint64_t>(st.st_blocks) * 512;
}

}  // namespace fsfault::nbd
