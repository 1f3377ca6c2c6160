#include "runner/judge/fault_clock.h"

#include "runner/judge/record_fields.h"

#include <regex>
#include <sstream>

namespace fsfault::vm {

HostClock parse_runner_log(const std::string& text) {
  HostClock h;
  std::istringstream log(text);
  static const std::regex spawn_re(R"(^server for disk (\d{1,6}) started at (\d{1,15}) ms)");
  static const std::regex up_re(R"(^servers up after (\d{1,15}) ms)");
  static const std::regex phase_re(R"(^phase (.*) at (\d{1,15}) ms: )");
  std::string line;
  std::smatch m;
  while (std::getline(log, line)) {
    if (std::regex_search(line, m, spawn_re)) h.server_spawn_ms[std::stoi(m[1])] = std::stoll(m[2]);
    else if (std::regex_search(line, m, up_re)) h.servers_up_ms = std::stoll(m[1]);
    else if (std::regex_search(line, m, phase_re)) h.phase_ms.emplace(m[1], std::stoll(m[2]));
  }
  return h;
}

namespace {

// When the guest entered phase r names: a phase record's t_ms, or the start of the `phase` step
// (t_ms - ms: the step sends the phase record, then waits for the runner's ack). The runner hands
// the judge the step records only, repro reads records.jsonl with both.
std::optional<long long> guest_phase_ms(const json& r) {
  std::string type = r.value("type", json()).is_string() ? r["type"].get<std::string>() : "";
  if (type == "phase") return int_field(r, "t_ms");
  if (type == "step" && r.value("do", json()) == "phase" && int_field(r, "t_ms") && int_field(r, "ms"))
    return *int_field(r, "t_ms") - *int_field(r, "ms");
  return std::nullopt;
}

}  // namespace

std::optional<long long> host_to_guest_offset(const std::vector<json>& records, const HostClock& host) {
  for (const auto& r : records) {
    if (!r.is_object()) continue;
    auto guest = guest_phase_ms(r);
    if (!guest) continue;
    if (!r.contains("name") || !r["name"].is_string()) return std::nullopt;
    auto h = host.phase_ms.find(r["name"].get<std::string>());
    if (h == host.phase_ms.end()) return std::nullopt;
    return *guest - h->second;
  }
  return std::nullopt;
}

std::optional<long long> fault_guest_ms(const json& fault, int disk, const HostClock& host,
                                        std::optional<long long> offset) {
  auto spawn = host.server_spawn_ms.find(disk);
  if (!offset || spawn == host.server_spawn_ms.end()) return std::nullopt;
  auto t = int_field(fault, "t_ms");
  if (!t) return std::nullopt;
  return spawn->second + *t + *offset;
}

}  // namespace fsfault::vm
