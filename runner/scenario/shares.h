// [[share]] tables and exec/spawn `root = "host"` (docs/vm-test.md, "Host tools in the guest").
#pragma once

#include "runner/scenario/scenario.h"

#include <toml++/toml.h>

#include <string>
#include <vector>

namespace fsfault::vm {

// Where the host's root filesystem appears in the guest for root = "host" steps.
inline constexpr const char* kHostRootGuestPath = "/host";

// The [[share]] tables: host must be an existing directory (relative: to the scenario file's
// directory), guest an absolute path outside what the harness owns. Errors name file:line:col.
std::vector<ShareSpec> parse_shares(const toml::table& t, const std::string& file);

// Whether some exec or spawn step has root = "host"; any other root value is an error naming
// file:line:col.
bool parse_step_roots(const toml::table& t, const std::string& file);

// "HOST[:GUEST]" (--share): HOST made absolute and required to be a directory; throws naming it.
ShareSpec parse_share_argument(const std::string& arg);

// Throws when a share's guest path is not absolute, is reserved in the guest (/, /proc, /sys,
// /dev, /mnt, /tmp, /init, /host) or not normal (. or ..). `what` names the share.
void check_share_guest_path(const std::string& guest, const std::string& what);

}  // namespace fsfault::vm
