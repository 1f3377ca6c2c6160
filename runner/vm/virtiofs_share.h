// Host directories shared read-only into the guest over virtiofs: one QEMU virtiofsd per share
// and VM (docs/vm-test.md, "Host tools in the guest"; docs/ARCHITECTURE.md).
//
// QEMU 7.2's virtiofsd has no read-only option, and `-o source=/` fails in its namespace sandbox
// (pivot_root: busy). So each virtiofsd runs under `unshare -m` with a private mount namespace in
// which a small sh bind-mounts HOST read-only onto an empty directory of the run, then execs
// virtiofsd on that directory with `-o sandbox=chroot`. unshare and sh exec in place, so the pid
// Child::spawn registered (PDEATHSIG, termination handlers) is virtiofsd's own; chroot sandboxing
// keeps it one process (the namespace sandbox forks a second one the runner would not hold). The
// read-only mount exists only in that namespace and vanishes with virtiofsd: nothing to clean up.
#pragma once

#include "runner/scenario/scenario.h"
#include "process/process.h"

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace fsfault::vm {

struct Share {
  std::string host;   // the directory shared (read-only)
  std::string guest;  // where the guest mounts it
  std::string tag;    // the virtiofs tag QEMU gives the guest
};

// The scenario's [[share]]s, then --share ones, then the host's / on /host when a step has
// root = "host". Throws on a guest path
// shared twice with different hosts.
std::vector<Share> scenario_shares(const Scenario& s, const std::vector<ShareSpec>& extra);

// The plan's "shares" (tag, guest path) and, with a host root, "host_root": its guest path.
void add_shares_to_plan(const std::vector<Share>& shares, nlohmann::json& plan);

// unshare -m ... sh -c '...' virtiofsd: serves share.host read-only on socket, mounting it on
// mount_dir (an empty directory) inside the private namespace.
std::vector<std::string> virtiofsd_argv(const Share& share, const std::string& mount_dir, const std::string& socket);

// Whether the kernel lists a listening Unix socket bound to path (/proc/net/unix): virtiofsd
// serves exactly one connection, so the runner must not probe it by connecting.
bool unix_socket_listening(const std::string& path);

// QEMU's virtiofsd (qemu-system-common), or "" when it is not installed.
std::string find_virtiofsd();

}  // namespace fsfault::vm
