// fsfault-guest: the guest-side harness. Statically linked; runs as /init in
// the initramfs the runner builds (runner/kernel/kernel.cpp, build_initramfs).
//
// Life cycle:
//   1. mount proc, sysfs, devtmpfs; load the modules listed in
//      /etc/fsfault/modules.load (host-computed dependency order);
//   2. open the virtio-serial port named "fsfault.ctl" and say hello
//      (kernel release, version string);
//   3. receive the scenario as one JSON line (disks, steps), execute the
//      steps, and stream one JSON record per fact back to the host;
//   4. drain /dev/kmsg into records, send {"type":"done"}, power off.
//
// Why virtio-serial rather than the kernel command line or a file baked into
// the initramfs: phases need a two-way channel anyway (the guest blocks until
// the host's fault server confirmed the phase), and keeping the scenario out
// of the initramfs lets one initramfs per kernel serve every scenario.
//
// The harness records facts only; the host judges (docs/ARCHITECTURE.md).

#include "base/errno_names.h"

#include <nlohmann/json.hpp>

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/fanotify.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

using json = nlohmann::json;
using fsfault::base::errno_name;

namespace {

// ---- small utilities -------------------------------------------------------

long long now_ms() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<long long>(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
}

const long long g_t0 = now_ms();

void console(const std::string& s) {
  // The console (ttyS0) is the runner's last resort when the channel breaks.
  std::string line = "fsfault-guest: " + s + "\n";
  ssize_t r = write(2, line.data(), line.size());
  (void)r;
}


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

bool write_file(const std::string& path, const std::string& data) {
  int fd = open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) return false;
  ssize_t r = write(fd, data.data(), data.size());
  int e = errno;
  close(fd);
  errno = e;
  return r == static_cast<ssize_t>(data.size());
}

std::optional<std::string> read_small(const std::string& path) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  std::string out;
  char buf[4096];
  for (;;) {
    ssize_t r = read(fd, buf, sizeof buf);
    if (r < 0) {
      int e = errno;
      close(fd);
      errno = e;
      return std::nullopt;
    }
    if (r == 0) break;
    out.append(buf, static_cast<size_t>(r));
  }
  close(fd);
  return out;
}

// ---- the channel ------------------------------------------------------------

class Channel {
 public:
  bool open_port() {
    // devtmpfs names virtio-serial ports vportNpM; the host names ours.
    for (int attempt = 0; attempt < 200; ++attempt) {
      if (DIR* d = opendir("/sys/class/virtio-ports")) {
        while (dirent* e = readdir(d)) {
          if (e->d_name[0] == '.') continue;
          std::string base = std::string("/sys/class/virtio-ports/") + e->d_name;
          auto name = read_small(base + "/name");
          if (name && name->rfind("fsfault.ctl", 0) == 0) {
            std::string dev = std::string("/dev/") + e->d_name;
            fd_ = open(dev.c_str(), O_RDWR | O_CLOEXEC);
            if (fd_ >= 0) {
              closedir(d);
              return true;
            }
          }
        }
        closedir(d);
      }
      usleep(25000);
    }
    return false;
  }

  void send(const json& j) {
    std::string line = j.dump(-1, ' ', false, json::error_handler_t::replace) + "\n";
    const char* p = line.data();
    size_t left = line.size();
    while (left > 0) {
      ssize_t r = write(fd_, p, left);
      if (r < 0) {
        if (errno == EINTR) continue;
        if (errno == EAGAIN) {
          usleep(1000);
          continue;
        }
        console(std::string("channel write failed: ") + strerror(errno));
        return;
      }
      p += r;
      left -= static_cast<size_t>(r);
    }
  }

  int fd() const { return fd_; }

  // Blocks for one line (the host always answers).
  std::optional<json> recv(int timeout_ms) {
    long long deadline = now_ms() + timeout_ms;
    for (;;) {
      // Scan only bytes not scanned yet: a plan with shipped files is megabytes on one line,
      // and rescanning it after every 64 KiB read is quadratic (minutes under TCG).
      auto nl = buf_.find('\n', scanned_);
      scanned_ = nl == std::string::npos ? buf_.size() : 0;
      if (nl != std::string::npos) {
        std::string line = buf_.substr(0, nl);
        buf_.erase(0, nl + 1);
        if (line.empty()) continue;
        try {
          return json::parse(line);
        } catch (const std::exception& e) {
          console(std::string("bad line from host: ") + e.what());
          continue;
        }
      }
      long long left = deadline - now_ms();
      if (left <= 0) return std::nullopt;
      pollfd p{fd_, POLLIN, 0};
      int r = poll(&p, 1, static_cast<int>(left));
      if (r <= 0) continue;
      char tmp[65536];
      ssize_t n = read(fd_, tmp, sizeof tmp);
      if (n > 0) {
        buf_.append(tmp, static_cast<size_t>(n));
      } else {
        // POLLHUP while the host side is not connected yet: wait a little.
        usleep(10000);
      }
    }
  }

