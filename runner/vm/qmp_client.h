// A QMP client (QEMU's JSON machine protocol, docs/interop/qmp-spec.rst in QEMU): the runner
// uses it to save a booted guest, restore it, and hot-plug a scenario's disks.
#pragma once

#include "runner/vm/line_reader.h"
#include "process/process.h"

#include <nlohmann/json.hpp>

#include <memory>
#include <string>

namespace fsfault::vm {

class QmpClient {
 public:
  // Connects to QEMU's `-qmp unix:PATH,server=on,wait=off` socket (retrying while QEMU starts),
  // reads the greeting and leaves capability negotiation. Throws std::runtime_error.
  QmpClient(const std::string& path, int timeout_ms, proc::Child& qemu);
  ~QmpClient();
  QmpClient(const QmpClient&) = delete;
  QmpClient& operator=(const QmpClient&) = delete;

  // Runs one command; its "return" value. Events that arrive meanwhile are skipped (nothing here
  // waits for one). Throws std::runtime_error with QEMU's error description, or on a timeout.
  nlohmann::json execute(const std::string& command, const nlohmann::json& arguments = nlohmann::json::object(),
                         int timeout_ms = 10000);

 private:
  int fd_ = -1;
  std::unique_ptr<LineReader> reader_;
};

}  // namespace fsfault::vm
