// spawn, stop, wait: programs that run beside the following steps (a listener, a process kept in
// error while others proceed). Output is collected continuously from the start, so stopping a
// program loses none of it; a program that does not end within wait's bound is reported with
// where it sleeps (task_facts.h) and then stopped, so the scenario goes on.
#include "guest-tests/guest/steps/step.h"

#include "guest-tests/guest/child_process.h"
#include "guest-tests/guest/clock.h"
#include "guest-tests/guest/output_collector.h"
#include "guest-tests/guest/records.h"
#include "guest-tests/guest/task_facts.h"

#include <signal.h>

#include <cerrno>

namespace fsfault::guest {

struct BackgroundProgram {
  std::string name;
  pid_t pid = -1;
  long long started_ms = 0;
  std::unique_ptr<OutputCollector> output;
};

namespace {

// The program's end as facts: exit (128+signal), output, how long it ran.
void record_end(BackgroundProgram& p, int wait_status, nlohmann::json& out) {
  out["name"] = p.name;
  out["exit"] = exit_code(wait_status);
  out["ran_ms"] = now_ms() - p.started_ms;
  if (!p.output) return;
  bool complete = false;
  out["output"] = p.output->take(500, complete);
  if (!complete) out["output_held_open"] = true;
  if (p.output->dropped()) out["output_dropped_bytes"] = p.output->dropped();
}

// SIGTERM to the program's process group, SIGKILL after grace_ms; the wait status.
int end_program(BackgroundProgram& p, long long grace_ms) {
  kill(-p.pid, SIGTERM);
  if (auto st = wait_child(p.pid, grace_ms)) return *st;
  kill(-p.pid, SIGKILL);
  return wait_child(p.pid, -1).value_or(128 + SIGKILL);
}

std::shared_ptr<BackgroundProgram> take_program(const StepCall& c) {
  auto it = c.state.background.find(c.spec.value("name", std::string()));
  if (it == c.state.background.end()) return nullptr;
  auto p = it->second;
  c.state.background.erase(it);
  return p;
}

}  // namespace

int run_spawn(const StepCall& c) {
  std::string name = c.spec.value("name", std::string());
  if (name.empty() || c.state.background.count(name)) {
    c.out["detail"] = name.empty() ? "spawn needs a name" : "a program named " + name + " is running";
    return EINVAL;
  }
  StartedChild child = start_child(c.spec, true);
  if (child.error) return child.error;
  auto p = std::make_shared<BackgroundProgram>();
  p->name = name;
  p->pid = child.pid;
  p->started_ms = now_ms();
  if (child.output_fd >= 0) p->output = std::make_unique<OutputCollector>(child.output_fd);
  c.state.background[name] = p;
  c.out["name"] = name;
  c.out["pid"] = child.pid;
  return 0;
}

int run_stop(const StepCall& c) {
  auto p = take_program(c);
  if (!p) return ESRCH;
  record_end(*p, end_program(*p, c.spec.value("grace_ms", 1000)), c.out);
  return 0;
}

// wait: until the program exits, at most timeout_ms (default 30 s); past it, where the program
// sleeps is recorded and it is stopped (errno ETIMEDOUT).
int run_wait(const StepCall& c) {
  auto p = take_program(c);
  if (!p) return ESRCH;
  if (auto st = wait_child(p->pid, c.spec.value("timeout_ms", 30000))) {
    record_end(*p, *st, c.out);
    return 0;
  }
  c.out["timed_out"] = true;
  c.out["blocked"] = task_facts(p->pid);
  record_end(*p, end_program(*p, 1000), c.out);
  return ETIMEDOUT;
}

void stop_background_programs(RunState& state) {
  for (auto& [name, p] : state.background) {
    nlohmann::json out{{"type", "background"}, {"stopped_at_end", true}};
    record_end(*p, end_program(*p, 1000), out);
    record(out);
  }
  state.background.clear();
}

}  // namespace fsfault::guest
