// `format = "fs-monitor"` on a stop/wait step: the kernel's fs-monitor sample ran beside the
// harness (docs/scenarios.md, "Program steps"), and each FAN_FS_ERROR it printed must equal the
// harness's FS_ERROR event of the same rank: error, error_count and the decoded handle (ext4's
// FILEID_INO32_GEN is u32 ino + u32 gen, include/linux/exportfs.h; type 255 with no bytes is a
// superblock error, fs/notify/fanotify/fanotify.c fanotify_encode_fh()).
#pragma once

#include "runner/judge/judge.h"

#include <string>

namespace fsfault::vm {

// rec: the guest's stop/wait record (its output is fs-monitor's); what: "step 9 (stop)".
// Fails naming the first disagreement; no fs-monitor record at all fails.
void judge_fs_monitor_parity(const json& rec, const std::string& what, const Trace& t, Outcome& o);

}  // namespace fsfault::vm
