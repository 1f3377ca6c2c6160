#include "guest-tests/guest/run_steps.h"

#include "base/errno_names.h"
#include "guest-tests/guest/clock.h"
#include "guest-tests/guest/records.h"
#include "guest-tests/guest/step_table.h"

namespace fsfault::guest {

using json = nlohmann::json;

void run_step(const json& s, const std::string& id, RunState& state) {
  std::string op = s.value("do", std::string());
  const StepKind& kind = step_kind(op);
  json out{{"type", "step"}, {"id", id}, {"do", op}};
  if (!kind.records) {
    kind.run(StepCall{s, id, out, state});
    return;
  }
  if (s.contains("path")) out["path"] = s["path"];
  if (s.contains("disk")) out["disk"] = s["disk"];
  // A scenario names a step it wants to judge (`label = "before"`): the
  // positional id shifts with implicit mounts and edits, the label does not.
  if (s.contains("label")) out["label"] = s["label"];
  if (s.value("implicit", false)) out["implicit"] = true;
  long long t = now_ms();
  int err = kind.run(StepCall{s, id, out, state});
  out["ms"] = now_ms() - t;
  out["errno"] = err;
  out["errno_name"] = fsfault::base::errno_name(err);
  out["ok"] = err == 0;
  record(out);
  if (err && s.value("stop_on_error", false)) state.stop = true;
}

void run_steps(const json& steps, const std::string& prefix, RunState& state) {
  int i = 0;
  for (auto& s : steps) {
    if (state.stop) return;
    run_step(s, prefix + std::to_string(i++), state);
  }
}

}  // namespace fsfault::guest
