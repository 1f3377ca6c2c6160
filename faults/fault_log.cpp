#include "faults/fault_log.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <system_error>

#include "faults/errno_names.h"

namespace fsfault::faults {

std::shared_ptr<FaultLog> FaultLog::open_file(const std::string& path, Time time) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) throw std::system_error(errno, std::generic_category(), "fault log " + path);
  std::shared_ptr<FaultLog> log(new FaultLog());
  log->fd_ = fd;
  log->time_ = time;
  return log;
}

std::shared_ptr<FaultLog> FaultLog::in_memory(Time time) {
  std::shared_ptr<FaultLog> log(new FaultLog());
  log->memory_ = true;
  log->time_ = time;
  return log;
}

std::shared_ptr<FaultLog> FaultLog::to_callback(std::function<void(std::string_view)> sink, Time time) {
  std::shared_ptr<FaultLog> log(new FaultLog());
  log->sink_ = std::move(sink);
  log->time_ = time;
  return log;
}

FaultLog::~FaultLog() {
  if (fd_ >= 0) ::close(fd_);
}

nlohmann::ordered_json FaultLog::to_json(const FaultRecord& r, bool with_time) {
  nlohmann::ordered_json j;
  if (with_time) j["t_ms"] = r.t_ms;
  j["req"] = r.req;
  j["rule"] = r.rule;
  j["phase"] = r.phase.empty() ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(r.phase);
  j["op"] = std::string(to_string(r.op));
  j["sector"] = r.sector;
  j["sectors"] = r.sectors;
  j["action"] = r.action;
  if (r.error != 0) j["error"] = errno_name(r.error);
  if (r.action == "flip") {
    j["bits"] = r.bits;
    j["persist"] = r.persist;
  }
  if (r.action == "delay") j["delay_ms"] = r.delay_ms;
  return j;
}

std::string FaultLog::without_time(std::string_view line) {
  auto j = nlohmann::ordered_json::parse(line);
  j.erase("t_ms");
  return j.dump();
}

void FaultLog::write(const FaultRecord& record) {
  std::string line = to_json(record, time_ == Time::Include).dump();
  std::lock_guard lock(mu_);
  if (memory_) {
    lines_.push_back(std::move(line));
    return;
  }
  if (sink_) {
    sink_(line);
    return;
  }
  line.push_back('\n');
  const char* p = line.data();
  std::size_t left = line.size();
  while (left > 0 && fd_ >= 0) {
    ssize_t n = ::write(fd_, p, left);
    if (n < 0) {
      if (errno == EINTR) continue;
      return;  // a full disk must not take the server down; the log is best effort
    }
    p += n;
    left -= static_cast<std::size_t>(n);
  }
}

std::vector<std::string> FaultLog::lines() const {
  std::lock_guard lock(mu_);
  return lines_;
}

}  // namespace fsfault::faults
