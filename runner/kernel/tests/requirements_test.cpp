#include "runner/kernel/requirements.h"

#include "base/files.h"
#include "runner/kernel/tests/cached_kernels.h"
#include "runner/vm_config.h"

#include <gtest/gtest.h>

#include <filesystem>

using namespace fsfault::vm;

namespace {

Scenario scenario(const std::string& text) { return parse_scenario_text(text, "s.toml"); }

std::vector<std::string> options(const std::vector<ConfigRequirement>& reqs) {
  std::vector<std::string> out;
  for (const auto& r : reqs) out.push_back(r.option + "<-" + r.needed_by);
  return out;
}

}  // namespace

TEST(KernelRequirements, FilesystemOptionsOnlyForScenariosThatMountThem) {
  auto fragment = parse_config_fragment("CONFIG_FANOTIFY=y\nCONFIG_PROC_FS=y\nCONFIG_EXT4_FS=m\nCONFIG_XFS_FS=m\n",
                                        "guest-tests/config", "fsfault");
  auto ext4 = scenario("name = \"ext4/a\"\n[[disk]]\nimage = \"ext4-basic\"\n");
  auto xfs = scenario("name = \"xfs/b\"\n[[disk]]\nimage = \"xfs-basic\"\nmount = { fs = \"xfs\" }\n");
  EXPECT_EQ(options(catalogue_requirements(fragment, {ext4})),
            (std::vector<std::string>{"CONFIG_FANOTIFY<-fsfault", "CONFIG_PROC_FS<-fsfault", "CONFIG_EXT4_FS<-ext4/a"}));
  EXPECT_EQ(options(catalogue_requirements(fragment, {ext4, xfs})).back(), "CONFIG_XFS_FS<-xfs/b");
  // What a kernel without fanotify hears, before any boot.
  auto nofan = KernelConfig::parse("CONFIG_EXT4_FS=y\nCONFIG_PROC_FS=y\n# CONFIG_FANOTIFY is not set\n", "k/.config");
  EXPECT_EQ(unmet_requirements(nofan, catalogue_requirements(fragment, {ext4})),
            std::vector<std::string>{"kernel lacks CONFIG_FANOTIFY (needed by fsfault)"});
}

TEST(KernelRequirements, ScenarioConfigGate) {
  auto s = scenario("name = \"fi/a\"\nrequires = [\"CONFIG_FAILSLAB\", \"CONFIG_FAULT_INJECTION\"]\n");
  ASSERT_EQ(s.config.size(), 2u);
  auto debian = KernelConfig::parse("CONFIG_FANOTIFY=y\n# CONFIG_FAILSLAB is not set\n", "config-6.1");
  EXPECT_EQ(config_gate(s, debian), "kernel lacks CONFIG_FAILSLAB, CONFIG_FAULT_INJECTION");
  auto fi = KernelConfig::parse("CONFIG_FAILSLAB=y\nCONFIG_FAULT_INJECTION=y\n", "fi/.config");
  EXPECT_EQ(config_gate(s, fi), std::nullopt);
  EXPECT_EQ(config_gate(s, std::nullopt), "kernel config unknown, needs CONFIG_FAILSLAB, CONFIG_FAULT_INJECTION");
  EXPECT_EQ(config_gate(scenario("name = \"plain\"\n"), std::nullopt), std::nullopt);
  // A scenario with a host share needs virtio-fs on FUSE, without saying so.
  Scenario shared = scenario("name = \"share\"\nstep = [ { do = \"exec\", root = \"host\", argv = [\"/bin/true\"] } ]\n");
  EXPECT_EQ(config_gate(shared, debian), "kernel lacks CONFIG_FUSE_FS, CONFIG_VIRTIO_FS");
  EXPECT_EQ(config_gate(shared, KernelConfig::parse("CONFIG_FUSE_FS=m\nCONFIG_VIRTIO_FS=m\n", "c")), std::nullopt);
  EXPECT_THROW(scenario("name = \"x\"\nrequires = [\"FAILSLAB\"]\n"), std::runtime_error);
  EXPECT_THROW(scenario("name = \"x\"\nconfig = [\"CONFIG_FAILSLAB\"]\n"), std::runtime_error);  // the old name
  EXPECT_THROW(scenario("name = \"x\"\nconfig = \"CONFIG_FAILSLAB\"\n"), std::runtime_error);
}

// The shipped fragments parse, and every Debian cloud kernel in the cache meets the base one (the
// configs the VM tests download; skipped when none is there yet).
TEST(KernelRequirements, ShippedFragmentsParse) {
  auto base = parse_config_fragment(fragment_text(FSFAULT_SOURCE_DIR, false), "guest-tests/config", "fsfault");
  auto fi = parse_config_fragment(fragment_text(FSFAULT_SOURCE_DIR, true), "guest-tests/config*", "fsfault");
  EXPECT_GE(base.size(), 10u);
  EXPECT_GT(fi.size(), base.size());
  bool has_failslab = false;
  for (const auto& r : fi) has_failslab |= r.option == "CONFIG_FAILSLAB";
  EXPECT_TRUE(has_failslab);

  int checked = 0;
  std::error_code ec;
  for (auto it = std::filesystem::recursive_directory_iterator(FSFAULT_KERNELS_DIR, ec);
       !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
    const std::string p = it->path().string();
    // Debian's layouts: boot/config-RELEASE (up to 6.12), usr/lib/modules/RELEASE/config (7.x).
    bool debian_config = p.find("/boot/config-") != std::string::npos ||
                         (p.find("/lib/modules/") != std::string::npos && it->path().filename() == "config");
    if (!debian_config || !it->is_regular_file()) continue;
    auto c = KernelConfig::parse(fsfault::base::read_file(p), p);
    EXPECT_EQ(unmet_requirements(c, base), std::vector<std::string>{}) << p;
    ++checked;
  }
  if (checked == 0) {
    const std::string why = std::string("no Debian kernel in ") + FSFAULT_KERNELS_DIR + " yet (the VM tests fetch them)";
    if (fsfault::vm::testing::cached_kernels_required()) FAIL() << why;
    GTEST_SKIP() << why;
  }
}
