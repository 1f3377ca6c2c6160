#include "nbd-server/storage/block_device.h"

namespace fsfault::nbd {

void ReadPlan::add(const std::uint8_t* data, std::uint64_t length) {
  if (length == 0) return;
  if (!pieces.empty()) {
    ReadPiece& last = pieces.back();
    const bool zeros = data == nullptr && last.data == nullptr;
    if (zeros || (data != nullptr && last.data != nullptr && last.data + last.length == data)) {
      last.length += length;
      return;
    }
  }
  pieces.push_back({data, length});
}

std::span<std::uint8_t> ReadPlan::use_buffer(std::size_t length) {
  pieces.clear();
  in_buffer = true;
  buffer.resize(length);
  return std::span(buffer.data(), length);
}

IoResult BlockDevice::read_plan(std::uint64_t offset, std::uint64_t length, ReadPlan& plan) {
  return read(plan.use_buffer(length), offset);
}

}  // namespace fsfault::nbd
