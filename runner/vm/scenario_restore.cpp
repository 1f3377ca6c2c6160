// A scenario in a guest restored from the saved guest (saved_guest.h) instead of a cold boot:
// QEMU starts with -incoming defer on the saved machine, loads the state, resumes; the guest,
// saved while it waited for a scenario, receives the plan at once and asks for its disks one
// at a time, each an NBD node and a virtio-blk device hot-plugged into an empty root port.
#include "runner/vm/qemu_command.h"
#include "runner/vm/scenario_run.h"
#include "runner/vm/saved_guest.h"
#include "runner/vm/spawn_logged.h"
#include "runner/vm/unix_socket.h"
#include "base/files.h"
#include "process/command_line.h"

#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <stdexcept>
#include <thread>

namespace fsfault::vm {

namespace fs = std::filesystem;
using std::chrono::milliseconds;

namespace {

// Loading a ~120 MB state takes ~0.2 s; a loaded host may take many times that.
constexpr int kRestoreMs = 30000;
// How long QEMU may take to open its QMP socket.
constexpr int kQmpMs = 10000;

// The last non-empty line of a small log ("" when none).
std::string last_line(const std::string& path) {
  std::string text = base::try_read_file(path).value_or("");
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
  return text.substr(text.rfind('\n') == std::string::npos ? 0 : text.rfind('\n') + 1);
}

std::string disk_node(size_t i) { return "d" + std::to_string(i); }
std::string disk_serial(size_t i) { return "fsfault-d" + std::to_string(i); }

}  // namespace

// Why this scenario boots cold; "" when it can be restored.
std::string ScenarioRun::cold_boot_reason() const {
  if (!c_.saved) return "no saved guest (--cold, or it could not be built)";
  if (!scenario_shares(s_, c_.shares).empty() && !c_.saved_with_shares)
    return "no saved guest with shared memory for the scenario's shares (it could not be built)";
  if (const size_t n = scenario_shares(s_, c_.shares).size(); n > static_cast<size_t>(kRestoredShareSlots))
    return "the scenario has " + std::to_string(n) + " shares; a restored guest takes " +
           std::to_string(kRestoredShareSlots);
  if (s_.disks.size() > static_cast<size_t>(kRestoredDiskSlots))
    return "the scenario has " + std::to_string(s_.disks.size()) + " disks; a restored guest takes " +
           std::to_string(kRestoredDiskSlots);
  return "";
}

// Starts QEMU from the saved guest; false (and a note) when the scenario boots cold instead.
bool ScenarioRun::restore_qemu() {
  if (std::string why = cold_boot_reason(); !why.empty()) {
    boot_["cold_because"] = why;
    if (c_.saved) boot_notes_.push_back("cold boot: " + why);
    return false;
  }
  guest_ = shares_.empty() ? &*c_.saved : &*c_.saved_with_shares;
  try {
    resume_restored();
    return true;
  } catch (const std::exception& e) {
    if (proc::termination_signal()) throw;
    qmp_.reset();
    qemu_.stop(milliseconds(0));
    // The dead QEMU's channel connection may wait in the backlog: a fresh socket for the cold one.
    close(lsock_);
    lsock_ = -1;
    fs::remove(tmp_ + "/chan.sock");
    discard_saved_guest(*guest_);
    std::string why = std::string("restore failed (") + e.what() + ")";
    if (std::string q = last_line(art_ + "/qemu.log"); !q.empty()) why += ", QEMU said: " + q;
    why += "; the saved state is discarded";
    runlog_ << why << "; cold boot\n";
    boot_notes_.push_back("cold boot: " + why);
    boot_["cold_because"] = why;
    return false;
  }
}

// QEMU on the saved machine, the state loaded, the guest running again.
void ScenarioRun::resume_restored() {
  const auto t = Clock::now();
  const std::string chsock = tmp_ + "/chan.sock", qmp_sock = tmp_ + "/qmp.sock";
  lsock_ = listen_unix(chsock);
  // The console log starts with the saved boot's (QEMU appends to it), so it reads as one boot.
  console_ = art_ + "/console.log";
  base::write_file(console_, base::try_read_file(guest_->boot_console).value_or("") +
                                 "\n[fsfault: guest restored from " + guest_->state + "]\n");
  std::vector<std::string> qa = saved_guest_argv(c_, chsock, console_, qmp_sock, guest_->shares);
  qa.insert(qa.end(), {"-incoming", "defer"});
  commands_ << "# qemu, restored from " << guest_->state << "\n" << proc::shell_command(qa) << "\n";
  qemu_ = spawn_logged(qa, art_ + "/qemu.log");
  console_watch_.emplace(console_);
  qmp_ = std::make_unique<QmpClient>(qmp_sock, kQmpMs, qemu_);
  qmp_->execute("migrate-incoming", {{"uri", "exec:cat " + proc::shell_quote(guest_->state)}});
  for (;;) {
    std::string st = qmp_->execute("query-status").value("status", std::string());
    if (st != "inmigrate") {
      // A state saved after `stop` loads paused.
      if (st != "paused" && st != "postmigrate" && st != "prelaunch")
        throw std::runtime_error("the restored guest is " + st + ", not paused");
      break;
    }
    if (ms_since(t) > kRestoreMs) throw std::runtime_error("loading the state took over " + std::to_string(kRestoreMs) + " ms");
    std::this_thread::sleep_for(milliseconds(5));
  }
  attach_shares();
  qmp_->execute("cont");
  restored_ = true;
  boot_["mode"] = "restored";
  boot_["restore_ms"] = ms_since(t);
  runlog_ << "guest restored from " << guest_->state << " in " << ms_since(t) << " ms\n";
}

// Each share's virtiofsd (listening since start_shares) as a chardev and a vhost-user-fs device,
// plugged while the guest is paused: QEMU 7.2 cannot migrate vhost-user-fs, so the saved machine
// has none, and the guest's mount waits for the tag (guest-tests/guest/shares.cpp).
void ScenarioRun::attach_shares() {
  for (size_t i = 0; i < shares_.size(); ++i) {
    const std::string id = "vfs" + std::to_string(i);
    qmp_->execute("chardev-add", {{"id", id},
                                  {"backend", {{"type", "socket"},
                                               {"data", {{"addr", {{"type", "unix"}, {"data", {{"path", shares_[i].sock}}}}},
                                                         {"server", false}}}}}});
    qmp_->execute("device_add", {{"driver", "vhost-user-fs-pci"}, {"id", id + "-dev"}, {"chardev", id},
                                 {"tag", shares_[i].share.tag}, {"bus", restored_share_port(static_cast<int>(i))}});
  }
}

// The guest said hello before it was saved; it is waiting for its scenario now. Its wall clock
// stopped at the save, so the plan carries the host's.
void ScenarioRun::send_restored_plan() {
  trace_.kernel_release = guest_->release;
  json plan = plan_;
  plan["attach"] = true;
  plan["realtime_ms"] = std::chrono::duration_cast<milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  send_line(chan_, plan.dump());
  boot_["plan_ms"] = ms_since(t0_);
}

std::string ScenarioRun::take_attach_record(const std::string& type, const json& j) {
  if (type == "attach-failed") return "the restored guest did not get its disks: " + j.value("error", std::string("?"));
  if (type == "attached") {
    runlog_ << "disk " << j.value("disk", -1) << " is " << j.value("dev", std::string()) << " after "
            << j.value("ms", -1) << " ms in the guest\n";
    boot_["attached_ms"] = ms_since(t0_);
    return "";
  }
  const json& d = j.contains("disk") ? j["disk"] : json();
  json reply = d.is_number_unsigned() && d.get<size_t>() < servers_.size() && restored_
                   ? attach_disk(d.get<size_t>())
                   : json{{"type", "attach-reply"}, {"ok", false}, {"error", "no such disk to attach"}};
  send_line(chan_, reply.dump());
  return "";
}

// Disk i's NBD node and virtio-blk device; the reply the guest waits for.
json ScenarioRun::attach_disk(size_t i) {
  const auto t = Clock::now();
  try {
    qmp_->execute("blockdev-add", {{"driver", "nbd"}, {"node-name", disk_node(i)},
                                   {"server", {{"type", "unix"}, {"path", servers_[i].sock}}}});
    // As the cold boot's -drive: errors go to the guest (werror/rerror=report), and a volatile
    // write cache, so the guest sends flushes (cache=none).
    qmp_->execute("device_add", {{"driver", "virtio-blk-pci"}, {"id", "vd" + std::to_string(i)},
                                 {"drive", disk_node(i)}, {"bus", restored_disk_port(static_cast<int>(i))},
                                 {"serial", disk_serial(i)}, {"werror", "report"}, {"rerror", "report"},
                                 {"write-cache", "on"}});
  } catch (const std::exception& e) {
    return json{{"type", "attach-reply"}, {"ok", false}, {"error", std::string("attaching disk ") + std::to_string(i) + ": " + e.what()}};
  }
  runlog_ << "disk " << i << " hot-plugged in " << ms_since(t) << " ms\n";
  return json{{"type", "attach-reply"}, {"ok", true}, {"serial", disk_serial(i)}};
}

}  // namespace fsfault::vm
