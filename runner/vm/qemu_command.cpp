#include "runner/vm/qemu_command.h"

#include "runner/vm/elapsed.h"
#include "runner/vm/run_dir.h"
#include "base/files.h"
#include "process/process.h"

#include <unistd.h>

#include <optional>

namespace fsfault::vm {

namespace {

using proc::Child;
using std::chrono::milliseconds;

bool probe_reached_userspace(const std::string& console_log) {
  auto text = base::try_read_file(console_log);
  return text && text->find("PROBE-OK") != std::string::npos;
}

std::string probe_verdict(bool ok, std::optional<int> exited, long long probe_ms, int probe_s) {
  if (ok) return "KVM probe boot reached userspace";
  if (exited)
    return "KVM probe: QEMU exited with status " + std::to_string(*exited) + " after " + std::to_string(probe_ms) +
           " ms without reaching userspace";
  return "KVM probe boot did not reach userspace within " + std::to_string(probe_s) + " s";
}

// vhost-user-fs maps guest memory into virtiofsd: it must be a shared memfd of all of -m, bound
// to the one NUMA node (QEMU docs, docs/system/devices/vhost-user-fs.rst).
void add_shares(std::vector<std::string>& a, int mem_mb, const std::vector<QemuShare>& shares) {
  if (shares.empty()) return;
  a.insert(a.end(), {"-object", "memory-backend-memfd,id=mem,size=" + std::to_string(mem_mb) + "M,share=on", "-numa",
                     "node,memdev=mem"});
  for (size_t i = 0; i < shares.size(); ++i) {
    const std::string id = "vfs" + std::to_string(i);
    a.insert(a.end(), {"-chardev", "socket,id=" + id + ",path=" + shares[i].socket, "-device",
                       "vhost-user-fs-pci,chardev=" + id + ",tag=" + shares[i].tag});
  }
}

// Machine, CPU, kernel, console and the guest channel: what a cold boot and a saved guest share.
// append: the console log is appended to, so a restored guest's log can start with the saved boot's.
std::vector<std::string> machine_argv(const RunConfig& c, const std::string& channel_socket,
                                      const std::string& console_log, bool append) {
  std::vector<std::string> a = {c.qemu, "-nodefaults", "-no-user-config", "-display", "none", "-no-reboot",
                                "-machine", "q35", "-m", std::to_string(c.mem_mb), "-smp", "1"};
  if (c.accel == "kvm") {
    a.insert(a.end(), {"-accel", "kvm", "-cpu", "host"});
  } else {
    a.insert(a.end(), {"-accel", "tcg", "-cpu", "max"});
  }
  // no_timer_check: under TCG on a loaded host the boot-time IO-APIC timer
  // test (timer_irq_works() in arch/x86/kernel/apic/io_apic.c) can miss its
  // ticks and panic with "IO-APIC + timer doesn't work"; the option makes
  // that test return success at once. Seen at load average ~10 on 2 cores.
  a.insert(a.end(), {"-kernel", c.kernel.image, "-initrd", c.initramfs, "-append",
                     "console=ttyS0 panic=-1 oops=panic loglevel=6 no_timer_check rdinit=/init"});
  a.insert(a.end(), {"-chardev", "file,id=con,path=" + console_log + (append ? ",append=on" : ""), "-serial",
                     "chardev:con"});
  a.insert(a.end(), {"-device", "virtio-serial-pci,id=vser", "-chardev", "socket,id=ctl,path=" + channel_socket,
                     "-device", "virtserialport,bus=vser.0,chardev=ctl,name=fsfault.ctl"});
  return a;
}

}  // namespace

std::vector<std::string> qemu_argv(const RunConfig& c, const std::vector<std::string>& nbd_sockets,
                                   const std::string& channel_socket, const std::string& console_log,
                                   const std::vector<QemuShare>& shares) {
  std::vector<std::string> a = machine_argv(c, channel_socket, console_log, false);
  for (size_t i = 0; i < nbd_sockets.size(); ++i) {
    // werror/rerror=report: QEMU's default werror=enospc pauses the VM on an
    // ENOSPC write instead of passing the error to the guest (QEMU manual,
    // -drive "werror=action,rerror=action"). No format= with driver=nbd.
    a.insert(a.end(), {"-drive", "driver=nbd,server.type=unix,server.path=" + nbd_sockets[i] +
                                     ",if=virtio,werror=report,rerror=report,cache=none,id=d" + std::to_string(i)});
  }
  add_shares(a, c.mem_mb, shares);
  return a;
}

std::vector<std::string> saved_guest_argv(const RunConfig& c, const std::string& channel_socket,
                                          const std::string& console_log, const std::string& qmp_socket,
                                          bool shares) {
  std::vector<std::string> a = machine_argv(c, channel_socket, console_log, true);
  // Empty PCIe slots for the disks and shares: q35 hot-plugs only into a root port, and the
  // restored machine must have the saved one's device set, so the ports exist from the first boot.
  for (int i = 0; i < kRestoredDiskSlots + kRestoredShareSlots; ++i)
    a.insert(a.end(), {"-device", "pcie-root-port,id=rp" + std::to_string(i) + ",chassis=" + std::to_string(i + 1)});
  // A share hot-plugged after the restore needs guest memory virtiofsd can map, from the boot on.
  // Only then: restoring into a memfd took 1.7 s against 0.4-0.6 s into anonymous memory.
  if (shares)
    a.insert(a.end(), {"-object", "memory-backend-memfd,id=mem,size=" + std::to_string(c.mem_mb) + "M,share=on", "-numa",
                     "node,memdev=mem"});
  a.insert(a.end(), {"-qmp", "unix:" + qmp_socket + ",server=on,wait=off"});
  return a;
}

std::string restored_disk_port(int i) { return "rp" + std::to_string(i); }
std::string restored_share_port(int i) { return "rp" + std::to_string(kRestoredDiskSlots + i); }

std::string probe_accel(const KernelInfo& k, const std::string& initramfs, const std::string& qemu, int probe_s,
                        std::string* why) {
  auto say = [&](const std::string& s) {
    if (why) *why = s;
    return std::string("tcg");
  };
  if (access("/dev/kvm", R_OK | W_OK) != 0) return say("/dev/kvm not accessible");
  std::optional<RunDir> dir;
  try {
    dir.emplace("fsfault-probe");
  } catch (const std::exception& e) {
    return say(std::string("KVM probe: ") + e.what());
  }
  const std::string log = dir->path() + "/console.log";
  std::vector<std::string> a = {qemu, "-nodefaults", "-no-user-config", "-display", "none", "-no-reboot",
                                "-machine", "q35", "-accel", "kvm", "-cpu", "host", "-m", "256",
                                "-kernel", k.image, "-initrd", initramfs,
                                "-append", "console=ttyS0 panic=-1 fsfault.probe=1 rdinit=/init",
                                "-chardev", "file,id=con,path=" + log, "-serial", "chardev:con"};
  Child probe;
  try {
    probe = Child::spawn(a);
  } catch (const std::exception& e) {
    return say(std::string("KVM probe could not start: ") + e.what());
  }
  bool ok = false;
  std::optional<int> exited;  // QEMU ended on its own (e.g. KVM refused)
  auto t0 = Clock::now();
  while (probe.running() && ms_since(t0) < probe_s * 1000 && !proc::termination_signal()) {
    if ((ok = probe_reached_userspace(log))) break;
    exited = probe.wait_for(milliseconds(100));
    if (exited) break;
  }
  const long long probe_ms = ms_since(t0);
  probe.stop(milliseconds(200));
  ok = ok || probe_reached_userspace(log);
  dir.reset();
  say(probe_verdict(ok, exited, probe_ms, probe_s));
  return ok ? "kvm" : "tcg";
}

}  // namespace fsfault::vm
