// Fault log times on the guest's clock. A fault log line's t_ms counts from its server's engine
// start (host); the guest's records count from the harness start. The runner logs when it spawned
// each server and when it relayed each guest phase (runner.log), which ties the two clocks
// together. Shared by the judge (fault -> event latency) and repro's timeline.
#pragma once

#include "runner/scenario/scenario.h"  // json

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace fsfault::vm {

// The runner's host-clock times (ms since the runner started the scenario), from runner.log.
struct HostClock {
  std::map<int, long long> server_spawn_ms;   // "server for disk N started at T ms"
  std::map<std::string, long long> phase_ms;  // "phase NAME at T ms: ..." (the first per name)
  std::optional<long long> servers_up_ms;     // "servers up after T ms"
};

// runner.log's text; lines it does not know are passed over.
HostClock parse_runner_log(const std::string& text);

// guest ms = host ms + offset, aligned at the guest's first phase (its phase record, or the start
// of its `phase` step: t_ms - ms) and the runner's line for that phase. The runner logs the phase once every server acknowledged it, so the offset is small
// by up to that round trip. nullopt without a phase on either side.
std::optional<long long> host_to_guest_offset(const std::vector<json>& records, const HostClock& host);

// A fault log line of disk `disk` on the guest's clock: spawn + t_ms + offset. Early by at most
// the server's start-up plus the phase round trip (the engine starts after the spawn). nullopt
// without an integer t_ms, that disk's spawn time or an offset.
std::optional<long long> fault_guest_ms(const json& fault, int disk, const HostClock& host,
                                        std::optional<long long> offset);

}  // namespace fsfault::vm
