#include "cli/explore_command.h"

#include "runner/explore/campaign.h"

#include <CLI/CLI.hpp>

#include <memory>

namespace fsfault::vm::explore {

namespace {

void add_run_options(CLI::App* c, CatalogueOptions& o) {
  c->add_option("--kernel", o.kernel, "bookworm (default), trixie, sid, or a bzImage path");
  c->add_option("--modules", o.modules, "modules tree for --kernel PATH");
  c->add_option("--accel", o.accel, "auto (probe KVM, else TCG), kvm or tcg")
      ->check(CLI::IsMember({"auto", "kvm", "tcg"}));
  c->add_option("--timeout", o.timeout_s, "per-trial timeout in seconds")->check(CLI::PositiveNumber);
  c->add_option("--jobs,-j", o.jobs, "parallel VMs")->check(CLI::PositiveNumber);
  c->add_option("--nbd-server", o.nbd_server, "fsfault-nbd binary (default: next to fsfault)");
  c->add_option("--cache", o.cache, "cache directory for kernels and images (default: the build directory)");
  c->add_option("--mem", o.mem_mb, "guest memory in MiB");
  c->add_option("--recipes", o.recipe_dirs, "a folder of image recipes (repeatable)")->check(CLI::ExistingDirectory);
}

}  // namespace

void register_explore(CLI::App& app) {
  auto o = std::make_shared<CampaignOptions>();
  o->run.timeout_s = 120;
  auto* ex = app.add_subcommand("explore", "search for faults whose errors are not reported; minimize what it finds");
  add_run_options(ex, o->run);
  ex->add_option("--image", o->image, "a recipe name (ext4-basic), a recipe file (*.toml) or a raw image")->required();
  ex->add_option("--targets", o->targets, "globs over the image's targets: 'block-bitmap:*' 'inode:/data/*'")
      ->required();
  ex->add_option("--actions", o->actions, "fail, zero, fill, flip (default all)")->delimiter(',');
  ex->add_option("--workload", o->workloads, "walk, read, create, write-fsync, rm-sync, remount (default all)");
  auto* n = ex->add_option("--trials", o->trials, "trials to run (default 100)")->check(CLI::PositiveNumber);
  ex->add_option("--minutes", o->minutes, "run for M minutes instead")->check(CLI::PositiveNumber)->excludes(n);
  ex->add_option("--seed", o->seed, "the campaign's seed: the same seed draws the same trials");
  ex->add_option("--repeats", o->repeats, "runs of each minimization candidate (all must reproduce)")
      ->check(CLI::PositiveNumber);
  ex->add_option("--minimize", o->max_minimized, "findings to minimize, most-hit first (default 4)");
  ex->add_option("--mount-options", o->mount_options, "mount options of the disk (default: errors=continue on ext4, none on xfs)");
  ex->add_option("--control-disk", o->control_image,
                 "a second, unfaulted disk (another image than --image): no event may arrive on it");
  ex->add_option("--catalogue", o->catalogue, "scenarios whose known gaps are recognised (default the catalogue)")
      ->check(CLI::ExistingDirectory);
  ex->add_option("--max-latency-ms", o->bounds.max_latency_ms,
                 "bound on an event's latency from its step and from its fault (default 5000)")
      ->check(CLI::PositiveNumber);
  ex->add_option("--replay", o->replay, "run only trial N of the seed");
  ex->add_option("--out", o->out, "the campaign's directory: trials, runs, findings")->required();
  ex->callback([o] {
    if (int rc = run_campaign(*o)) throw CLI::RuntimeError(rc);
  });
}

}  // namespace fsfault::vm::explore
