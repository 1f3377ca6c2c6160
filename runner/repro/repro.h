// `fsfault repro`: a schedule + seed + image + a workload, run as a one-scenario catalogue; then
// the error-flood accounting read back from the artifacts (docs/vm-test.md, "fsfault repro").
#pragma once

#include "runner/scenario/scenario.h"

#include <map>
#include <optional>
#include <vector>
#include <string>

namespace fsfault::vm {

// The standard workload's I/O (docs/vm-test.md, "fsfault repro"): five rounds of metadata and
// data I/O on /data. repro_scenario() frames it (watch, counters, phase "armed", read-events).
extern const char* const kReproWorkload;

// Where a shell-script workload is shipped in the guest ([[file]] dst).
inline constexpr const char* kReproScriptDst = "/fsfault/workload.sh";

// True when FILE is a shell script: ".sh", or a first line starting with "#!".
bool is_shell_workload(const std::string& path);

// The disk repro runs on: --image (a recipe name, a recipe file or a raw .img, paths relative to
// the current directory), --map for a raw image, --mount-options.
struct ReproDisk {
  std::string image;
  std::string map;                           // "" = none
  std::optional<std::string> mount_options;  // unset: the workload file's mount.options, else none
};

// A scenario named "repro/<schedule stem>" on one disk, with the schedule's seed and [[rule]]
// tables, `seed` overriding the schedule's. `workload` is "" (the standard workload), a TOML file
// whose step = [...] replaces the standard steps (and whose mount = { options = "..." } sets the
// disk's mount options unless disk.mount_options does), or a shell script (is_shell_workload)
// shipped as a [[file]] and run by `exec` in the armed phase. Every variant reads ext4's
// errors_count of disk 0 first and last (labels "errors-before", "errors-after"; ENOENT on xfs).
Scenario repro_scenario(const std::string& schedule_text, const std::string& schedule_path, const ReproDisk& disk,
                        std::optional<std::uint64_t> seed, const std::string& workload = "");

// One fanotify event as the report lists it (records.jsonl "event" records).
struct FloodEvent {
  long long t_ms = 0;    // guest clock: when the harness read it
  std::string kind;      // "FS_ERROR" or "Q_OVERFLOW"
  std::optional<long long> error;  // the errno as the kernel sent it (6.x std_error: negative)
  long long error_count = 0;
  std::optional<unsigned long long> ino;  // from the file handle, when the guest decoded one
  std::optional<int> handle_type;         // 0xff (FILEID_INVALID): no inode
  std::string path;                       // the map's "inode:PATH" target of ino, "" when none
  std::optional<int> disk;
};

// "EIO (5)", or for a negative errno "-EBADMSG (-74) [negative errno: kernel reports -74]".
std::string errno_text(long long error);

struct FloodCounts {
  long long faults_fired = 0;     // fault log lines
  long long fs_error_events = 0;  // FAN_FS_ERROR events read
  long long error_count_sum = 0;  // sum of their error_count
  long long overflow_events = 0;  // FAN_Q_OVERFLOW events read
  long long lost_reports = 0;     // "lost filesystem error report" kernel log lines (7.0+)
  std::string fs;                 // disk 0's filesystem, from map-d0.json
  // ext4's errors_count before and after (steps "errors-before"/"errors-after"); unset when the
  // fs is not ext4 or a read failed.
  std::optional<long long> errors_before, errors_after;
  // First fault -> first event, in ms, and how much smaller it may truly be (see count_flood).
  std::optional<long long> first_fault_to_event_ms;
  long long first_fault_to_event_slack_ms = 0;
  std::string fault_log_digest;  // hash of the fault log without t_ms and req: same faults, same digest
  std::vector<FloodEvent> events;  // every FS_ERROR and Q_OVERFLOW event, in record order
  // Clocks for the timeline: the runner's "server for disk N started at T ms", and host ms -> guest
  // ms (guest = host + offset) aligned at the first phase; unset without runner.log or a phase.
  std::map<int, long long> server_spawn_ms;
  std::optional<long long> host_to_guest_ms;
};

// Counts from a scenario's artifact directory (records.jsonl, faults-d*.jsonl, map-d0.json,
// runner.log).
//
// First fault -> first event is taken on the host's monotonic clock:
//   first fault = the server's spawn time (runner.log "server for disk N started at T ms") plus
//                 the fault log's t_ms (ms since the server's engine started, which is at or
//                 after the spawn: the estimate is early by at most the server's start-up, up to
//                 "servers up after T ms");
//   first event = the guest's "first-event" record (a harness thread that polls the fanotify fd
//                 and notes when the queue first holds an event) mapped from the guest's clock
//                 to the host's at the first phase: the guest's phase record t_ms ↔ the runner's
//                 "phase NAME at T ms" (logged once every server acknowledged, at most the phase
//                 step's round trip after the guest sent it: the estimate is late by up to that).
// So the true interval lies in [value - slack, value]; slack = start-up + phase round trip.
FloodCounts count_flood(const std::string& artifact_dir);

// Repro's own accounting (on by default; docs/vm-test.md "fsfault repro"): the [[expect]]
// accounting = "errors" over the errors-before/errors-after reads of disk 0, judged only when the
// disk is ext4, a counter that did not move passing (0 counted, 0 reported).
void expect_accounting(Scenario& s);

// Accounting of c: nullopt when it holds or cannot be judged (not ext4, counter unread), else why
// ("N error(s) vanished silently: ...") — the same rule as the judge's (judge.h).
std::optional<std::string> flood_accounting_failure(const FloodCounts& c);

// The human report `fsfault repro` prints, one fact per line, then one line per event and the
// accounting line ("not judged" when `accounting` is false: --no-accounting).
std::string flood_report(const FloodCounts& c, bool accounting = true);

}  // namespace fsfault::vm