 private:
  int fd_ = -1;
  std::string buf_;
  size_t scanned_ = 0;  // buf_[0, scanned_) holds no newline
};

Channel g_chan;
long long g_seq = 0;
std::mutex g_record_mu;  // the queue watchers record from their own threads

// Every record after the hello goes through here: one seq order, whole lines.
void record(json j) {
  std::lock_guard<std::mutex> lock(g_record_mu);
  j["seq"] = g_seq++;
  j["t_ms"] = now_ms() - g_t0;
  g_chan.send(j);
}

// ---- kernel log -----------------------------------------------------------

int g_kmsg = -1;

void drain_kmsg() {
  if (g_kmsg < 0) return;
  char buf[8192];
  for (;;) {
    ssize_t n = read(g_kmsg, buf, sizeof buf - 1);
    if (n < 0) {
      if (errno == EPIPE) continue;  // overwritten records: keep reading
      break;                          // EAGAIN: nothing more
    }
    if (n == 0) break;
    buf[n] = 0;
    // Format (Documentation/ABI/testing/dev-kmsg): "prio,seq,usec,flags;text\n"
    std::string rec(buf, static_cast<size_t>(n));
    auto semi = rec.find(';');
    std::string head = semi == std::string::npos ? "" : rec.substr(0, semi);
    std::string text = semi == std::string::npos ? rec : rec.substr(semi + 1);
    auto nl = text.find('\n');
    if (nl != std::string::npos) text.resize(nl);
    json j{{"type", "kmsg"}, {"text", text}};
    unsigned prio = 0;
    unsigned long long kseq = 0, usec = 0;
    if (sscanf(head.c_str(), "%u,%llu,%llu", &prio, &kseq, &usec) == 3) {
      j["level"] = prio & 7;
      j["usec"] = usec;
    }
    record(j);
  }
}

// ---- fanotify ---------------------------------------------------------------

struct Disk {
  std::string dev;
  std::string mountpoint;
  std::string fs;
  std::string options;
};

struct Group {
  int fd = -1;
  std::string name;
  long long events = 0;
};

std::vector<Disk> g_disks;
std::map<std::string, Group> g_groups;
// fsid (as hex of the two words) -> disk index, learnt from statfs at watch time.
std::map<std::string, int> g_fsid_disk;

std::string fsid_key(const __kernel_fsid_t& f) {
  char b[64];
  snprintf(b, sizeof b, "%08x:%08x", static_cast<unsigned>(f.val[0]), static_cast<unsigned>(f.val[1]));
  return b;
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

unsigned long long mask_from_name(const std::string& n) {
  static const std::map<std::string, unsigned long long> m = {
      {"ACCESS", FAN_ACCESS}, {"MODIFY", FAN_MODIFY}, {"ATTRIB", FAN_ATTRIB},
      {"CLOSE_WRITE", FAN_CLOSE_WRITE}, {"CLOSE_NOWRITE", FAN_CLOSE_NOWRITE},
      {"OPEN", FAN_OPEN}, {"CREATE", FAN_CREATE}, {"DELETE", FAN_DELETE},
      {"MOVED_FROM", FAN_MOVED_FROM}, {"MOVED_TO", FAN_MOVED_TO}, {"FS_ERROR", FAN_FS_ERROR},
      {"ONDIR", FAN_ONDIR}, {"DELETE_SELF", FAN_DELETE_SELF}, {"MOVE_SELF", FAN_MOVE_SELF}};
  auto it = m.find(n);
  return it == m.end() ? 0 : it->second;
}

// Decodes one event's info records (include/uapi/linux/fanotify.h:
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
      j["error_name"] = errno_name(er->error);
      j["error_count"] = er->error_count;
      info["kind"] = "error";
    } else if (hdr->info_type == FAN_EVENT_INFO_TYPE_FID || hdr->info_type == FAN_EVENT_INFO_TYPE_DFID ||
               hdr->info_type == FAN_EVENT_INFO_TYPE_DFID_NAME) {
      auto* fid = reinterpret_cast<const fanotify_event_info_fid*>(p);
      const auto* fh = reinterpret_cast<const file_handle*>(fid->handle);
      std::string key = fsid_key(fid->fsid);
      info["kind"] = hdr->info_type == FAN_EVENT_INFO_TYPE_FID ? "fid" : "dfid";
      info["fsid"] = key;
      info["handle_type"] = fh->handle_type;
      info["handle_bytes"] = fh->handle_bytes;
      size_t avail = static_cast<size_t>(end - fh->f_handle);
      size_t nb = std::min<size_t>(fh->handle_bytes, avail);
      info["handle"] = hex(fh->f_handle, nb);
      // Known handle layouts (include/linux/exportfs.h enum fid_type;
      // fs/xfs/xfs_export.c for the 64-bit XFS variant, flag 0x80).
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
      if (hdr->info_type == FAN_EVENT_INFO_TYPE_FID) {
        // The event's primary FID: lift it to the top level for the judge.
        for (auto k : {"fsid", "handle_type", "handle_bytes", "handle", "ino", "gen"})
          if (info.contains(k)) j[k] = info[k];
        auto d = g_fsid_disk.find(key);
        if (d != g_fsid_disk.end()) j["disk"] = d->second;
      }
    }
    infos.push_back(info);
    p += hdr->len;
  }
  j["info"] = infos;
  return j;
}

