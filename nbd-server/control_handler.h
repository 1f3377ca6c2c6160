// The control socket's contract between the server (which owns the socket)
// and whoever answers it (the fault wiring), so neither includes the other.
#pragma once

#include <functional>
#include <string>

namespace fsfault::nbd {

// Answers one control-socket line with one reply line (no newline).
using ControlHandler = std::function<std::string(const std::string& line)>;

}  // namespace fsfault::nbd
