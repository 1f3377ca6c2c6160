// OverlayStore: copy-on-write over a golden image. The golden image is opened
// read-only and never modified; writes, trims and zeroes land in a sparse
// overlay file that disappears with the store: by default a memfd (tmpfs pages,
// so the overlay lives in RAM + swap), or an unlinked O_TMPFILE in a directory
// the caller names (on disk). State is tracked per 4 KiB granule:
//   Golden      - read from the golden image
//   Data        - read from the overlay
//   Hole        - trimmed / zeroed with holes allowed: reads zeros (HOLE|ZERO)
//   ZeroAlloc   - zeroed with NBD_CMD_FLAG_NO_HOLE: reads zeros (ZERO)
// Partial-granule writes to a non-Data granule copy the granule up under a
// striped lock; once Data, writes go straight to the overlay without locks.
#pragma once

#include <array>
#include <atomic>
#include <memory>
#include <mutex>
#include <string>

#include "nbd-server/storage/block_device.h"
#include "nbd-server/storage/file_io.h"

namespace fsfault::nbd {

class OverlayStore final : public BlockDevice {
 public:
  static constexpr std::uint64_t kGranule = 4096;
  // A read spanning more runs of differing state than this reads the golden
  // range once and then only the data runs from the overlay over it.
  static constexpr std::size_t kMaxRunsPerRead = 4;

  // overlay_dir: empty for a memory-backed overlay (memfd_create), else the
  // directory of an unlinked overlay file. Either is sparse and grows only with
  // data written. Throws std::system_error on failure.
  OverlayStore(const std::string& golden_path, const std::string& overlay_dir);
  ~OverlayStore() override;
  OverlayStore(const OverlayStore&) = delete;
  OverlayStore& operator=(const OverlayStore&) = delete;

  std::uint64_t size() const override { return size_; }
  bool writable() const override { return true; }

  IoResult read(std::span<std::uint8_t> buf, std::uint64_t offset) override;
  IoResult read_plan(std::uint64_t offset, std::uint64_t length, ReadPlan& plan) override;
  IoResult write(std::span<const std::uint8_t> buf, std::uint64_t offset, bool fua) override;
  // In place: a range whose granules all hold data already (overwrites; a
  // granule that is not Data needs copy-up under its stripe lock, which must
  // not wait for a client's payload).
  bool can_write_in_place(std::uint64_t offset, std::uint64_t length) const override;
  std::optional<IoResult> write_in_place(PayloadSource& payload, std::uint64_t offset,
                                         std::uint64_t length, bool fua) override;
  IoResult flush() override { return IoResult::ok(); }  // the overlay is scratch
  IoResult trim(std::uint64_t offset, std::uint64_t length, bool fua) override;
  IoResult write_zeroes(std::uint64_t offset, std::uint64_t length, bool may_trim,
                        bool fua) override;
  IoResult cache(std::uint64_t offset, std::uint64_t length) override;
  IoResult block_status(std::uint64_t offset, std::uint64_t length,
                        std::vector<ExtentInfo>& out) override;

  // Bytes of granules that hold overlay data (for tests and stats).
  std::uint64_t overlay_bytes() const;
  // Bytes the overlay file has allocated (st_blocks), i.e. memory or disk used.
  std::uint64_t overlay_allocated() const;

 private:
  enum State : std::uint8_t { kGolden = 0, kData = 1, kHole = 2, kZeroAlloc = 3 };

  struct Run {
    State state;
    std::uint64_t begin, end;
  };
  State state(std::uint64_t g) const { return static_cast<State>(states_[g].load(std::memory_order_acquire)); }
  void set_state(std::uint64_t g, State s) { states_[g].store(s, std::memory_order_release); }
  std::mutex& stripe(std::uint64_t g) { return stripes_[g % stripes_.size()]; }

  // End of the run of granules in state s that starts at byte pos, at most end.
  std::uint64_t run_end(std::uint64_t pos, std::uint64_t end, State s) const;
  // Snapshots [offset, end) as runs of equal state into `runs` (cleared). A
  // granule that changes state after the snapshot is a concurrent write:
  // either version is right.
  void snapshot_runs(std::uint64_t offset, std::uint64_t end, std::vector<Run>& runs) const;
  // Reads granule-aligned-or-not [offset, offset+buf.size()) within one state run.
  int read_run(State s, std::span<std::uint8_t> buf, std::uint64_t offset);
  // Writes bytes inside granule g that is not (yet) Data: copy-up under lock.
  int write_partial(std::uint64_t g, std::span<const std::uint8_t> buf, std::uint64_t offset);
  // Marks whole granules [g0, g1) zero (Hole or ZeroAlloc) and frees their space.
  int zero_granules(std::uint64_t g0, std::uint64_t g1, State s);

  int golden_fd_ = -1;
  int overlay_fd_ = -1;
  // Read-only mappings of both files, for read_plan().
  std::unique_ptr<FileMapping> golden_map_, overlay_map_;
  std::uint64_t size_ = 0;
  std::uint64_t granules_ = 0;
  std::unique_ptr<std::atomic<std::uint8_t>[]> states_;
  std::array<std::mutex, 256> stripes_;
  std::atomic<bool> touched_{false};  // fast path: nothing written yet
};

}  // namespace fsfault::nbd
