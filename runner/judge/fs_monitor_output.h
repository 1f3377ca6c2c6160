// The output of the kernel's fanotify sample samples/fanotify/fs-monitor.c as records: one per
// FAN_FS_ERROR event it printed ("FAN_FS_ERROR (len=N)" ... "---"). A step with
// `format = "fs-monitor"` has its output compared with the harness's own FS_ERROR events
// (fs_monitor_parity.h). Pure text in, records out: the output is untrusted
// (fuzz/fs_monitor_output_fuzzer.cpp).
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace fsfault::vm {

struct FsMonitorRecord {
  int line = 0;  // of its "FAN_FS_ERROR" line, 1-based, for messages
  std::optional<long long> error, error_count;
  // "decoded fh: inode=%u gen=%u" (FILEID_INO32_GEN), or "Type 255 (Superblock error)".
  std::optional<long long> ino, gen;
  bool superblock = false;
  std::optional<long long> unknown_type;  // "Type %d (Unknown)"
};

struct FsMonitorOutput {
  std::vector<FsMonitorRecord> records;
  // Lines that say the sample saw something it did not expect ("unexpected FAN MARK", "Unexpected
  // fd", "Unknown info type") or that it failed ("fs-monitor: fanotify_mark"), with their line.
  std::vector<std::string> problems;
};

FsMonitorOutput parse_fs_monitor(const std::string& output);

}  // namespace fsfault::vm
