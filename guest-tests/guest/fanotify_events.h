// Decoding one fanotify event into its record (type "event").
#pragma once

#include <nlohmann/json.hpp>

#include <sys/fanotify.h>

#include <string>

namespace fsfault::guest {

// The event's record: mask and its names, fd, pid, the info records (error, fid, dfid) and,
// for the primary FID, fsid/handle/ino/gen and the disk lifted to the top level.
nlohmann::json decode_event(const fanotify_event_metadata* md, const std::string& group);

}  // namespace fsfault::guest
