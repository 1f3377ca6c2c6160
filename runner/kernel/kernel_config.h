// A kernel's build configuration, found without booting it, and checked against what fsfault and
// the selected scenarios need before the first boot.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace fsfault::vm {

// A .config as Kconfig writes it: `CONFIG_X=y`, `=m`, `="string"`, `=123`, `=0x1f`, and
// `# CONFIG_X is not set`. Other comment lines and blank lines are ignored.
class KernelConfig {
 public:
  // Throws std::runtime_error "ORIGIN:LINE:COL: ..." on a line that is neither a comment nor an
  // assignment. `origin` says where the text came from (a path, "IKCONFIG of PATH").
  static KernelConfig parse(std::string_view text, const std::string& origin);

  // "y", "m", "\"text\"", "123"; nullopt when the option is unset or absent.
  std::optional<std::string> value(std::string_view option) const;
  bool builtin(std::string_view option) const { return value(option) == "y"; }
  bool enabled(std::string_view option) const;  // y or m
  const std::string& origin() const { return origin_; }
  std::size_t size() const { return values_.size(); }

 private:
  std::string origin_;
  std::map<std::string, std::string, std::less<>> values_;
};

// One option a kernel must have: `CONFIG_X=y` (built in) or `CONFIG_X=m` (a module will do).
struct ConfigRequirement {
  std::string option;     // "CONFIG_FANOTIFY"
  bool module_ok = false;  // =m in the fragment
  std::string needed_by;  // "fsfault", "xfs scenarios", a scenario name
};

// A kselftest-style fragment: one `CONFIG_X=y` or `CONFIG_X=m` per line, `#` comments. Throws
// "ORIGIN:LINE:COL: ..." on anything else.
std::vector<ConfigRequirement> parse_config_fragment(std::string_view text, const std::string& origin,
                                                     const std::string& needed_by);

// "kernel lacks CONFIG_X (needed by fsfault)" for every requirement `config` does not meet; a
// module where built-in is required says so. Empty when all are met.
std::vector<std::string> unmet_requirements(const KernelConfig& config, const std::vector<ConfigRequirement>& reqs);

// The configuration embedded by CONFIG_IKCONFIG (kernel/configs.c: gzip data between the markers
// "IKCFG_ST" and "IKCFG_ED"), searched for as scripts/extract-ikconfig does: in the image itself,
// then inside every compressed payload the image carries (a bzImage's vmlinux is gzip, xz, zstd,
// lz4, lzma or bzip2). nullopt when the kernel was built without IKCONFIG.
std::optional<std::string> extract_ikconfig(std::string_view image);

// Where a kernel's config lives, without booting it, in this order: `.config` in a build tree
// (tree_dir), `config-RELEASE` beside the image (Debian's /boot layout), `config` beside it
// (Debian's split 7.x packages: modules/<release>/config), the one config-* there, the image's
// embedded IKCONFIG. nullopt when none is found (the
// runner then reads /proc/config.gz in the guest, where the kernel has it).
std::optional<KernelConfig> find_kernel_config(const std::string& image, const std::string& tree_dir,
                                               const std::string& release);

}  // namespace fsfault::vm
