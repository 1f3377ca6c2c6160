// `fsfault image build RECIPE --out DIR` and `fsfault image targets MAP.json`.
#pragma once

#include <CLI/CLI.hpp>

// Adds the `image` subcommand (with `build` and `targets`) to the front binary. Failures are
// reported on stderr and surface as CLI::RuntimeError(1), which CLI11's app.exit() turns into
// exit status 1.
void register_image_commands(CLI::App& app);