int fionread(int fd) {
  int n = 0;
  if (ioctl(fd, FIONREAD, &n) < 0) return -1;
  return n;
}

// Reads every event queued on the group now.
int read_group(Group& g) {
  alignas(fanotify_event_metadata) unsigned char buf[65536];
  int count = 0;
  for (;;) {
    ssize_t n = read(g.fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      break;  // EAGAIN: empty
    }
    if (n == 0) break;
    auto* md = reinterpret_cast<fanotify_event_metadata*>(buf);
    while (FAN_EVENT_OK(md, n)) {
      json j = decode_event(md, g.name);
      j["index"] = g.events++;
      record(j);
      if (md->fd >= 0) close(md->fd);
      ++count;
      md = FAN_EVENT_NEXT(md, n);
    }
  }
  return count;
}

// Waits for events with a bounded timeout, then for the queue to settle
// (FIONREAD unchanged for settle_ms), then drains. Events on 7.x arrive from
// a workqueue (fs/fserror.c), so a fixed sleep would be wrong both ways.
json read_events(Group& g, int timeout_ms, int settle_ms, int min_events) {
  long long start = now_ms();
  long long deadline = start + timeout_ms;
  int last = fionread(g.fd);
  long long last_change = now_ms();
  // Phase 1: wait for anything (or for min_events worth of bytes is unknowable:
  // we wait for the queue to be non-empty when min_events > 0).
  if (min_events > 0) {
    while (fionread(g.fd) <= 0 && now_ms() < deadline) {
      pollfd p{g.fd, POLLIN, 0};
      poll(&p, 1, static_cast<int>(std::max(1LL, std::min(100LL, deadline - now_ms()))));
    }
    last = fionread(g.fd);
    last_change = now_ms();
  }
  // Phase 2: settle.
  while (now_ms() < deadline || (min_events > 0 && last > 0 && now_ms() - last_change < settle_ms)) {
    if (now_ms() - last_change >= settle_ms) break;
    usleep(20000);
    int cur = fionread(g.fd);
    if (cur != last) {
      last = cur;
      last_change = now_ms();
    }
    if (now_ms() > deadline + settle_ms * 4) break;
  }
  int queued = fionread(g.fd);
  int n = read_group(g);
  return json{{"events", n}, {"fionread_before", queued}, {"waited_ms", now_ms() - start}};
}

// Records when a group's queue first holds an event, from a thread of its own: read-events runs
// after the workload, so an event record's t_ms says when it was read, not when the kernel
// queued it. poll() does not consume; fsfault repro reports "first fault -> first event" from
// this record (docs/vm-test.md).
void watch_first_event(int fd, const std::string& group) {
  std::thread([fd, group] {
    for (;;) {
      pollfd p{fd, POLLIN, 0};
      int r = poll(&p, 1, -1);
      if (r > 0 && (p.revents & POLLIN)) {
        record(json{{"type", "first-event"}, {"group", group}, {"fionread", fionread(fd)}});
        return;
      }
      if (r < 0 && errno != EINTR) return;
    }
  }).detach();
}

