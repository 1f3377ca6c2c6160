// RawStore: the image file itself. Used for --write-through (writes land in the
// image; FLUSH and FUA become fdatasync so acknowledged data survives a crash of
// the server) and for --read-only.
#pragma once

#include <memory>
#include <string>

#include "nbd-server/storage/block_device.h"
#include "nbd-server/storage/file_io.h"

namespace fsfault::nbd {

class RawStore final : public BlockDevice {
 public:
  enum class Mode { ReadOnly, WriteThrough };
  // Throws std::system_error when the image cannot be opened.
  RawStore(const std::string& path, Mode mode);
  ~RawStore() override;
  RawStore(const RawStore&) = delete;
  RawStore& operator=(const RawStore&) = delete;

  std::uint64_t size() const override { return size_; }
  bool writable() const override { return mode_ == Mode::WriteThrough; }
  bool fast_zero() const override { return true; }

  IoResult read(std::span<std::uint8_t> buf, std::uint64_t offset) override;
  IoResult read_plan(std::uint64_t offset, std::uint64_t length, ReadPlan& plan) override;
  IoResult write(std::span<const std::uint8_t> buf, std::uint64_t offset, bool fua) override;
  IoResult flush() override;
  IoResult trim(std::uint64_t offset, std::uint64_t length, bool fua) override;
  IoResult write_zeroes(std::uint64_t offset, std::uint64_t length, bool may_trim,
                        bool fua) override;
  IoResult cache(std::uint64_t offset, std::uint64_t length) override;
  IoResult block_status(std::uint64_t offset, std::uint64_t length,
                        std::vector<ExtentInfo>& out) override;

 private:
  int fd_ = -1;
  Mode mode_;
  std::uint64_t size_ = 0;
  std::unique_ptr<FileMapping> map_;  // the image, for read_plan()
};

}  // namespace fsfault::nbd
