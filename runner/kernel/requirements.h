// What a run needs of its kernel's configuration: fsfault's own fragment (guest-tests/config) for
// the selected scenarios, checked before the first boot, and each scenario's `config = [...]`,
// which skips the scenario by name when the kernel lacks an option.
#pragma once

#include "runner/kernel/kernel_config.h"
#include "runner/scenario/scenario.h"

#include <optional>
#include <string>
#include <vector>

namespace fsfault::vm {

// The fragment's requirements for these scenarios: every option, except the filesystems'
// (CONFIG_EXT4_FS, CONFIG_XFS_FS, …) which only a scenario mounting that filesystem needs.
std::vector<ConfigRequirement> catalogue_requirements(const std::vector<ConfigRequirement>& fragment,
                                                      const std::vector<Scenario>& scenarios);

// guest-tests/config, config.optional (and config.fault-injection with fault_injection), as `fsfault kernel config`
// prints it. Throws naming a missing fragment file.
std::string fragment_text(const std::string& source_dir, bool fault_injection);

// nullopt when the kernel has every option the scenario's `config` lists, else the skip reason:
// "kernel lacks CONFIG_FAILSLAB", or "kernel config unknown, needs CONFIG_FAILSLAB" when the
// configuration could not be read before boot.
std::optional<std::string> config_gate(const Scenario& s, const std::optional<KernelConfig>& config);

}  // namespace fsfault::vm
