// The fixed-newstyle handshake and option haggling, up to the start of the
// transmission phase. Speaks through the codec; knows nothing of storage I/O.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "nbd-server/export.h"
#include "nbd-server/session.h"
#include "nbd-server/socket_io.h"

namespace fsfault::nbd {

struct NegotiationLimits {
  std::uint32_t max_options = 256;            // options before GO/EXPORT_NAME
  std::uint32_t max_option_length = 64 * 1024;  // longer payloads get ERR_TOO_BIG
};

// Runs negotiation on a connected socket. Returns the session when the client
// entered the transmission phase; nullopt when it aborted, disconnected or
// misbehaved (`why` says which), after which the caller closes the socket.
std::optional<Session> negotiate(int fd, SocketReader& in, const ExportTable& exports,
                                 const NegotiationLimits& limits, std::string& why);

}  // namespace fsfault::nbd
