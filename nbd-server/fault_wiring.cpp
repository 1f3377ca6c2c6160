#include "nbd-server/fault_wiring.h"

#include <optional>
#include <stdexcept>
#include <vector>

#include "faults/control.h"
#include "faults/fault_engine.h"
#include "faults/fault_log.h"
#include "faults/schedule.h"
#include "faults/target_map.h"
#include "nbd-server/fault_filter.h"
#include "nbd-server/log.h"

namespace fsfault::nbd {

namespace {
struct ExportFaults {
  std::string name;
  std::uint64_t size = 0;
  std::optional<faults::TargetMap> map;
  std::shared_ptr<faults::FaultEngine> engine;
  std::unique_ptr<faults::ControlCommands> control;
};
}  // namespace

struct FaultWiring::Impl {
  std::vector<std::unique_ptr<ExportFaults>> exports;
  std::shared_ptr<faults::FaultLog> log;
};

FaultWiring::FaultWiring() : impl_(std::make_unique<Impl>()) {}
FaultWiring::~FaultWiring() = default;

std::shared_ptr<BlockDevice> FaultWiring::wrap(const std::string& export_name,
                                               std::shared_ptr<BlockDevice> store,
                                               const std::string& map_path) {
  auto x = std::make_unique<ExportFaults>();
  x->name = export_name;
  x->size = store->size();
  if (!map_path.empty()) x->map = faults::TargetMap::load_file(map_path);
  x->engine = std::make_shared<faults::FaultEngine>();
  x->control = std::make_unique<faults::ControlCommands>(*x->engine, x->map ? &*x->map : nullptr,
                                                         x->size);
  auto filter = std::make_shared<FaultFilter>(std::move(store), x->engine);
  impl_->exports.push_back(std::move(x));
  return filter;
}

void FaultWiring::configure(const std::string& schedule_path, const std::string& fault_log_path) {
  if (!fault_log_path.empty()) {
    impl_->log = faults::FaultLog::open_file(fault_log_path);
    for (auto& x : impl_->exports) x->engine->set_log(impl_->log);
  }
  if (schedule_path.empty()) return;
  // Each export gets the schedule resolved against its own map and size, so a
  // target or an out-of-range sector is caught per disk at load time.
  for (auto& x : impl_->exports) {
    auto schedule =
        faults::Schedule::load_file(schedule_path, x->map ? &*x->map : nullptr, x->size);
    log::info("export '{}': {} fault rule(s), seed {}", x->name, schedule.rules.size(),
              schedule.seed);
    x->engine->load(std::move(schedule));
  }
}

namespace {
// A reply may quote the client's bytes (a JSON parse error's "last read"),
// which need not be UTF-8: strict dump() would throw out of the control
// thread and terminate the server (found by SecurityTest.ControlSocketRefusesGarbageAndSurvives).
std::string reply_line(const nlohmann::json& reply) {
  return reply.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}
}  // namespace

ControlHandler FaultWiring::control_handler() {
  Impl* impl = impl_.get();
  return [impl](const std::string& line) -> std::string {
    if (impl->exports.size() == 1) {
      return reply_line(impl->exports.front()->control->handle_line(line));
    }
    nlohmann::json cmd = nlohmann::json::parse(line, nullptr, false);
    if (cmd.is_object() && cmd.value("cmd", "") == "stats") {
      nlohmann::json all = {{"ok", true}, {"exports", nlohmann::json::object()}};
      for (auto& x : impl->exports) all["exports"][x->name] = x->control->handle(cmd);
      return reply_line(all);
    }
    // Every other command applies to every export; the first failure wins.
    nlohmann::json answer;
    for (auto& x : impl->exports) {
      nlohmann::json r = x->control->handle_line(line);
      if (answer.is_null() || !r.value("ok", false)) answer = r;
      if (!r.value("ok", false)) break;
    }
    return reply_line(answer);
  };
}

}  // namespace fsfault::nbd
