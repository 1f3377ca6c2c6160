// Request dispatch: validates one transmission-phase command against its export
// and the negotiated session, then runs it on the export's BlockDevice. Knows
// the NBD rules (bounds, flags, errors) but not sockets or faults.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "nbd-server/codec.h"
#include "nbd-server/export.h"
#include "nbd-server/session.h"

namespace fsfault::nbd {

struct Outcome {
  std::uint32_t error = 0;        // NBD error (0 = success)
  std::string message;            // for structured error chunks
  bool disconnect = false;        // drop the client without replying
  std::vector<Extent> extents;    // BLOCK_STATUS result
};

// Translate a positive errno to the NBD error set (unknown ones become EIO,
// except EOPNOTSUPP which is ENOTSUP on Linux anyway).
std::uint32_t nbd_error_from_errno(int e);

// Why a request is refused before it runs; error 0: it is not.
struct Refusal {
  std::uint32_t error = 0;  // NBD error
  std::string reason;       // for the log line and the structured error message
};

class Dispatcher {
 public:
  explicit Dispatcher(Session s) : s_(s) {}

  // Checks a request before its payload is read. For WRITE the caller must
  // still consume the payload.
  Refusal check(const RequestHeader& h) const;
  // check()'s NBD error alone (0 = accepted).
  std::uint32_t validate(const RequestHeader& h) const { return check(h).error; }

  // Runs a validated request. For READ, `data` is the destination (length
  // bytes); for WRITE it holds the payload.
  Outcome execute(const RequestHeader& h, std::span<std::uint8_t> data);
  // Runs a validated READ, describing its data in `plan` (file ranges to send
  // from the page cache, or a buffer) instead of copying it.
  Outcome execute_read(const RequestHeader& h, ReadPlan& plan);

  // Runs a validated WRITE whose payload is still in the socket, receiving it
  // straight into the store where the store can (BlockDevice::write_in_place);
  // nullopt, with nothing consumed, when it cannot.
  std::optional<Outcome> execute_write_in_place(const RequestHeader& h, PayloadSource& payload);

  const Session& session() const { return s_; }

 private:
  Session s_;
};

}  // namespace fsfault::nbd