// ---- shipped files ([[file]] in the scenario) ------------------------------------

std::optional<std::string> base64_decode(const std::string& in) {
  std::string out;
  out.reserve(in.size() / 4 * 3);
  unsigned v = 0;
  int bits = 0;
  for (char c : in) {
    int d = c >= 'A' && c <= 'Z' ? c - 'A' : c >= 'a' && c <= 'z' ? c - 'a' + 26 : c >= '0' && c <= '9' ? c - '0' + 52
          : c == '+' ? 62 : c == '/' ? 63 : c == '=' ? -2 : -1;
    if (d == -2) break;
    if (d < 0) return std::nullopt;
    v = (v << 6) | static_cast<unsigned>(d);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((v >> bits) & 0xff));
    }
  }
  return out;
}

int mkdir_parents(const std::string& path) {
  for (size_t i = path.find('/', 1); i != std::string::npos; i = path.find('/', i + 1))
    if (mkdir(path.substr(0, i).c_str(), 0755) < 0 && errno != EEXIST) return errno;
  return 0;
}

// Writes one shipped file (parents created, mode set regardless of the umask) and records it;
// the judge fails the scenario when ok is false.
void put_file(const json& f) {
  std::string dst = f.value("dst", std::string());
  int mode = f.value("mode", 0644);
  json out{{"type", "file"}, {"dst", dst}, {"mode", mode}};
  int err = 0;
  auto data = base64_decode(f.value("base64", std::string()));
  if (!data) {
    err = EINVAL;
    out["detail"] = "bad base64";
  } else if (data->size() != f.value("bytes", data->size())) {
    err = EINVAL;
    out["detail"] = "size mismatch";
  } else if ((err = mkdir_parents(dst)) == 0) {
    int fd = open(dst.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) {
      err = errno;
    } else {
      size_t off = 0;
      while (off < data->size() && !err) {
        ssize_t w = write(fd, data->data() + off, data->size() - off);
        if (w < 0 && errno != EINTR) err = errno;
        if (w > 0) off += static_cast<size_t>(w);
      }
      if (!err && fchmod(fd, static_cast<mode_t>(mode)) < 0) err = errno;
      if (close(fd) < 0 && !err) err = errno;
    }
    out["bytes"] = data->size();
  }
  out["errno"] = err;
  out["errno_name"] = errno_name(err);
  out["ok"] = err == 0;
  record(out);
}

// ---- steps ---------------------------------------------------------------------

struct Ctx {
  bool stop = false;
};

std::string path_of(const json& s) {
  int disk = s.value("disk", 0);
  std::string p = s.value("path", std::string("/"));
  if (disk < 0 || disk >= static_cast<int>(g_disks.size())) return p;
  if (p.rfind("/abs:", 0) == 0) return p.substr(5);  // "/abs:/sys/..." -> "/sys/..."
  return g_disks[disk].mountpoint + (p.empty() || p[0] != '/' ? "/" : "") + p;
}

int do_mount(const json& s, json& out) {
  int disk = s.value("disk", 0);
  if (disk < 0 || disk >= static_cast<int>(g_disks.size())) {
    out["detail"] = "no such disk";
    return EINVAL;
  }
  Disk& d = g_disks[disk];
  std::string fs = s.value("fs", d.fs);
  std::string opts = s.value("options", d.options);
  unsigned long flags = 0;
  std::string data;
  // mount(8)-style flags the harness understands; the rest goes to the fs.
  size_t pos = 0;
  while (pos <= opts.size() && !opts.empty()) {
    size_t c = opts.find(',', pos);
    std::string o = opts.substr(pos, c == std::string::npos ? std::string::npos : c - pos);
    if (o == "ro") flags |= MS_RDONLY;
    else if (o == "remount") flags |= MS_REMOUNT;
    else if (o == "sync") flags |= MS_SYNCHRONOUS;
    else if (o == "noatime") flags |= MS_NOATIME;
    else if (o == "rw") {
    } else if (!o.empty()) data += (data.empty() ? "" : ",") + o;
    if (c == std::string::npos) break;
    pos = c + 1;
  }
  mkdir(d.mountpoint.c_str(), 0755);
  out["dev"] = d.dev;
  out["mountpoint"] = d.mountpoint;
  out["fs"] = fs;
  out["options"] = opts;
  if (mount(d.dev.c_str(), d.mountpoint.c_str(), fs.c_str(), flags, data.empty() ? nullptr : data.c_str()) < 0)
    return errno;
  return 0;
}

