#include "guest-tests/guest/step_table.h"

#include "guest-tests/guest/steps/health_steps.h"

#include <cerrno>

namespace fsfault::guest {

namespace {

int run_unknown(const StepCall& c) {
  c.out["detail"] = "unknown step";
  return ENOSYS;
}

constexpr StepKind kUnknown{"", run_unknown};

constexpr StepKind kSteps[] = {
    {"mount", run_mount},
    {"umount", run_umount},
    {"watch", run_watch},
    {"read-events", run_read_events, true, true},
    {"fionread", run_fionread},
    {"stat", run_stat},
    {"lstat", run_lstat},
    {"read", run_read},
    {"write", run_write},
    {"append", run_append},
    {"create", run_create},
    {"mkdir", run_mkdir},
    {"readdir", run_readdir},
    {"fsync", run_fsync},
    {"hold", run_hold},
    {"unlink", run_unlink},
    {"rmdir", run_rmdir},
    {"drop-caches", run_drop_caches},
    {"sync", run_sync},
    {"read-file", run_read_file},
    {"write-file", run_write_file},
    {"kmsg", run_kmsg},
    {"sleep", run_sleep},
    {"phase", run_phase},
    {"repeat", run_repeat, false},
    {"exec", run_exec},
    {"spawn", run_spawn},
    {"stop", run_stop},
    {"wait", run_wait, true, true},
    {"watch-health", run_watch_health},
    {"read-health", run_read_health, true, true},
};

}  // namespace

std::span<const StepKind> step_kinds() { return kSteps; }

const StepKind& step_kind(std::string_view name) {
  for (const StepKind& k : kSteps)
    if (k.name == name) return k;
  return kUnknown;
}

}  // namespace fsfault::guest
