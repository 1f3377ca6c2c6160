// phase, repeat: steps about the run itself rather than the filesystem.
#include "guest-tests/guest/steps/step.h"

#include "guest-tests/guest/channel.h"
#include "guest-tests/guest/records.h"
#include "guest-tests/guest/run_steps.h"

#include <cerrno>

namespace fsfault::guest {

using json = nlohmann::json;

// Announces the phase and blocks until the host confirms its fault server switched to it.
int run_phase(const StepCall& c) {
  std::string name = c.spec.value("name", std::string());
  c.out["name"] = name;
  record(json{{"type", "phase"}, {"name", name}});
  auto reply = host_channel().recv(c.spec.value("timeout_ms", 60000));
  if (!reply) return ETIMEDOUT;
  if (!reply->value("ok", false)) {
    c.out["detail"] = reply->value("error", std::string("host refused the phase"));
    return EPROTO;
  }
  return 0;
}

// Runs `steps` `times` times with ids <id>#<i>/<n>; records nothing itself.
int run_repeat(const StepCall& c) {
  int times = c.spec.value("times", 1);
  for (int i = 0; i < times && !c.state.stop; ++i)
    run_steps(c.spec.value("steps", json::array()), c.id + "#" + std::to_string(i) + "/", c.state);
  return 0;
}

}  // namespace fsfault::guest
