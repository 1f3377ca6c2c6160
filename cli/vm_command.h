// `fsfault vm-test` and `fsfault repro`.
#pragma once

namespace CLI {
class App;
}

namespace fsfault::vm {
void register_vm_commands(CLI::App& app);
}  // namespace fsfault::vm

using fsfault::vm::register_vm_commands;
