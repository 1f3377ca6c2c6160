// fsfault-guest: the guest-side harness. Statically linked; runs as /init in
// the initramfs the runner builds (runner/kernel/kernel.cpp, build_initramfs).
//
// Life cycle:
//   1. mount proc, sysfs, devtmpfs; load the modules listed in
//      /etc/fsfault/modules.load (host-computed dependency order);
//   2. open the virtio-serial port named "fsfault.ctl" and say hello
//      (kernel release, version string);
//   3. receive the scenario as one JSON line (disks, steps), execute the
//      steps (step_table.cpp), and stream one JSON record per fact back to the host;
//   4. drain /dev/kmsg into records, send {"type":"done"}, power off.
// A guest restored from a saved state (runner/vm/saved_guest.h) was saved in step 3, waiting for
// its scenario; the scenario then says "attach" and the disks are hot-plugged (disk_attach.h).
//
// Why virtio-serial rather than the kernel command line or a file baked into
// the initramfs: phases need a two-way channel anyway (the guest blocks until
// the host's fault server confirmed the phase), and keeping the scenario out
// of the initramfs lets one initramfs per kernel serve every scenario.
//
// The harness records facts only; the host judges (docs/ARCHITECTURE.md).

#include "guest-tests/guest/channel.h"
#include "guest-tests/guest/clock.h"
#include "guest-tests/guest/console.h"
#include "guest-tests/guest/disk_attach.h"
#include "guest-tests/guest/disks.h"
#include "guest-tests/guest/fanotify_groups.h"
#include "guest-tests/guest/fanotify_reading.h"
#include "guest-tests/guest/kmsg.h"
#include "guest-tests/guest/modules.h"
#include "guest-tests/guest/mounts.h"
#include "guest-tests/guest/records.h"
#include "guest-tests/guest/run_steps.h"
#include "guest-tests/guest/shares.h"
#include "guest-tests/guest/shipped_files.h"
#include "guest-tests/guest/small_files.h"

#include <fcntl.h>
#include <sys/reboot.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <cstdlib>

using json = nlohmann::json;
using namespace fsfault::guest;

namespace {

[[noreturn]] void power_off() {
  sync();
  reboot(RB_POWER_OFF);
  for (;;) pause();
}

// The kernel opens /dev/console for init; make sure 0-2 exist either way.
void ensure_standard_fds() {
  if (fcntl(2, F_GETFD) >= 0) return;
  int c = open("/dev/console", O_RDWR);
  if (c >= 0) {
    dup2(c, 0);
    dup2(c, 1);
    dup2(c, 2);
    if (c > 2) close(c);
  }
}

// Opens the channel, says hello and returns the host's scenario; powers off without one.
json receive_scenario() {
  if (!host_channel().open_port()) {
    console("no fsfault.ctl port; is virtio_console loaded?");
    power_off();
  }
  utsname u{};
  uname(&u);
  host_channel().send(
      json{{"type", "hello"}, {"release", u.release}, {"version", u.version}, {"t_ms", ms_since_start()}});
  auto sc = host_channel().recv(60000);
  if (!sc || sc->value("type", std::string()) != "scenario") {
    console("no scenario from host");
    power_off();
  }
  return *sc;
}

// Not const: a missing "disks" or "steps" reads as null (no disks, no steps).
void run_scenario(json& sc) {
  if (sc.contains("realtime_ms") && sc["realtime_ms"].is_number_integer()) set_realtime_ms(sc["realtime_ms"]);
  if (sc.value("attach", false)) {
    // A restored guest: its disks come now, one at a time, or the run cannot go on.
    if (std::string why = attach_disks(sc["disks"]); !why.empty()) {
      record(json{{"type", "attach-failed"}, {"error", why}});
      drain_kmsg();
      record(json{{"type", "done"}});
      return;
    }
  }
  load_disks(sc["disks"]);
  mount_shares(sc);
  for (auto& f : sc.value("files", json::array())) put_shipped_file(f);
  RunState state;
  run_steps(sc["steps"], "", state);
  stop_background_programs(state);
  // Final drain: whatever is still queued is a fact too.
  for (auto& [name, g] : groups()) {
    if (g.fd < 0) continue;
    json out{{"type", "drain"}, {"group", name}};
    out.update(read_events(g, 0, sc.value("final_settle_ms", 300), 0));
    record(out);
  }
  drain_kmsg();
  record(json{{"type", "done"}});
}

}  // namespace

int main() {
  mount_pseudo_filesystems();
  ensure_standard_fds();
  setenv("PATH", "/bin:/sbin:/usr/bin:/usr/sbin", 1);
  open_kmsg();
  auto cmdline = read_whole_file("/proc/cmdline").value_or("");
  if (cmdline.find("fsfault.probe=1") != std::string::npos) {
    // Acceleration probe: reaching userspace is all we need to know.
    console("PROBE-OK");
    power_off();
  }
  load_modules();
  console("modules loaded at " + std::to_string(ms_since_start()) + " ms");
  json scenario = receive_scenario();
  run_scenario(scenario);
  // Give the host a moment to read the last line before the port vanishes.
  usleep(100000);
  power_off();
}
