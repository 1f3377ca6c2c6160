// The `fsfault` front binary: subcommands registered by each part.
#include "guest-tests/runner/matrix.h"
#include "guest-tests/vm_command.h"
#include "guest-tests/vm_config.h"

#if FSFAULT_HAVE_IMAGES
#include "images/image_command.h"
#endif
#if FSFAULT_HAVE_CTL
#include "nbd-server/ctl_command.h"
#endif

#include <CLI/CLI.hpp>

int main(int argc, char** argv) {
  CLI::App app{"fsfault: fault-injecting NBD disks and filesystem error-reporting tests"};
  app.require_subcommand(1);
  register_vm_commands(app);
  fsfault::vm::register_matrix_command(app);
#if FSFAULT_HAVE_IMAGES
  register_image_commands(app);
#endif
#if FSFAULT_HAVE_CTL
  fsfault::nbd::register_ctl_command(app);
#endif
  CLI11_PARSE(app, argc, argv);
  return 0;
}
