// What the kernel says about a task that does not come back: where it sleeps (/proc/PID/wchan),
// its kernel stack (/proc/PID/stack, CONFIG_STACKTRACE, root only) and its state letter
// (/proc/PID/stat: D = uninterruptible, immune to SIGKILL). Works for a thread id too.
#pragma once

#include <sys/types.h>

#include <nlohmann/json.hpp>

namespace fsfault::guest {

// {"wchan": "...", "state": "D", "stack": "..."}; a fact the kernel does not offer is left out.
nlohmann::json task_facts(pid_t tid);

}  // namespace fsfault::guest
