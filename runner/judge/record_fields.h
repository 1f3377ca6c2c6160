// Typed reads of one guest record. Records are the guest's JSON lines, so untrusted: every read
// checks the type it needs and never throws, and every judge file reads fields the same way.
#pragma once

#include "runner/scenario/scenario.h"  // json

#include <optional>
#include <string_view>

namespace fsfault::vm {

// r[key] when r is an object holding an integer there, else nullopt.
std::optional<long long> int_field(const json& r, const char* key);

// Whether r's mask_names holds `name` ("FS_ERROR", "Q_OVERFLOW").
bool has_mask(const json& r, std::string_view name);

// An event record (type "event") of a FAN_FS_ERROR event.
bool is_fs_error_event(const json& r);

}  // namespace fsfault::vm
