// {kernel-sample:NAME} argv elements: replaced by the machine's built sample, else a skip naming
// the command that builds it (runner/kernel/kernel_sample.h).
#include "runner/kernel/kernel_sample.h"

#include "runner/test_temp_dir.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <iostream>

using namespace fsfault::vm;

namespace {

Scenario monitor_scenario() {
  return parse_scenario_text(
      "name = \"p\"\nstep = [\n{ do = \"repeat\", times = 1, steps = [\n"
      "  { do = \"spawn\", name = \"mon\", root = \"host\", argv = [\"/usr/bin/stdbuf\", \"-oL\", "
      "\"{kernel-sample:fs-monitor}\", \"/mnt/d0\"] } ] },\n]\n",
      "p.toml");
}

const json& spawn_argv(const Scenario& s) { return s.steps[0]["steps"][0]["argv"]; }

}  // namespace

TEST(KernelSample, NotBuiltIsASkipNamingTheCommand) {
  fsfault::vm::testing::TempDir cache;
  Scenario s = monitor_scenario();
  EXPECT_EQ(expand_kernel_samples(s, cache.dir.string()),
            "kernel sample fs-monitor is not built: run `fsfault kernel sample fs-monitor`");
  EXPECT_EQ(spawn_argv(s)[2], "{kernel-sample:fs-monitor}");
}

TEST(KernelSample, BuiltIsItsHostPathInNestedSteps) {
  fsfault::vm::testing::TempDir cache;
  std::string built = cache.put("kernels/samples/sid/linux-source-7.2_7.2.13-1/fs-monitor", "ELF");
  std::filesystem::create_symlink("sid/linux-source-7.2_7.2.13-1/fs-monitor", cache.dir / "kernels/samples/fs-monitor");
  Scenario s = monitor_scenario();
  EXPECT_EQ(expand_kernel_samples(s, cache.dir.string()), std::nullopt);
  EXPECT_EQ(spawn_argv(s), json({"/usr/bin/stdbuf", "-oL", std::filesystem::canonical(built).string(), "/mnt/d0"}));
}

TEST(KernelSample, AnUnknownSampleIsNamed) {
  fsfault::vm::testing::TempDir cache;
  Scenario s = parse_scenario_text("name = \"p\"\nstep = [ { do = \"exec\", argv = [\"{kernel-sample:nope}\"] } ]\n", "p.toml");
  EXPECT_EQ(expand_kernel_samples(s, cache.dir.string()),
            "argv element {kernel-sample:nope}: no kernel sample of that name (known: fs-monitor)");
  EXPECT_THROW(build_kernel_sample("nope", "sid", cache.dir.string(), std::cerr), std::runtime_error);
}
