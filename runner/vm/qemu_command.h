// QEMU's command line for a scenario, and the KVM probe that picks the accelerator.
#pragma once

#include "runner/vm/vm.h"

#include <string>
#include <vector>

namespace fsfault::vm {

// A virtiofs device: the tag the guest mounts, virtiofsd's socket.
struct QemuShare {
  std::string tag, socket;
};

// QEMU's command line for a scenario (exposed for tests and repro.sh).
std::vector<std::string> qemu_argv(const RunConfig& c, const std::vector<std::string>& nbd_sockets,
                                   const std::string& channel_socket, const std::string& console_log,
                                   const std::vector<QemuShare>& shares = {});

// Disks and shares a restored guest can take: one empty PCIe root port each (disks first).
inline constexpr int kRestoredDiskSlots = 4;
inline constexpr int kRestoredShareSlots = 2;
std::string restored_disk_port(int i);
std::string restored_share_port(int i);

// QEMU's command line for the guest that is saved once and restored per scenario
// (saved_guest.h): the cold boot's machine without disks or shares, with empty root ports for
// them and a QMP socket; with shares, guest memory is a shared memfd (vhost-user-fs maps it into
// virtiofsd). Restoring adds "-incoming defer".
std::vector<std::string> saved_guest_argv(const RunConfig& c, const std::string& channel_socket,
                                          const std::string& console_log, const std::string& qmp_socket,
                                          bool shares = false);

// "kvm" when a short probe boot reaches userspace within probe_s, else "tcg".
std::string probe_accel(const KernelInfo& k, const std::string& initramfs, const std::string& qemu, int probe_s,
                        std::string* why);

}  // namespace fsfault::vm