void run_steps(const json& steps, const std::string& prefix, Ctx& ctx);

void run_step(const json& s, const std::string& id, Ctx& ctx) {
  std::string op = s.value("do", std::string());
  json out{{"type", "step"}, {"id", id}, {"do", op}};
  if (s.contains("path")) out["path"] = s["path"];
  if (s.contains("disk")) out["disk"] = s["disk"];
  // A scenario names a step it wants to judge (`label = "before"`): the
  // positional id shifts with implicit mounts and edits, the label does not.
  if (s.contains("label")) out["label"] = s["label"];
  if (s.value("implicit", false)) out["implicit"] = true;
  long long t = now_ms();
  int err = 0;
  bool emit = true;

  if (op == "mount") {
    err = do_mount(s, out);
  } else if (op == "umount") {
    int disk = s.value("disk", 0);
    if (umount2(g_disks.at(disk).mountpoint.c_str(), s.value("lazy", false) ? MNT_DETACH : 0) < 0) err = errno;
  } else if (op == "watch") {
    std::string gname = s.value("group", std::string("default"));
    Group& g = g_groups[gname];
    g.name = gname;
    if (g.fd < 0) {
      if (s.contains("max_queued_events")) {
        // Read once when the group is created (fs/notify/fanotify/fanotify_user.c,
        // fanotify_init: group->max_events = fanotify_max_queued_events).
        std::string v = std::to_string(s["max_queued_events"].get<long long>());
        if (!write_file("/proc/sys/fs/fanotify/max_queued_events", v)) out["max_queued_events_errno"] = errno;
        out["max_queued_events"] = s["max_queued_events"];
      }
      g.fd = fanotify_init(FAN_CLASS_NOTIF | FAN_REPORT_FID | FAN_NONBLOCK | FAN_CLOEXEC, O_RDONLY);
      if (g.fd < 0) err = errno;
      else watch_first_event(g.fd, gname);
    }
    if (!err) {
      std::vector<int> disks;
      if (s.contains("disks")) {
        for (auto& d : s["disks"]) disks.push_back(d.get<int>());
      } else {
        disks.push_back(s.value("disk", 0));
      }
      unsigned long long mask = FAN_FS_ERROR;
      if (s.contains("events"))
        for (auto& e : s["events"]) mask |= mask_from_name(e.get<std::string>());
      out["mask"] = mask;
      json fsids = json::array();
      for (int d : disks) {
        const std::string& mp = g_disks.at(d).mountpoint;
        if (fanotify_mark(g.fd, FAN_MARK_ADD | FAN_MARK_FILESYSTEM, mask, AT_FDCWD, mp.c_str()) < 0) {
          err = errno;
          break;
        }
        struct statfs sf{};
        if (statfs(mp.c_str(), &sf) == 0) {
          __kernel_fsid_t f;
          memcpy(&f, &sf.f_fsid, sizeof f);
          g_fsid_disk[fsid_key(f)] = d;
          fsids.push_back(json{{"disk", d}, {"fsid", fsid_key(f)}});
        }
      }
      out["fsids"] = fsids;
      out["group"] = gname;
    }
  } else if (op == "drop-caches") {
    // Several passes: the dcache/icache shrinkers give recently referenced
    // objects a second chance (fs/dcache.c dentry_lru_isolate() rotates
    // DCACHE_REFERENCED dentries instead of freeing them), so a single write
    // to drop_caches can leave the dentry -- and the inode below it -- cached.
    int passes = s.value("passes", 3);
    for (int i = 0; i < passes && !err; ++i) {
      sync();
      if (!write_file("/proc/sys/vm/drop_caches", s.value("value", std::string("3")))) err = errno;
    }
    // drop_caches leaves the filesystems' metadata buffers (the block
    // device's page cache) in place here -- seen on 6.1: the inode-table
    // block of a mounted ext4 survived three passes. BLKFLSBUF
    // (block/ioctl.c: sync_blockdev + invalidate_bdev) drops them.
    if (!err && s.value("flush_bdev", true))
      for (auto& d : g_disks) {
        int fd = open(d.dev.c_str(), O_RDONLY | O_CLOEXEC);
        if (fd < 0) continue;
        if (ioctl(fd, BLKFLSBUF, 0) < 0) out["flush_errno"] = errno;
        close(fd);
      }
  } else if (op == "sync") {
    sync();
  } else if (op == "phase") {
    std::string name = s.value("name", std::string());
    out["name"] = name;
    record(json{{"type", "phase"}, {"name", name}});
    auto reply = g_chan.recv(s.value("timeout_ms", 60000));
    if (!reply) {
      err = ETIMEDOUT;
    } else if (!reply->value("ok", false)) {
      err = EPROTO;
      out["detail"] = reply->value("error", std::string("host refused the phase"));
    }
  } else if (op == "stat" || op == "lstat") {
    struct stat st{};
    std::string p = path_of(s);
    if ((op == "stat" ? stat(p.c_str(), &st) : lstat(p.c_str(), &st)) < 0) {
      err = errno;
    } else {
      out["ino"] = st.st_ino;
      out["size"] = st.st_size;
      out["mode"] = st.st_mode;
    }
  } else if (op == "read") {
    std::string p = path_of(s);
    int fd = open(p.c_str(), O_RDONLY | O_CLOEXEC | (s.value("direct", false) ? O_DIRECT : 0));
    if (fd < 0) {
      err = errno;
    } else {
      long long want = s.value("bytes", -1LL), total = 0;
      long long off = s.value("offset", 0LL);
      alignas(4096) static unsigned char buf[1 << 16];
      for (;;) {
        size_t chunk = sizeof buf;
        if (want >= 0 && want - total < static_cast<long long>(chunk)) chunk = static_cast<size_t>(want - total);
        if (chunk == 0) break;
        ssize_t r = pread(fd, buf, chunk, off + total);
        if (r < 0) {
          err = errno;
          break;
        }
        if (r == 0) break;
        total += r;
      }
      out["bytes"] = total;
      close(fd);
    }
  } else if (op == "write" || op == "append") {
    std::string p = path_of(s);
    int flags = O_WRONLY | O_CLOEXEC | (s.value("create", true) ? O_CREAT : 0) | (op == "append" ? O_APPEND : 0);
    if (s.value("truncate", false)) flags |= O_TRUNC;
    int fd = open(p.c_str(), flags, 0644);
    if (fd < 0) {
      err = errno;
    } else {
      long long want = s.value("bytes", 4096LL), total = 0;
      long long off = s.value("offset", 0LL);
      std::string pat = s.value("pattern", std::string("fsfault"));
      std::vector<char> buf(65536);
      for (size_t i = 0; i < buf.size(); ++i) buf[i] = pat[i % pat.size()];
      while (total < want) {
        size_t chunk = static_cast<size_t>(std::min<long long>(want - total, static_cast<long long>(buf.size())));
        ssize_t r = op == "append" ? write(fd, buf.data(), chunk) : pwrite(fd, buf.data(), chunk, off + total);
        if (r < 0) {
          err = errno;
          break;
        }
        total += r;
      }
      out["bytes"] = total;
      if (!err && s.value("fsync", false) && fsync(fd) < 0) err = errno;
      if (close(fd) < 0 && !err) err = errno;
    }
  } else if (op == "create") {
    std::string dir = path_of(s);
    int count = s.value("count", 1);
    std::string prefix = s.value("prefix", std::string("f"));
    int made = 0;
    for (int i = 0; i < count; ++i) {
      std::string p = dir + "/" + prefix + std::to_string(i);
      int fd = open(p.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
      if (fd < 0) {
        err = errno;
        break;
      }
      close(fd);
      ++made;
    }
    out["created"] = made;
  } else if (op == "mkdir") {
    if (mkdir(path_of(s).c_str(), 0755) < 0) err = errno;
  } else if (op == "readdir") {
    DIR* d = opendir(path_of(s).c_str());
    if (!d) {
      err = errno;
    } else {
      int n = 0;
      errno = 0;
      while (readdir(d)) ++n;
      if (errno) err = errno;
      out["entries"] = n;
      closedir(d);
    }
  } else if (op == "fsync") {
    int fd = open(path_of(s).c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      err = errno;
    } else {
      if (fsync(fd) < 0) err = errno;
      close(fd);
    }
  } else if (op == "hold") {
    // Keeps a file or directory open until the guest powers off: its dentry
    // and inode survive drop-caches, so a later lookup below it reads only
    // the child's metadata from the device.
    int fd = open(path_of(s).c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) err = errno;
    else out["fd"] = fd;
  } else if (op == "unlink") {
    if (unlink(path_of(s).c_str()) < 0) err = errno;
  } else if (op == "rmdir") {
    if (rmdir(path_of(s).c_str()) < 0) err = errno;
  } else if (op == "sleep") {
    usleep(static_cast<useconds_t>(s.value("ms", 100)) * 1000);
  } else if (op == "repeat") {
    emit = false;
    int times = s.value("times", 1);
    for (int i = 0; i < times && !ctx.stop; ++i) run_steps(s.value("steps", json::array()), id + "#" + std::to_string(i) + "/", ctx);
  } else if (op == "read-events") {
    std::string gname = s.value("group", std::string("default"));
    auto it = g_groups.find(gname);
    if (it == g_groups.end() || it->second.fd < 0) {
      err = EBADF;
    } else {
      out.update(read_events(it->second, s.value("timeout_ms", 5000), s.value("settle_ms", 500), s.value("min", 1)));
    }
  } else if (op == "fionread") {
    auto it = g_groups.find(s.value("group", std::string("default")));
    if (it == g_groups.end()) err = EBADF;
    else out["fionread"] = fionread(it->second.fd);
  } else if (op == "read-file") {  // e.g. /sys/fs/ext4/vda/errors_count
    std::string p = s.value("path", std::string());
    auto v = read_small(p);
    if (!v) err = errno;
    else out["value"] = *v;
  } else if (op == "write-file") {
    if (!write_file(s.value("path", std::string()), s.value("value", std::string()))) err = errno;
  } else if (op == "exec") {
    std::vector<std::string> argv;
    if (s.contains("argv")) {
      for (auto& a : s["argv"]) argv.push_back(a.get<std::string>());
    } else {
      argv = {"/bin/sh", "-c", s.value("sh", std::string("true"))};
    }
    if (argv.empty()) argv.push_back("");
    // stdout = "channel": the child writes raw bytes onto the host channel (runner tests of a
    // guest that floods the host with garbage; the port opens only once, so no other way in).
    const bool to_channel = s.value("stdout", std::string()) == "channel";
    int pfd[2] = {-1, -1};
    if (pipe2(pfd, O_CLOEXEC) < 0) pfd[0] = pfd[1] = -1;
    // A second close-on-exec pipe carries execv's errno: it closes unread when the exec worked.
    int efd[2] = {-1, -1};
    if (pipe2(efd, O_CLOEXEC) < 0) efd[0] = efd[1] = -1;
    std::string cwd = s.value("cwd", std::string());
    pid_t pid = fork();
    if (pid == 0) {
      if (!cwd.empty() && chdir(cwd.c_str()) < 0) {
        int e = errno;
        ssize_t w = write(efd[1], &e, sizeof e);
        (void)w;
        _exit(127);
      }
      if (pfd[1] >= 0) {
        dup2(pfd[1], 1);
        dup2(pfd[1], 2);
      }
      if (to_channel) dup2(g_chan.fd(), 1);
      std::vector<char*> av;
      for (auto& a : argv) av.push_back(a.data());
      av.push_back(nullptr);
      execv(av[0], av.data());
      if (errno == ENOEXEC) {
        // A script without "#!": run it with busybox sh, as execvp(3) would.
        std::vector<char*> sh{const_cast<char*>("/bin/sh")};
        sh.insert(sh.end(), av.begin(), av.end());
        execv("/bin/sh", sh.data());
      }
      int e = errno;
      if (efd[1] >= 0) {
        ssize_t w = write(efd[1], &e, sizeof e);
        (void)w;
      }
      _exit(127);
    }
    if (pfd[1] >= 0) close(pfd[1]);
    if (efd[1] >= 0) close(efd[1]);
    std::string output;
    if (pfd[0] >= 0) {
      char b[4096];
      ssize_t n;
      while ((n = read(pfd[0], b, sizeof b)) > 0)
        if (output.size() < 65536) output.append(b, static_cast<size_t>(n));
      close(pfd[0]);
    }
    int exec_errno = 0;
    if (efd[0] >= 0) {
      if (read(efd[0], &exec_errno, sizeof exec_errno) != static_cast<ssize_t>(sizeof exec_errno)) exec_errno = 0;
      close(efd[0]);
    }
    int st = 0;
    if (pid < 0 || waitpid(pid, &st, 0) < 0) err = errno;
    else if (exec_errno) err = exec_errno;  // e.g. ENOENT: the [[file]] was not shipped
    else out["exit"] = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    out["output"] = output;
  } else if (op == "kmsg") {
    drain_kmsg();
  } else {
    err = ENOSYS;
    out["detail"] = "unknown step";
  }
  if (!emit) return;
  out["ms"] = now_ms() - t;
  out["errno"] = err;
  out["errno_name"] = errno_name(err);
  out["ok"] = err == 0;
  record(out);
  if (err && s.value("stop_on_error", false)) ctx.stop = true;
}

void run_steps(const json& steps, const std::string& prefix, Ctx& ctx) {
  int i = 0;
  for (auto& s : steps) {
    if (ctx.stop) return;
    run_step(s, prefix + std::to_string(i++), ctx);
  }
}

void load_modules() {
  auto list = read_small("/etc/fsfault/modules.load");
  if (!list) return;
  size_t pos = 0;
  while (pos < list->size()) {
    size_t nl = list->find('\n', pos);
    std::string path = list->substr(pos, nl == std::string::npos ? std::string::npos : nl - pos);
    pos = nl == std::string::npos ? list->size() : nl + 1;
    if (path.empty()) continue;
    int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      console("cannot open module " + path);
      continue;
    }
    if (syscall(SYS_finit_module, fd, "", 0) < 0 && errno != EEXIST)
      console("finit_module " + path + ": " + strerror(errno));
    close(fd);
  }
}

