#include "cli/kernel_command.h"

#include "runner/kernel/requirements.h"
#include "runner/vm_config.h"

#include <CLI/CLI.hpp>

#include <iostream>
#include <memory>

namespace fsfault::vm {

void register_kernel_command(CLI::App& app) {
  auto* kernel = app.add_subcommand("kernel", "kernels for fsfault: the config options it needs");
  kernel->require_subcommand(1);
  auto fault_injection = std::make_shared<bool>(false);
  auto* config = kernel->add_subcommand(
      "config", "print the kernel config fragment fsfault needs (merge it with scripts/kconfig/merge_config.sh)");
  config->add_flag("--fault-injection", *fault_injection, "add the fault-injection options (failslab, fail_function, ...)");
  config->callback([fault_injection] {
    try {
      std::cout << fragment_text(FSFAULT_SOURCE_DIR, *fault_injection);
    } catch (const std::exception& e) {
      std::cerr << "fsfault kernel config: " << e.what() << "\n";
      throw CLI::RuntimeError(2);
    }
  });
}

}  // namespace fsfault::vm
