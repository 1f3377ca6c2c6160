#include "guest-tests/guest/run_steps.h"

#include "base/errno_names.h"
#include "guest-tests/guest/clock.h"
#include "guest-tests/guest/records.h"
#include "guest-tests/guest/step_table.h"
#include "guest-tests/guest/task_facts.h"

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <future>
#include <thread>

namespace fsfault::guest {

using json = nlohmann::json;

namespace {

// A step with `timeout_ms` (other than read-events and wait, whose own bound it is) runs on a
// thread of its own. When it has not returned within the bound, a "blocked" record says where
// the kernel holds it (wchan, stack, state): a reporter stuck in mempool_alloc() is named, not
// only seen as the scenario's timeout. The step is then waited for, since a task in D state
// cannot be interrupted; its record carries the same facts.
int run_with_bound(const StepKind& kind, const StepCall& call, long long bound_ms, const std::string& op) {
  std::promise<int> result;
  std::future<int> done = result.get_future();
  std::atomic<pid_t> tid{0};
  std::thread worker([&] {
    tid = gettid();
    result.set_value(kind.run(call));
  });
  if (done.wait_for(std::chrono::milliseconds(bound_ms)) == std::future_status::timeout) {
    json facts = task_facts(tid.load());
    facts["after_ms"] = bound_ms;
    call.out["blocked"] = facts;
    json b = facts;
    b["type"] = "blocked";
    b["id"] = call.id;
    b["do"] = op;
    record(b);
  }
  int err = done.get();
  worker.join();
  return err;
}

}  // namespace

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
  StepCall call{s, id, out, state};
  long long bound = kind.owns_timeout ? 0 : s.value("timeout_ms", 0LL);
  int err = bound > 0 ? run_with_bound(kind, call, bound, op) : kind.run(call);
  out["ms"] = now_ms() - t;
  out["end_ms"] = ms_since_start();  // an event's latency is measured from here (runner/judge)
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
