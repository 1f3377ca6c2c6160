// fsfault-image: the image commands alone (the same ones `fsfault image` offers), for tests and
// for building images without the full front binary.
#include <CLI/CLI.hpp>

#include "images/image_command.h"

int main(int argc, char** argv) {
  CLI::App app{"fsfault image tools"};
  app.require_subcommand(1);
  register_image_commands(app);
  CLI11_PARSE(app, argc, argv);
  return 0;
}