[[noreturn]] void power_off() {
  sync();
  reboot(RB_POWER_OFF);
  for (;;) pause();
}

}  // namespace

int main(int argc, char** argv) {
  (void)argc;
  (void)argv;
  mkdir("/proc", 0755);
  mkdir("/sys", 0755);
  mkdir("/dev", 0755);
  mkdir("/mnt", 0755);
  mkdir("/tmp", 01777);
  mount("proc", "/proc", "proc", 0, nullptr);
  mount("sysfs", "/sys", "sysfs", 0, nullptr);
  mount("devtmpfs", "/dev", "devtmpfs", 0, nullptr);
  mount("tmpfs", "/tmp", "tmpfs", 0, nullptr);
  // The kernel opens /dev/console for init; make sure 0-2 exist either way.
  if (fcntl(2, F_GETFD) < 0) {
    int c = open("/dev/console", O_RDWR);
    if (c >= 0) {
      dup2(c, 0);
      dup2(c, 1);
      dup2(c, 2);
      if (c > 2) close(c);
    }
  }
  setenv("PATH", "/bin:/sbin:/usr/bin:/usr/sbin", 1);
  g_kmsg = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);

  auto cmdline = read_small("/proc/cmdline").value_or("");
  if (cmdline.find("fsfault.probe=1") != std::string::npos) {
    // Acceleration probe: reaching userspace is all we need to know.
    console("PROBE-OK");
    power_off();
  }

  load_modules();
  console("modules loaded at " + std::to_string(now_ms() - g_t0) + " ms");
  if (!g_chan.open_port()) {
    console("no fsfault.ctl port; is virtio_console loaded?");
    power_off();
  }
  utsname u{};
  uname(&u);
  g_chan.send(json{{"type", "hello"}, {"release", u.release}, {"version", u.version}, {"t_ms", now_ms() - g_t0}});
  auto sc = g_chan.recv(60000);
  if (!sc || sc->value("type", std::string()) != "scenario") {
    console("no scenario from host");
    power_off();
  }
  for (auto& d : (*sc)["disks"]) {
    Disk disk;
    disk.dev = d.value("dev", std::string());
    disk.mountpoint = d.value("mountpoint", std::string());
    disk.fs = d.value("fs", std::string("ext4"));
    disk.options = d.value("options", std::string());
    g_disks.push_back(disk);
  }
  for (auto& f : sc->value("files", json::array())) put_file(f);
  Ctx ctx;
  run_steps((*sc)["steps"], "", ctx);
  // Final drain: whatever is still queued is a fact too.
  for (auto& [name, g] : g_groups) {
    if (g.fd < 0) continue;
    json out{{"type", "drain"}, {"group", name}};
    out.update(read_events(g, 0, sc->value("final_settle_ms", 300), 0));
    record(out);
  }
  drain_kmsg();
  record(json{{"type", "done"}});
  // Give the host a moment to read the last line before the port vanishes.
  usleep(100000);
  power_off();
}
