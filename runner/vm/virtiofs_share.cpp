#include "runner/vm/virtiofs_share.h"

#include "runner/scenario/shares.h"
#include "base/files.h"

#include <sstream>
#include <stdexcept>

namespace fsfault::vm {

namespace {

// Debian's qemu-system-common installs it outside PATH.
constexpr const char* kVirtiofsdPaths[] = {"/usr/lib/qemu/virtiofsd", "/usr/libexec/virtiofsd"};

// $1 host directory, $2 mount directory, $3 virtiofsd, $4 socket. The remount makes the bind
// read-only (a plain `mount --bind -o ro` is ignored by older mount(8)s); the bind is not
// recursive, so mounts below HOST on the host are not shared (docs/vm-test.md).
constexpr const char* kServeReadOnly =
    "mount --bind \"$1\" \"$2\" && mount -o remount,bind,ro \"$2\" && "
    "exec \"$3\" --socket-path=\"$4\" -o source=\"$2\" -o sandbox=chroot -o cache=auto -o log_level=warn";

}  // namespace

std::vector<Share> scenario_shares(const Scenario& s, const std::vector<ShareSpec>& extra) {
  std::vector<Share> out;
  auto add = [&](const ShareSpec& sp) {
    for (auto& o : out)
      if (o.guest == sp.guest) {
        if (o.host == sp.host) return;  // the same share from the scenario and --share
        throw std::runtime_error("guest path " + sp.guest + " is shared twice (" + o.host + " and " + sp.host + ")");
      }
    out.push_back(Share{sp.host, sp.guest, "fsfault" + std::to_string(out.size())});
  };
  for (auto& sp : s.shares) add(sp);
  for (auto& sp : extra) add(sp);
  if (s.host_root) {
    out.push_back(Share{"/", kHostRootGuestPath, "hostroot"});
  }
  return out;
}

void add_shares_to_plan(const std::vector<Share>& shares, nlohmann::json& plan) {
  nlohmann::json list = nlohmann::json::array();
  for (auto& sh : shares) {
    list.push_back({{"tag", sh.tag}, {"guest", sh.guest}});
    if (sh.tag == "hostroot") plan["host_root"] = sh.guest;
  }
  plan["shares"] = list;
}

std::vector<std::string> virtiofsd_argv(const Share& share, const std::string& mount_dir, const std::string& socket) {
  return {"unshare", "--mount", "--propagation", "private", "sh", "-c", kServeReadOnly, "virtiofsd-share",
          share.host, mount_dir, find_virtiofsd(), socket};
}

bool unix_socket_listening(const std::string& path) {
  auto table = base::try_read_file("/proc/net/unix");
  if (!table) return false;
  std::istringstream in(*table);
  std::string line;
  // "Num RefCount Protocol Flags Type St Inode Path"; Flags 00010000 is __SO_ACCEPTCON (listening).
  while (std::getline(in, line)) {
    std::istringstream f(line);
    std::string num, ref, proto, flags, type, st, inode, p;
    if (f >> num >> ref >> proto >> flags >> type >> st >> inode >> p && p == path && flags == "00010000") return true;
  }
  return false;
}

std::string find_virtiofsd() {
  for (const char* p : kVirtiofsdPaths)
    if (base::exists(p)) return p;
  return "";
}

}  // namespace fsfault::vm
