#include "runner/vm/qmp_client.h"

#include "runner/vm/elapsed.h"
#include "runner/vm/unix_socket.h"

#include <unistd.h>

#include <stdexcept>

namespace fsfault::vm {

using json = nlohmann::json;

QmpClient::QmpClient(const std::string& path, int timeout_ms, proc::Child& qemu) {
  Connection c = connect_retry(path, timeout_ms, qemu);
  if (c.status != Connection::Status::connected)
    throw std::runtime_error(c.status == Connection::Status::server_exited ? "QEMU exited before its QMP socket answered"
                                                                           : "QEMU's QMP socket never answered");
  fd_ = c.fd;
  reader_ = std::make_unique<LineReader>(fd_);
  std::string greeting;
  if (reader_->next(greeting, timeout_ms) != LineReader::Status::line || greeting.find("\"QMP\"") == std::string::npos)
    throw std::runtime_error("QEMU's QMP socket sent no greeting");
  execute("qmp_capabilities");
}

QmpClient::~QmpClient() {
  if (fd_ >= 0) close(fd_);
}

json QmpClient::execute(const std::string& command, const json& arguments, int timeout_ms) {
  if (!send_line(fd_, json{{"execute", command}, {"arguments", arguments}}.dump()))
    throw std::runtime_error("QMP " + command + ": QEMU closed its QMP socket");
  const auto t0 = Clock::now();
  for (;;) {
    const int left = timeout_ms - static_cast<int>(ms_since(t0));
    std::string line;
    LineReader::Status st = left > 0 ? reader_->next(line, left) : LineReader::Status::timeout;
    if (st == LineReader::Status::timeout) throw std::runtime_error("QMP " + command + ": no answer within " +
                                                                    std::to_string(timeout_ms) + " ms");
    if (st != LineReader::Status::line) throw std::runtime_error("QMP " + command + ": QEMU closed its QMP socket");
    json r = json::parse(line, nullptr, false);
    if (!r.is_object() || r.contains("event")) continue;
    if (r.contains("return")) return r["return"];
    if (r.contains("error")) {
      const json& e = r["error"];
      throw std::runtime_error("QMP " + command + ": " +
                               (e.is_object() ? e.value("desc", std::string("error")) : std::string("error")));
    }
  }
}

}  // namespace fsfault::vm
