#include "guest-tests/guest/task_facts.h"

#include "guest-tests/guest/small_files.h"

#include <string>

namespace fsfault::guest {

nlohmann::json task_facts(pid_t tid) {
  const std::string dir = "/proc/" + std::to_string(tid);
  nlohmann::json j = nlohmann::json::object();
  if (auto w = read_whole_file(dir + "/wchan"); w && !w->empty()) j["wchan"] = *w;
  if (auto s = read_whole_file(dir + "/stack"); s && !s->empty()) j["stack"] = *s;
  if (auto st = read_whole_file(dir + "/stat")) {
    // "pid (comm) S ...": the state follows the last ')' (comm may hold anything).
    auto p = st->rfind(')');
    if (p != std::string::npos && p + 2 < st->size()) j["state"] = std::string(1, (*st)[p + 2]);
  }
  return j;
}

}  // namespace fsfault::guest
