#include "runner/kernel/kernel_config.h"

#include "base/files.h"
#include "process/process.h"
#include "runner/test_temp_dir.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <filesystem>

using namespace fsfault::vm;
namespace fs = std::filesystem;

namespace {

const char* kConfig =
    "#\n# Automatically generated file; DO NOT EDIT.\n#\n"
    "CONFIG_FANOTIFY=y\nCONFIG_XFS_FS=m\n# CONFIG_FAILSLAB is not set\n"
    "CONFIG_LOCALVERSION=\"-test\"\nCONFIG_LOG_BUF_SHIFT=17\n\n";

// `bytes` compressed by the real tool (gzip -n, xz, zstd): how a kernel build packs its payloads.
std::string compress(const std::string& tool, const std::string& bytes) {
  fsfault::vm::testing::TempDir d;
  auto in = d.put("in", bytes);
  auto r = fsfault::proc::run_process({"sh", "-c", tool + " -c < '" + in + "'"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  return r.out;
}

std::string ikcfg_blob(const std::string& config) {
  return "IKCFG_ST" + compress("gzip -n", config) + "IKCFG_ED";
}

}  // namespace

TEST(KernelConfig, ParsesValuesAndUnsetLines) {
  auto c = KernelConfig::parse(kConfig, "t/.config");
  EXPECT_TRUE(c.builtin("CONFIG_FANOTIFY"));
  EXPECT_FALSE(c.builtin("CONFIG_XFS_FS"));
  EXPECT_TRUE(c.enabled("CONFIG_XFS_FS"));
  EXPECT_FALSE(c.enabled("CONFIG_FAILSLAB"));
  EXPECT_EQ(c.value("CONFIG_LOCALVERSION"), "\"-test\"");
  EXPECT_EQ(c.value("CONFIG_NOPE"), std::nullopt);
  EXPECT_EQ(c.size(), 4u);
  EXPECT_EQ(c.origin(), "t/.config");
}

TEST(KernelConfig, MalformedLinesNameFileLineAndColumn) {
  auto error_of = [](const std::string& text) {
    try {
      KernelConfig::parse(text, "k/.config");
    } catch (const std::runtime_error& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  EXPECT_EQ(error_of("CONFIG_A=y\nFOO=y\n").rfind("k/.config:2:1: ", 0), 0u) << error_of("CONFIG_A=y\nFOO=y\n");
  EXPECT_EQ(error_of("CONFIG_A y\n").rfind("k/.config:1:9: ", 0), 0u) << error_of("CONFIG_A y\n");
  EXPECT_EQ(error_of("CONFIG_A=\n").rfind("k/.config:1:10: ", 0), 0u) << error_of("CONFIG_A=\n");
}

TEST(KernelConfig, RequirementsNameTheOptionAndWhoNeedsIt) {
  auto c = KernelConfig::parse(kConfig, "t/.config");
  auto reqs = parse_config_fragment("# fsfault\nCONFIG_FANOTIFY=y\nCONFIG_XFS_FS=m\nCONFIG_FAILSLAB=y\n",
                                    "guest-tests/config", "fsfault");
  ASSERT_EQ(reqs.size(), 3u);
  EXPECT_TRUE(reqs[1].module_ok);
  auto unmet = unmet_requirements(c, reqs);
  ASSERT_EQ(unmet.size(), 1u);
  EXPECT_EQ(unmet[0], "kernel lacks CONFIG_FAILSLAB (needed by fsfault)");
  // A module where the fragment wants it built in.
  auto strict = parse_config_fragment("CONFIG_XFS_FS=y\n", "f", "xfs scenarios");
  EXPECT_EQ(unmet_requirements(c, strict),
            std::vector<std::string>{"kernel lacks CONFIG_XFS_FS built in (it is a module) (needed by xfs scenarios)"});
  EXPECT_THROW(parse_config_fragment("CONFIG_X=n\n", "f", "x"), std::runtime_error);
  EXPECT_THROW(parse_config_fragment("X=y\n", "f", "x"), std::runtime_error);
}

TEST(KernelConfig, IkconfigInARawImage) {
  std::string image = std::string(4096, '\xAA') + ikcfg_blob(kConfig) + std::string(100, '\0');
  auto text = extract_ikconfig(image);
  ASSERT_TRUE(text);
  EXPECT_EQ(*text, kConfig);
  EXPECT_FALSE(extract_ikconfig(std::string(8192, 'x')));
}

// vmlinux holding the gzip'd config between the markers, as kernel/configs.c leaves it.
std::string fake_vmlinux() { return std::string(1 << 16, '\x90') + ikcfg_blob(kConfig) + std::string(1 << 12, '\xcc'); }

void put_le32(std::string& s, std::size_t at, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) s[at + i] = static_cast<char>(v >> (8 * i));
}

// A bzImage's layout (Documentation/arch/x86/boot.rst): setup sectors, then the protected-mode code
// with the compressed vmlinux at payload_offset, followed by unrelated bytes.
std::string fake_bzimage(const std::string& payload) {
  const std::size_t setup_sects = 3, pm_start = (setup_sects + 1) * 512, offset = 0x300;
  std::string image(pm_start + offset, '\0');
  image[0x1f1] = static_cast<char>(setup_sects);
  image.replace(0x202, 4, "HdrS");
  put_le32(image, 0x248, offset);
  put_le32(image, 0x24c, static_cast<std::uint32_t>(payload.size()));
  return image + payload + std::string(4096, '\x5a');
}

// scripts/extract-ikconfig's way: a compressed stream somewhere in the file, bytes after it.
TEST(KernelConfig, IkconfigInsideACompressedStream) {
  for (const char* tool : {"gzip -n", "xz"}) {
    std::string image = std::string(9000, '\x01') + compress(tool, fake_vmlinux()) + std::string(64, '\0');
    auto text = extract_ikconfig(image);
    ASSERT_TRUE(text) << tool;
    EXPECT_EQ(*text, kConfig) << tool;
  }
}

// The setup header delimits the payload exactly, which zstd needs (libarchive refuses a zstd
// stream followed by other bytes).
TEST(KernelConfig, IkconfigInsideABzImagePayload) {
  for (const char* tool : {"gzip -n", "xz", "zstd -q"}) {
    auto text = extract_ikconfig(fake_bzimage(compress(tool, fake_vmlinux())));
    ASSERT_TRUE(text) << tool;
    EXPECT_EQ(*text, kConfig) << tool;
  }
  EXPECT_FALSE(extract_ikconfig(fake_bzimage(compress("zstd -q", std::string(1 << 16, 'v')))));
}

TEST(KernelConfig, FoundInATreeBesideAnImageOrInsideIt) {
  fsfault::vm::testing::TempDir d;
  d.put("tree/.config", "CONFIG_FANOTIFY=y\n");
  d.put("tree/arch/x86/boot/bzImage", "not really");
  auto tree = find_kernel_config((d.dir / "tree/arch/x86/boot/bzImage").string(), (d.dir / "tree").string(), "");
  ASSERT_TRUE(tree);
  EXPECT_EQ(tree->origin(), (d.dir / "tree/.config").string());

  d.put("boot/vmlinuz-6.1.0-9-cloud-amd64", "not really");
  d.put("boot/config-6.1.0-9-cloud-amd64", "CONFIG_EXT4_FS=y\n");
  auto debian = find_kernel_config((d.dir / "boot/vmlinuz-6.1.0-9-cloud-amd64").string(), "", "6.1.0-9-cloud-amd64");
  ASSERT_TRUE(debian);
  EXPECT_TRUE(debian->builtin("CONFIG_EXT4_FS"));

  d.put("split/7.2.13+deb14-cloud-amd64/vmlinuz", "not really");
  d.put("split/7.2.13+deb14-cloud-amd64/config", "CONFIG_XFS_FS=m\n");
  auto split = find_kernel_config((d.dir / "split/7.2.13+deb14-cloud-amd64/vmlinuz").string(), "", "7.2.13+deb14-cloud-amd64");
  ASSERT_TRUE(split);
  EXPECT_TRUE(split->enabled("CONFIG_XFS_FS"));

  d.put("ik/bzImage", std::string(512, '\0') + ikcfg_blob("CONFIG_IKCONFIG=y\n"));
  auto ik = find_kernel_config((d.dir / "ik/bzImage").string(), "", "");
  ASSERT_TRUE(ik);
  EXPECT_EQ(ik->origin(), "IKCONFIG of " + (d.dir / "ik/bzImage").string());

  d.put("none/bzImage", std::string(4096, 'z'));
  EXPECT_FALSE(find_kernel_config((d.dir / "none/bzImage").string(), "", ""));
}
