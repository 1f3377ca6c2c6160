// The meaning of control commands (JSON objects, one per line on the server's
// control socket). No sockets here: the server reads a line, calls handle(),
// writes the answer. Commands (the team's contract):
//   {"cmd":"phase","name":"armed"}      -> {"ok":true,"phase":"armed"}
//   {"cmd":"stats"}                     -> {"ok":true,"phase":...,"dead":...,"requests":N,"rules":[...]}
//   {"cmd":"die"}                       -> {"ok":true}
//   {"cmd":"load","path":"/x.toml"}     -> {"ok":true,"rules":N} | {"ok":false,"error":"file:line:col: ..."}
//   {"cmd":"load","toml":"...text..."}  -> same (source name "<control>")
//   {"cmd":"clear"}                     -> {"ok":true}
// Anything else -> {"ok":false,"error":"..."}; handle() never throws.
// The change is in force when handle() returns: a request evaluated after the
// answer was sent sees it.
#pragma once

#include <cstdint>
#include <string_view>

#include <nlohmann/json.hpp>

#include "faults/fault_engine.h"
#include "faults/target_map.h"

namespace fsfault::faults {

class ControlCommands {
 public:
  // map may be null (schedules then cannot use `target`); disk_size_bytes 0 =
  // unknown. The engine and map must outlive this object.
  ControlCommands(FaultEngine& engine, const TargetMap* map, std::uint64_t disk_size_bytes);

  nlohmann::json handle(const nlohmann::json& cmd);
  // Parses one line first; invalid JSON -> {"ok":false,"error":"invalid JSON: ..."}.
  nlohmann::json handle_line(std::string_view line);

 private:
  FaultEngine& engine_;
  const TargetMap* map_;
  std::uint64_t disk_size_;
};

}  // namespace fsfault::faults
