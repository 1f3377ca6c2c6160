// The `fsfault` front binary: each part registers its subcommands.
#include "cli/explore_command.h"
#include "cli/kernel_command.h"
#include "cli/vm_command.h"
#include "images/image_command.h"
#include "nbd-server/ctl_command.h"
#include "runner/report/matrix.h"

#include <CLI/CLI.hpp>

int main(int argc, char** argv) {
  CLI::App app{"fsfault: fault-injecting NBD disks and filesystem error-reporting tests"};
  app.require_subcommand(1);
  register_vm_commands(app);
  register_explore(app);
  fsfault::vm::register_kernel_command(app);
  fsfault::vm::register_matrix_command(app);
  register_image_commands(app);
  fsfault::nbd::register_ctl_command(app);
  CLI11_PARSE(app, argc, argv);
  return 0;
}
