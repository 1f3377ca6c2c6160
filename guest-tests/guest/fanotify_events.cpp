#include "guest-tests/guest/fanotify_events.h"

#include "base/errno_names.h"
#include "guest-tests/guest/fanotify_groups.h"

#include <fcntl.h>

#include <algorithm>
#include <cstring>

namespace fsfault::guest {

using json = nlohmann::json;

namespace {

std::string hex(const unsigned char* p, size_t n) {
  static const char* d = "0123456789abcdef";
  std::string s;
  s.reserve(2 * n);
  for (size_t i = 0; i < n; ++i) {
    s.push_back(d[p[i] >> 4]);
    s.push_back(d[p[i] & 15]);
  }
  return s;
}

json mask_names(unsigned long long m) {
  json a = json::array();
  struct {
    unsigned long long bit;
    const char* name;
  } const bits[] = {
      {FAN_ACCESS, "ACCESS"},         {FAN_MODIFY, "MODIFY"},       {FAN_ATTRIB, "ATTRIB"},
      {FAN_CLOSE_WRITE, "CLOSE_WRITE"}, {FAN_CLOSE_NOWRITE, "CLOSE_NOWRITE"},
      {FAN_OPEN, "OPEN"},             {FAN_MOVED_FROM, "MOVED_FROM"}, {FAN_MOVED_TO, "MOVED_TO"},
      {FAN_CREATE, "CREATE"},         {FAN_DELETE, "DELETE"},       {FAN_DELETE_SELF, "DELETE_SELF"},
      {FAN_MOVE_SELF, "MOVE_SELF"},   {FAN_OPEN_EXEC, "OPEN_EXEC"}, {FAN_Q_OVERFLOW, "Q_OVERFLOW"},
      {FAN_FS_ERROR, "FS_ERROR"},     {FAN_ONDIR, "ONDIR"},
  };
  for (auto& b : bits)
    if (m & b.bit) a.push_back(b.name);
  return a;
}

// ino/gen (and the parent's) from the handle layouts we know (include/linux/exportfs.h enum
// fid_type; fs/xfs/xfs_export.c for the 64-bit XFS variant, flag 0x80).
void decode_handle(const file_handle* fh, size_t nb, json& info) {
  auto u32 = [&](size_t off) {
    unsigned v = 0;
    if (off + 4 <= nb) memcpy(&v, fh->f_handle + off, 4);
    return v;
  };
  if ((fh->handle_type == 1 || fh->handle_type == 2) && nb >= 8) {  // FILEID_INO32_GEN[_PARENT]
    info["ino"] = u32(0);
    info["gen"] = u32(4);
    if (fh->handle_type == 2 && nb >= 16) {
      info["parent_ino"] = u32(8);
      info["parent_gen"] = u32(12);
    }
  } else if ((fh->handle_type == 0x81 || fh->handle_type == 0x82) && nb >= 12) {  // XFS 64-bit
    unsigned long long ino = 0;
    memcpy(&ino, fh->f_handle, 8);
    info["ino"] = ino;
    info["gen"] = u32(8);
  }
}

// One FID/DFID/DFID_NAME info record into info; the primary FID is lifted into the event j.
void decode_fid(const fanotify_event_info_header* hdr, const unsigned char* end, json& info, json& j) {
  auto* fid = reinterpret_cast<const fanotify_event_info_fid*>(hdr);
  const auto* fh = reinterpret_cast<const file_handle*>(fid->handle);
  std::string key = fsid_key(fid->fsid);
  info["kind"] = hdr->info_type == FAN_EVENT_INFO_TYPE_FID ? "fid" : "dfid";
  info["fsid"] = key;
  info["handle_type"] = fh->handle_type;
  info["handle_bytes"] = fh->handle_bytes;
  size_t avail = static_cast<size_t>(end - fh->f_handle);
  size_t nb = std::min<size_t>(fh->handle_bytes, avail);
  info["handle"] = hex(fh->f_handle, nb);
  decode_handle(fh, nb, info);
  if (hdr->info_type == FAN_EVENT_INFO_TYPE_FID) {
    // The event's primary FID: lift it to the top level for the judge.
    for (auto k : {"fsid", "handle_type", "handle_bytes", "handle", "ino", "gen"})
      if (info.contains(k)) j[k] = info[k];
    auto d = fsid_disks().find(key);
    if (d != fsid_disks().end()) j["disk"] = d->second;
  }
}

}  // namespace

// The info records follow the metadata (include/uapi/linux/fanotify.h:
// struct fanotify_event_info_header / _fid / _error).
json decode_event(const fanotify_event_metadata* md, const std::string& group) {
  json j{{"type", "event"}, {"group", group}, {"mask", md->mask}, {"mask_names", mask_names(md->mask)},
         {"fd", md->fd}, {"pid", md->pid}, {"event_len", md->event_len}};
  const unsigned char* p = reinterpret_cast<const unsigned char*>(md) + md->metadata_len;
  const unsigned char* end = reinterpret_cast<const unsigned char*>(md) + md->event_len;
  json infos = json::array();
  while (p + sizeof(fanotify_event_info_header) <= end) {
    auto* hdr = reinterpret_cast<const fanotify_event_info_header*>(p);
    if (hdr->len < sizeof *hdr || p + hdr->len > end) break;
    json info{{"info_type", hdr->info_type}, {"len", hdr->len}};
    if (hdr->info_type == FAN_EVENT_INFO_TYPE_ERROR) {
      auto* er = reinterpret_cast<const fanotify_event_info_error*>(p);
      j["error"] = er->error;
      j["error_name"] = fsfault::base::errno_name(er->error);
      j["error_count"] = er->error_count;
      info["kind"] = "error";
    } else if (hdr->info_type == FAN_EVENT_INFO_TYPE_FID || hdr->info_type == FAN_EVENT_INFO_TYPE_DFID ||
               hdr->info_type == FAN_EVENT_INFO_TYPE_DFID_NAME) {
      decode_fid(hdr, end, info, j);
    }
    infos.push_back(info);
    p += hdr->len;
  }
  j["info"] = infos;
  return j;
}

}  // namespace fsfault::guest
