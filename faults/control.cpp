#include "faults/control.h"

#include <fmt/format.h>

#include "faults/schedule.h"

namespace fsfault::faults {

namespace {

nlohmann::json error(std::string msg) { return {{"ok", false}, {"error", std::move(msg)}}; }

// Checks that cmd has only the allowed keys; returns an error message or "".
std::string check_keys(const nlohmann::json& cmd, std::initializer_list<std::string_view> allowed) {
  for (const auto& [k, v] : cmd.items()) {
    bool ok = k == "cmd";
    for (auto a : allowed) ok = ok || k == a;
    if (!ok) {
      std::string list = "cmd";
      for (auto a : allowed) list += fmt::format(", {}", a);
      return fmt::format("unexpected key \"{}\" for command \"{}\" (expected {})", k,
                         cmd["cmd"].get<std::string>(), list);
    }
  }
  return {};
}

}  // namespace

ControlCommands::ControlCommands(FaultEngine& engine, const TargetMap* map, std::uint64_t disk_size_bytes)
    : engine_(engine), map_(map), disk_size_(disk_size_bytes) {}

nlohmann::json ControlCommands::handle_line(std::string_view line) {
  nlohmann::json cmd;
  try {
    cmd = nlohmann::json::parse(line);
  } catch (const std::exception& e) {
    return error(fmt::format("invalid JSON: {}", e.what()));
  }
  return handle(cmd);
}

nlohmann::json ControlCommands::handle(const nlohmann::json& cmd) {
  try {
    if (!cmd.is_object()) return error("expected a JSON object with \"cmd\"");
    if (!cmd.contains("cmd") || !cmd["cmd"].is_string()) return error("expected \"cmd\" to be a string");
    const std::string name = cmd["cmd"].get<std::string>();
    if (name == "phase") {
      if (auto e = check_keys(cmd, {"name"}); !e.empty()) return error(e);
      if (!cmd.contains("name") || !cmd["name"].is_string() || cmd["name"].get<std::string>().empty()) {
        return error("phase: expected \"name\" to be a non-empty string");
      }
      engine_.set_phase(cmd["name"].get<std::string>());
      return {{"ok", true}, {"phase", cmd["name"]}};
    }
    if (name == "stats") {
      if (auto e = check_keys(cmd, {}); !e.empty()) return error(e);
      nlohmann::json out = engine_.stats();
      out["ok"] = true;
      return out;
    }
    if (name == "die") {
      if (auto e = check_keys(cmd, {}); !e.empty()) return error(e);
      engine_.die("control");
      return {{"ok", true}};
    }
    if (name == "clear") {
      if (auto e = check_keys(cmd, {}); !e.empty()) return error(e);
      engine_.clear();
      return {{"ok", true}};
    }
    if (name == "load") {
      if (auto e = check_keys(cmd, {"path", "toml"}); !e.empty()) return error(e);
      const bool has_path = cmd.contains("path");
      const bool has_toml = cmd.contains("toml");
      if (has_path == has_toml) return error("load: expected exactly one of \"path\" or \"toml\"");
      const auto& arg = has_path ? cmd["path"] : cmd["toml"];
      if (!arg.is_string()) return error(fmt::format("load: expected \"{}\" to be a string", has_path ? "path" : "toml"));
      try {
        Schedule s = has_path ? Schedule::load_file(arg.get<std::string>(), map_, disk_size_)
                              : Schedule::parse(arg.get<std::string>(), "<control>", map_, disk_size_);
        const std::size_t n = s.rules.size();
        engine_.load(std::move(s));
        return {{"ok", true}, {"rules", n}};
      } catch (const ScheduleError& e) {
        return error(e.what());
      }
    }
    return error(fmt::format("unknown command \"{}\" (expected phase, stats, die, load, clear)", name));
  } catch (const std::exception& e) {
    return error(fmt::format("internal error: {}", e.what()));
  }
}

}  // namespace fsfault::faults
