// `fsfault ctl`: a human and script front for the server's control socket.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

namespace CLI {
class App;
}

namespace fsfault::nbd {

void register_ctl_command(CLI::App& app);

// Sends one command and returns the server's reply (throws std::runtime_error
// when the socket cannot be reached or answers garbage). Used by the VM
// runner too.
nlohmann::json control_request(const std::string& control_path, const nlohmann::json& command,
                               int timeout_ms = 10000);

}  // namespace fsfault::nbd
