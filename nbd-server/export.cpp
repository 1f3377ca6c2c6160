#include "nbd-server/export.h"

#include "nbd-server/protocol.h"

namespace fsfault::nbd {

const Export* ExportTable::find(std::string_view name) const {
  for (const auto& e : exports_) {
    if (e.name == name) return &e;
  }
  if (name.empty() && !exports_.empty()) return &exports_.front();
  return nullptr;
}

std::uint16_t transmission_flags(const Export& e, bool structured_replies) {
  std::uint16_t f = kTxHasFlags | kTxSendFlush | kTxSendCache;
  if (e.read_only) {
    f |= kTxReadOnly;
  } else {
    f |= kTxSendFua | kTxSendTrim | kTxSendWriteZeroes;
    if (e.device->fast_zero()) f |= kTxSendFastZero;
  }
  if (structured_replies) f |= kTxSendDf;  // reads are never fragmented anyway
  if (e.device->consistent_across_connections()) f |= kTxCanMultiConn;
  return f;
}

}  // namespace fsfault::nbd
