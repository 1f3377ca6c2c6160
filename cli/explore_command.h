// `fsfault explore` (runner/explore/, docs/explore.md).
#pragma once

namespace CLI {
class App;
}

namespace fsfault::vm::explore {
void register_explore(CLI::App& app);
}  // namespace fsfault::vm::explore

using fsfault::vm::explore::register_explore;
