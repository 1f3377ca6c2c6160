#include "faults/fault_log.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <system_error>

#include "base/errno_names.h"

namespace fsfault::faults {

std::shared_ptr<FaultLog> FaultLog::open_file(const std::string& path, Time time) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) throw std::system_error(errno, std::generic_category(), "fault log " + path);
  std::shared_ptr<FaultLog> log(new FaultLog());
  log->fd_ = fd;
  log->time_ = time;
  log->start_flusher();
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
  log->start_flusher();
  return log;
}

FaultLog::~FaultLog() {
  if (flusher_.joinable()) {
    {
      std::lock_guard lock(queue_mu_);
      stopping_ = true;
    }
    wake_.notify_one();
    flusher_.join();
  }
  flush();  // the log is complete when its owner (the server) goes away
  if (fd_ >= 0) ::close(fd_);
}

// In-memory logs need no thread: lines() flushes.
void FaultLog::start_flusher() {
  flusher_ = std::thread([this] {
    std::unique_lock lock(queue_mu_);
    while (!stopping_) {
      wake_.wait_for(lock, kFlushInterval, [this] { return stopping_ || queue_.size() >= kFlushAt; });
      if (queue_.empty()) continue;
      lock.unlock();
      flush();
      lock.lock();
    }
  });
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
  if (r.error != 0) j["error"] = base::errno_name(r.error);
  if (!r.bytes.empty()) {
    nlohmann::ordered_json spans = nlohmann::ordered_json::array();
    for (const auto& [lo, hi] : r.bytes) spans.push_back({lo, hi});
    j["bytes"] = spans;
  } else if (r.action == "flip") {
    j["bits"] = r.bits;
  }
  if (r.action == "fill") j["byte"] = r.fill_byte;
  if (r.action == "flip") j["persist"] = r.persist;
  if (r.action == "delay") j["delay_ms"] = r.delay_ms;
  return j;
}

std::string FaultLog::without_time(std::string_view line) {
  auto j = nlohmann::ordered_json::parse(line);
  j.erase("t_ms");
  return j.dump();
}

void FaultLog::write(FaultRecord record) {
  std::size_t queued;
  {
    std::lock_guard lock(queue_mu_);
    queue_.push_back(std::move(record));
    queued = queue_.size();
  }
  if (queued == kFlushAt && flusher_.joinable()) wake_.notify_one();
  // Back-pressure: the flusher fell behind (slow disk); pay for it here rather
  // than letting memory grow without bound.
  if (queued >= kMaxQueued) flush();
}

void FaultLog::flush() {
  std::lock_guard out(out_mu_);
  {
    std::lock_guard lock(queue_mu_);
    batch_.swap(queue_);  // queue_ gets the cleared buffer, capacity kept
  }
  if (batch_.empty()) return;
  output();
  batch_.clear();
}

void FaultLog::output() {
  const std::vector<FaultRecord>& records = batch_;
  const bool with_time = time_ == Time::Include;
  if (memory_ || sink_) {
    for (const auto& r : records) {
      std::string line;
      append_line(line, r, with_time);
      if (memory_) {
        lines_.push_back(std::move(line));
      } else {
        sink_(line);
      }
    }
    return;
  }
  text_.clear();
  for (const auto& r : records) {
    append_line(text_, r, with_time);
    text_.push_back('\n');
  }
  const char* p = text_.data();
  std::size_t left = text_.size();
  while (left > 0 && fd_ >= 0) {
    ssize_t n = ::write(fd_, p, left);
    if (n < 0) {
      if (errno == EINTR) continue;
      break;  // a full disk must not take the server down; the log is best effort
    }
    p += n;
    left -= static_cast<std::size_t>(n);
  }
  // A huge batch (back-pressure) must not pin its buffer for the server's life.
  if (text_.capacity() > (std::size_t{8} << 20)) std::string().swap(text_);
}

namespace {

void append_number(std::string& out, std::uint64_t v) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, end);
}

// A JSON string, escaped exactly as nlohmann's dump() does: the common case
// (printable ASCII without quote or backslash) is copied as is, anything else
// goes through nlohmann itself.
void append_string(std::string& out, std::string_view s) {
  const bool plain = std::all_of(s.begin(), s.end(), [](char c) {
    return c >= 0x20 && c < 0x7f && c != '"' && c != '\\';
  });
  if (!plain) {
    out += nlohmann::ordered_json(std::string(s)).dump();
    return;
  }
  out.push_back('"');
  out.append(s);
  out.push_back('"');
}

}  // namespace

void FaultLog::append_line(std::string& out, const FaultRecord& r, bool with_time) {
  out.push_back('{');
  if (with_time) {
    out += "\"t_ms\":";
    append_number(out, r.t_ms);
    out.push_back(',');
  }
  out += "\"req\":";
  append_number(out, r.req);
  out += ",\"rule\":";
  append_string(out, r.rule);
  out += ",\"phase\":";
  if (r.phase.empty()) {
    out += "null";
  } else {
    append_string(out, r.phase);
  }
  out += ",\"op\":";
  append_string(out, to_string(r.op));
  out += ",\"sector\":";
  append_number(out, r.sector);
  out += ",\"sectors\":";
  append_number(out, r.sectors);
  out += ",\"action\":";
  append_string(out, r.action);
  if (r.error != 0) {
    out += ",\"error\":";
    append_string(out, base::errno_name(r.error));
  }
  if (!r.bytes.empty()) {
    out += ",\"bytes\":[";
    for (std::size_t i = 0; i < r.bytes.size(); ++i) {
      out += i > 0 ? ",[" : "[";
      append_number(out, r.bytes[i].first);
      out.push_back(',');
      append_number(out, r.bytes[i].second);
      out.push_back(']');
    }
    out.push_back(']');
  } else if (r.action == "flip") {
    out += ",\"bits\":[";
    for (std::size_t i = 0; i < r.bits.size(); ++i) {
      if (i > 0) out.push_back(',');
      append_number(out, r.bits[i]);
    }
    out.push_back(']');
  }
  if (r.action == "fill") {
    out += ",\"byte\":";
    append_number(out, r.fill_byte);
  }
  if (r.action == "flip") {
    out += ",\"persist\":";
    out += r.persist ? "true" : "false";
  }
  if (r.action == "delay") {
    out += ",\"delay_ms\":";
    append_number(out, r.delay_ms);
  }
  out.push_back('}');
}

std::vector<std::string> FaultLog::lines() {
  flush();
  std::lock_guard lock(out_mu_);
  return lines_;
}

}  // namespace fsfault::faults
