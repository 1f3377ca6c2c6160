// `fsfault kernel config [--fault-injection]`: the kernel options fsfault needs, as a fragment.
#pragma once

namespace CLI {
class App;
}

namespace fsfault::vm {
void register_kernel_command(CLI::App& app);
}  // namespace fsfault::vm
