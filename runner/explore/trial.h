// A trial of `fsfault explore` (docs/explore.md): a few fault rules over the image's targets and
// one built-in workload, drawn from (seed, trial index) alone, written as a scenario TOML document
// that the ordinary scenario loader and runner take unchanged.
#pragma once

#include "faults/target_map.h"
#include "runner/scenario/scenario.h"

#include <cstdint>
#include <string>
#include <vector>

namespace fsfault::vm::explore {

// What a campaign draws from: the image's map, the globs its rules may name, the actions and
// workloads it may use.
struct TrialSpace {
  faults::TargetMap map;
  std::vector<std::string> target_globs;  // "block-bitmap:*", "inode:/data/*"
  std::vector<std::string> actions = {"fail", "zero", "fill", "flip"};
  std::vector<std::string> workloads;     // built-in names (workload.h); empty: all
};

struct Trial {
  std::uint64_t seed = 0;
  std::uint64_t index = 0;
  std::vector<json> rules;  // [[rule]] tables, each naming one target of the map
  std::string workload;     // a built-in workload name
  std::string label;        // the scenario's name when set (minimization candidates, findings)
  std::string name() const;  // label, else "explore/t0007"
};

// The map's targets matching any glob (fnmatch), sorted. Throws when none match, naming the globs.
std::vector<std::string> matching_targets(const faults::TargetMap& map, const std::vector<std::string>& globs);

class TrialGenerator {
 public:
  TrialGenerator(TrialSpace space, std::uint64_t seed);
  // Trial i: depends only on the seed and i (its generator is seeded with a hash of both).
  Trial draw(std::uint64_t i) const;
  const TrialSpace& space() const { return space_; }
  const std::vector<std::string>& targets() const { return targets_; }

 private:
  TrialSpace space_;
  std::uint64_t seed_;
  std::vector<std::string> targets_;
};

// How a trial's scenario is framed: the disk it runs on and how it is mounted.
struct TrialDisk {
  std::string image;  // a recipe name or an absolute path
  std::string mount_options = "errors=continue";
  // A second disk with no rules (disk 1), watched like disk 0: an event on it is reported on a
  // filesystem nobody faulted. "" for none. Another image than disk 0's: two copies of one image
  // share a UUID (ext4's fsid comes from it; xfs refuses to mount the second).
  std::string control_image;
};

// The scenario TOML of a trial: the workload framed by the fanotify watch, ext4's errors_count
// read before and after (the accounting expectation, as `fsfault repro` judges it), phase "armed"
// for the rules, and the rules themselves. `known_gap` ({what, function, fixed_when}, or null) marks
// the accounting expectation as a catalogued gap (a finding recognised as known).
std::string trial_scenario_toml(const Trial& t, const TrialDisk& disk, const faults::TargetMap& map,
                                const json& known_gap = nullptr);

}  // namespace fsfault::vm::explore
