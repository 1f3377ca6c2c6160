#include "runner/kernel/debian_kernel.h"

#include <gtest/gtest.h>

using namespace fsfault::vm;

TEST(DebianKernel, MirrorFromDeb822AndOneLine) {
  std::string d822 =
      "Types: deb\n# comment\nURIs: http://deb.debian.org/debian-security\nSuites: bookworm-security\n\n"
      "Types: deb deb-src\nURIs: http://mirror.example/debian\nSuites: bookworm\nComponents: main\n";
  EXPECT_EQ(mirror_from_texts({d822}, ""), "http://mirror.example/debian");
  EXPECT_EQ(mirror_from_texts({}, "# x\ndeb [arch=amd64 signed-by=/k.gpg] http://m.example/debian bookworm main\n"),
            "http://m.example/debian");
  EXPECT_EQ(mirror_from_texts({}, ""), "");
}

TEST(DebianKernel, PackagesBeforeAndAfterTheSplit) {
  // bookworm 6.1: one package carries vmlinuz and the modules.
  EXPECT_EQ(kernel_packages("linux-image-6.1.0-50-cloud-amd64",
                            "kmod, linux-base (>= 4.3~), initramfs-tools (>= 0.120+deb8u2) | linux-initramfs-tool"),
            (std::vector<std::string>{"linux-image-6.1.0-50-cloud-amd64"}));
  // sid 7.x: linux-image-ABI is a stub; vmlinuz, modules and modules.builtin live in siblings.
  EXPECT_EQ(kernel_packages("linux-image-7.2.13+deb14-cloud-amd64",
                            "dracut | initramfs-tools (>= 0.120+deb8u2) | linux-initramfs-tool, "
                            "linux-base-7.2.13+deb14-cloud-amd64 (= 7.2.13-1), "
                            "linux-binary-7.2.13+deb14-cloud-amd64 (= 7.2.13-1), "
                            "linux-modules-7.2.13+deb14-cloud-amd64 (= 7.2.13-1)"),
            (std::vector<std::string>{"linux-image-7.2.13+deb14-cloud-amd64", "linux-base-7.2.13+deb14-cloud-amd64",
                                      "linux-binary-7.2.13+deb14-cloud-amd64",
                                      "linux-modules-7.2.13+deb14-cloud-amd64"}));
}

TEST(DebianKernel, ControlField) {
  std::string stanza = "Package: linux-image-x\nVersion: 7.2.13-1\nDepends: a, b (= 1)\nDescription: d\n";
  EXPECT_EQ(control_field(stanza, "Version"), "7.2.13-1");
  EXPECT_EQ(control_field(stanza, "Depends"), "a, b (= 1)");
  EXPECT_EQ(control_field(stanza, "Pre-Depends"), "");
}
