#include "cli/kernel_command.h"

#include "runner/kernel/kernel_build.h"
#include "runner/kernel/kernel_sample.h"
#include "runner/kernel/requirements.h"
#include "runner/vm_config.h"

#include "process/process.h"

#include <CLI/CLI.hpp>

#include <iostream>
#include <memory>

namespace fsfault::vm {

namespace {

void register_build(CLI::App& kernel) {
  auto req = std::make_shared<KernelBuildRequest>();
  req->fragments_dir = FSFAULT_SOURCE_DIR;
  auto* build = kernel.add_subcommand("build", "build a test kernel (Debian's kernel source or your tree), cached per machine");
  build->add_option("--source", req->source, "bookworm, trixie, sid (Debian's linux-source) or a kernel source tree")
      ->capture_default_str();
  build->add_flag("--fault-injection", req->fault_injection, "add the fault-injection fragment (failslab, fail_function)");
  build->add_option("--jobs,-j", req->jobs, "make -j (default: the number of CPUs)")->check(CLI::Range(1, 1024));
  build->add_option("--cache", req->cache_root, "cache directory (default: $XDG_CACHE_HOME/fsfault or ~/.cache/fsfault)");
  build->add_option("--name", req->name, "the --kernel name of the result (default: fi-SOURCE or min-SOURCE)");
  build->add_flag("--rebuild", req->rebuild, "build even when the cache holds this kernel (a tree without git changed)");
  build->callback([req] {
    if (req->cache_root.empty()) req->cache_root = machine_cache_root();
    proc::install_termination_handlers();
    try {
      BuiltKernel b = build_kernel(*req, std::cout);
      std::cout << b.dir << "\n";
    } catch (const std::exception& e) {
      std::cerr << "fsfault kernel build: " << e.what() << "\n";
      throw CLI::RuntimeError(2);
    }
  });
}

void register_sample(CLI::App& kernel) {
  struct Request {
    std::string name, source = "sid", cache_root;
  };
  auto req = std::make_shared<Request>();
  auto* sample = kernel.add_subcommand(
      "sample", "compile one of the kernel's sample programs (fs-monitor) from Debian's linux-source, cached per machine");
  sample->add_option("name", req->name, "the sample: fs-monitor (samples/fanotify/fs-monitor.c)")->required();
  sample->add_option("--source", req->source, "bookworm, trixie, sid: whose linux-source")->capture_default_str();
  sample->add_option("--cache", req->cache_root, "cache directory (default: $XDG_CACHE_HOME/fsfault or ~/.cache/fsfault)");
  sample->callback([req] {
    if (req->cache_root.empty()) req->cache_root = machine_cache_root();
    proc::install_termination_handlers();
    try {
      BuiltSample b = build_kernel_sample(req->name, req->source, req->cache_root, std::cerr);
      std::cout << b.path << "\n";
    } catch (const std::exception& e) {
      std::cerr << "fsfault kernel sample: " << e.what() << "\n";
      throw CLI::RuntimeError(2);
    }
  });
}

}  // namespace

void register_kernel_command(CLI::App& app) {
  auto* kernel = app.add_subcommand("kernel", "kernels for fsfault: the config options it needs, test kernels built");
  kernel->require_subcommand(1);
  register_build(*kernel);
  register_sample(*kernel);
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
