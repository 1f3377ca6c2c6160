// Scenario model (docs/scenarios.md): parsed from TOML, handed to the guest as
// JSON, judged on the host.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace fsfault::vm {

using json = nlohmann::json;

// Where a disk's bytes come from (runner/scenario/disk_source.h resolves `image =`).
enum class DiskSource {
  recipe_name,  // image = "ext4-basic": images/recipes (then --recipes folders), built and cached
  recipe_file,  // image = "recipes/mine.toml": that recipe, built and cached
  raw_image,    // image = "disk.img": served as it is, with map = "..." or without a map
  blank,        // blank = "300MiB": all zeros, no filesystem, no map
};

struct DiskSpec {
  std::string image;    // as written: a recipe name or a path ("" for a blank disk)
  DiskSource source = DiskSource::recipe_name;
  std::string path;     // recipe_file, raw_image: the file, absolute
  std::string map;      // raw_image: its target map, absolute ("" = none)
  std::uint64_t blank_bytes = 0;  // blank: the disk's size
  std::string fs;       // "ext4", "xfs"; defaults from the image map
  std::string options;  // mount options
  bool mount = true;    // mounted before the first step (never for a blank disk)
  // Whether `target = "..."` rules can resolve on this disk (else only `sectors`).
  bool has_map() const {
    return source == DiskSource::recipe_name || source == DiskSource::recipe_file || !map.empty();
  }
  std::string describe() const { return source == DiskSource::blank ? "blank disk" : image; }
};

// [[file]]: a host file shipped into the guest with the plan (docs/vm-test.md) and written there
// before the steps run, e.g. a static test binary or a shell script for `do = "exec"`.
struct FileSpec {
  std::string src;         // as written in the scenario
  std::string host_path;   // src resolved against the scenario file's directory
  std::string dst;         // absolute path in the guest
  int mode = -1;           // permission bits; -1: the host file's
  std::uintmax_t bytes = 0;
};

// The plan is one JSON line over virtio-serial, files base64-encoded in it: a bound keeps the
// guest's parse and the channel transfer short under TCG.
inline constexpr std::uintmax_t kMaxShippedBytes = 4u << 20;  // per scenario, all files

// [[share]]: a host directory shared read-only into the guest over virtiofs (docs/vm-test.md,
// "Host tools in the guest"); also `fsfault vm-test --share HOST[:GUEST]`.
struct ShareSpec {
  std::string host;   // absolute, an existing directory
  std::string guest;  // absolute path in the guest (defaults to host)
};

struct Scenario {
  std::string name;
  std::string file;         // source path
  std::string description;
  std::string kernel;       // version gate, e.g. ">=5.16" or ">=5.16,<7.0"
  std::vector<std::string> modules;  // extra guest modules the scenario needs
  std::vector<std::string> config;   // kernel options it needs ("CONFIG_FAILSLAB"); skipped without
  std::uint64_t seed = 0;
  int timeout_s = 0;        // 0 = the runner's default
  json steps = json::array();
  std::vector<DiskSpec> disks;
  std::vector<json> rules;  // [[rule]] tables, each with optional "disk"
  std::vector<json> expects;
  std::vector<FileSpec> files;
  std::vector<ShareSpec> shares;
  bool host_root = false;  // some exec/spawn step has root = "host": the host's / is shared too
  std::optional<std::string> skip;  // skip = "reason" in the file
};

// Throws std::runtime_error with the file name on malformed input.
Scenario parse_scenario_text(const std::string& text, const std::string& file);
Scenario load_scenario(const std::string& path);

// The JSON line sent to the guest: disks with device names and mountpoints,
// steps with implicit mounts prepended, shipped files (base64). Throws naming the scenario file
// when a shipped file became unreadable or too large since it was parsed.
json guest_plan(const Scenario& s);


// TOML schedule for one disk: seed plus that disk's rules (without "disk").
std::string schedule_toml(const Scenario& s, int disk);

// Emits a JSON value as a TOML value (inline tables/arrays).
std::string toml_value(const json& v);

// Kernel version helpers. A version is compared by up to three numbers.
struct KernelVersion {
  int major = 0, minor = 0, patch = 0;
  bool known() const { return major > 0; }
  std::string str() const;
};
KernelVersion parse_kernel_version(const std::string& s);  // "6.1.0-50-cloud-amd64" → 6.1.0
// Returns std::nullopt when the gate is met, else a reason.
std::optional<std::string> kernel_gate(const std::string& gate, const KernelVersion& v);

}  // namespace fsfault::vm
