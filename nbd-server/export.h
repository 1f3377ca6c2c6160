// An export: a named BlockDevice with its description and access mode, and the
// table clients choose from during negotiation. Export names are only ever
// looked up here, never used as paths.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "nbd-server/storage/block_device.h"

namespace fsfault::nbd {

// Block size constraints advertised with NBD_INFO_BLOCK_SIZE. The maximum, the
// most one READ or WRITE may move, is nbdkit's (64 MiB); longer ones get EINVAL.
inline constexpr std::uint32_t kMinBlockSize = 1;
inline constexpr std::uint32_t kPreferredBlockSize = 4096;
inline constexpr std::uint32_t kMaxBlockSize = 64 * 1024 * 1024;

struct Export {
  std::string name;
  std::string description;
  std::shared_ptr<BlockDevice> device;
  bool read_only = false;
};

class ExportTable {
 public:
  void add(Export e) { exports_.push_back(std::move(e)); }
  // "" selects the default export (the first one) unless one is named "".
  const Export* find(std::string_view name) const;
  const std::vector<Export>& all() const { return exports_; }

 private:
  std::vector<Export> exports_;
};

// Transmission flags for an export: exactly what the server implements.
std::uint16_t transmission_flags(const Export& e, bool structured_replies);

}  // namespace fsfault::nbd
