#include "runner/vm/vm.h"

#include "runner/vm/disk_images.h"
#include "runner/vm/run_dir.h"
#include "base/files.h"
#include "process/command_line.h"
#include "process/process.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <mutex>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace fsfault::vm {

namespace fs = std::filesystem;

namespace {

using Clock = std::chrono::steady_clock;
using proc::Child;
using proc::termination_signal;
using std::chrono::milliseconds;

// Guest records are small (the largest, an exec step's output, is capped at
// 64 KiB by the guest before JSON escaping); anything near these limits is a
// broken or hostile guest, not data.
constexpr size_t kMaxRecordBytes = 1 << 20;        // one line
constexpr size_t kMaxRecordTotal = 32u << 20;      // all lines of a run
// How often the record loop looks at the processes and the console.
constexpr int kWatchMs = 200;

long long ms_since(Clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t).count();
}

sockaddr_un unix_addr(const std::string& path) {
  sockaddr_un a{};
  a.sun_family = AF_UNIX;
  if (path.size() >= sizeof a.sun_path) throw std::runtime_error("socket path too long: " + path);
  memcpy(a.sun_path, path.c_str(), path.size() + 1);
  return a;
}

int connect_unix(const std::string& path) {
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  sockaddr_un a = unix_addr(path);
  if (connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) < 0) {
    close(fd);
    return -1;
  }
  return fd;
}

// Bounded retry: the server creates its sockets before it accepts.
int connect_retry(const std::string& path, int timeout_ms, Child& server) {
  auto t0 = Clock::now();
  for (;;) {
    int fd = connect_unix(path);
    if (fd >= 0) return fd;
    if (server.running() && server.wait_for(milliseconds(0))) return -2;
    if (ms_since(t0) > timeout_ms || termination_signal()) return -1;
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
  }
}

// Lines from a peer we do not trust (the guest, a dying server): a line longer
// than max_line is refused rather than buffered, so memory stays bounded.
class LineReader {
 public:
  static constexpr int kTooLong = -2;
  explicit LineReader(int fd, size_t max_line = kMaxRecordBytes) : fd_(fd), max_line_(max_line) {}
  // 1: line, 0: timeout, -1: EOF/error, kTooLong: no newline within max_line bytes
  int next(std::string& line, int timeout_ms) {
    auto t0 = Clock::now();
    for (;;) {
      auto nl = buf_.find('\n', scan_);
      if (nl != std::string::npos) {
        line.assign(buf_, pos_, nl - pos_);
        pos_ = scan_ = nl + 1;
        if (pos_ == buf_.size()) {
          buf_.clear();
          pos_ = scan_ = 0;
        }
        return 1;
      }
      scan_ = buf_.size();
      if (buf_.size() - pos_ > max_line_) return kTooLong;
      if (pos_ > 0) {  // compact only when no line is left: one move per read, not per line
        buf_.erase(0, pos_);
        scan_ -= pos_;
        pos_ = 0;
      }
      int left = timeout_ms - static_cast<int>(ms_since(t0));
      if (left <= 0) return 0;
      pollfd p{fd_, POLLIN, 0};
      int r = poll(&p, 1, std::min(left, 200));
      if (r < 0 && errno != EINTR) return -1;
      if (termination_signal()) return -1;
      if (r <= 0) continue;
      char b[65536];
      ssize_t n = read(fd_, b, sizeof b);
      if (n == 0) return -1;
      if (n < 0) {
        if (errno == EINTR || errno == EAGAIN) continue;
        return -1;
      }
      buf_.append(b, static_cast<size_t>(n));
    }
  }

 private:
  int fd_;
  size_t max_line_;
  std::string buf_;
  size_t pos_ = 0;   // start of the first unreturned line
  size_t scan_ = 0;  // buf_[pos_, scan_) holds no newline
};

// "ab\x01..." : the start of an untrusted line, printable.
std::string excerpt(const std::string& s, size_t n = 60) {
  std::string o;
  for (size_t i = 0; i < s.size() && i < n; ++i) {
    unsigned char ch = static_cast<unsigned char>(s[i]);
    if (ch >= 0x20 && ch < 0x7f) {
      o += static_cast<char>(ch);
    } else {
      char b[8];
      snprintf(b, sizeof b, "\\x%02x", ch);
      o += b;
    }
  }
  return o + (s.size() > n ? "..." : "");
}

// Follows console.log as QEMU writes it and remembers the kernel's panic line,
// printed by panic() in kernel/panic.c as "Kernel panic - not syncing: ...".
class ConsoleWatch {
 public:
  explicit ConsoleWatch(std::string path) : path_(std::move(path)) {}
  // Reads what was appended since the last call (a bounded amount per call).
  std::optional<std::string> panic_line() {
    if (panic_) return panic_;
    int fd = open(path_.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return std::nullopt;
    char b[65536];
    for (int i = 0; i < 64 && !panic_; ++i) {
      ssize_t n = pread(fd, b, sizeof b, off_);
      if (n <= 0) break;
      off_ += n;
      for (ssize_t k = 0; k < n && !panic_; ++k) {
        if (b[k] != '\n') {
          if (line_.size() < 4096) line_ += b[k];
          continue;
        }
        if (!line_.empty() && line_.back() == '\r') line_.pop_back();
        auto at = line_.find("Kernel panic - not syncing");
        if (at != std::string::npos) panic_ = line_.substr(at);
        line_.clear();
      }
    }
    close(fd);
    return panic_;
  }

 private:
  std::string path_;
  off_t off_ = 0;
  std::string line_;
  std::optional<std::string> panic_;
};

bool send_line(int fd, const std::string& s) {
  std::string l = s + "\n";
  size_t off = 0;
  while (off < l.size()) {
    ssize_t n = send(fd, l.data() + off, l.size() - off, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    off += static_cast<size_t>(n);
  }
  return true;
}

int open_out(const std::string& path) { return open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644); }

struct Server {
  Child proc;
  int ctl = -1;
  std::unique_ptr<LineReader> reader;
  std::string sock, ctl_sock, fault_log, cmd;
};

}  // namespace

std::vector<std::string> qemu_argv(const RunConfig& c, const std::vector<std::string>& nbd_sockets,
                                   const std::string& channel_socket, const std::string& console_log) {
  std::vector<std::string> a = {c.qemu, "-nodefaults", "-no-user-config", "-display", "none", "-no-reboot",
                                "-machine", "q35", "-m", std::to_string(c.mem_mb), "-smp", "1"};
  if (c.accel == "kvm") {
    a.insert(a.end(), {"-accel", "kvm", "-cpu", "host"});
  } else {
    a.insert(a.end(), {"-accel", "tcg", "-cpu", "max"});
  }
  // no_timer_check: under TCG on a loaded host the boot-time IO-APIC timer
  // test (timer_irq_works() in arch/x86/kernel/apic/io_apic.c) can miss its
  // ticks and panic with "IO-APIC + timer doesn't work"; the option makes
  // that test return success at once. Seen at load average ~10 on 2 cores.
  a.insert(a.end(), {"-kernel", c.kernel.image, "-initrd", c.initramfs, "-append",
                     "console=ttyS0 panic=-1 oops=panic loglevel=6 no_timer_check rdinit=/init"});
  a.insert(a.end(), {"-chardev", "file,id=con,path=" + console_log, "-serial", "chardev:con"});
  a.insert(a.end(), {"-device", "virtio-serial-pci,id=vser", "-chardev", "socket,id=ctl,path=" + channel_socket,
                     "-device", "virtserialport,bus=vser.0,chardev=ctl,name=fsfault.ctl"});
  for (size_t i = 0; i < nbd_sockets.size(); ++i) {
    // werror/rerror=report: QEMU's default werror=enospc would pause the VM
    // on an ENOSPC write (design.md §6). No format= with driver=nbd.
    a.insert(a.end(), {"-drive", "driver=nbd,server.type=unix,server.path=" + nbd_sockets[i] +
                                     ",if=virtio,werror=report,rerror=report,cache=none,id=d" + std::to_string(i)});
  }
  return a;
}

std::string probe_accel(const KernelInfo& k, const std::string& initramfs, const std::string& qemu, int probe_s,
                        std::string* why) {
  if (access("/dev/kvm", R_OK | W_OK) != 0) {
    if (why) *why = "/dev/kvm not accessible";
    return "tcg";
  }
  std::optional<RunDir> dir;
  try {
    dir.emplace("fsfault-probe");
  } catch (const std::exception& e) {
    if (why) *why = std::string("KVM probe: ") + e.what();
    return "tcg";
  }
  const std::string log = dir->path() + "/console.log";
  std::vector<std::string> a = {qemu, "-nodefaults", "-no-user-config", "-display", "none", "-no-reboot",
                                "-machine", "q35", "-accel", "kvm", "-cpu", "host", "-m", "256",
                                "-kernel", k.image, "-initrd", initramfs,
                                "-append", "console=ttyS0 panic=-1 fsfault.probe=1 rdinit=/init",
                                "-chardev", "file,id=con,path=" + log, "-serial", "chardev:con"};
  Child probe;
  try {
    probe = Child::spawn(a);
  } catch (const std::exception& e) {
    if (why) *why = std::string("KVM probe could not start: ") + e.what();
    return "tcg";
  }
  bool ok = false;
  std::optional<int> exited;  // QEMU ended on its own (e.g. KVM refused)
  auto t0 = Clock::now();
  while (probe.running() && ms_since(t0) < probe_s * 1000 && !termination_signal()) {
    try {
      if (base::read_file(log).find("PROBE-OK") != std::string::npos) {
        ok = true;
        break;
      }
    } catch (...) {
    }
    exited = probe.wait_for(milliseconds(100));
    if (exited) break;
  }
  const long long probe_ms = ms_since(t0);
  probe.stop(milliseconds(200));
  if (!ok) {
    try {
      if (base::read_file(log).find("PROBE-OK") != std::string::npos) ok = true;
    } catch (...) {
    }
  }
  dir.reset();
  if (why) {
    if (ok) {
      *why = "KVM probe boot reached userspace";
    } else if (exited) {
      *why = "KVM probe: QEMU exited with status " + std::to_string(*exited) + " after " +
             std::to_string(probe_ms) + " ms without reaching userspace";
    } else {
      *why = "KVM probe boot did not reach userspace within " + std::to_string(probe_s) + " s";
    }
  }
  return ok ? "kvm" : "tcg";
}

Outcome run_scenario(const Scenario& s, const RunConfig& c, std::mutex& log_mutex) {
  auto t0 = Clock::now();
  Outcome o;
  Trace trace;
  std::ostringstream runlog;
  // Directories of runners that were SIGKILLed (their children died with them
  // through PDEATHSIG, but nobody removed the sockets): once per process.
  static std::once_flag swept;
  std::call_once(swept, [&] {
    for (const char* prefix : {"fsfault-vm", "fsfault-probe"})
      for (auto& d : sweep_stale_run_dirs(prefix)) runlog << "removed stale run directory " << d << " (its runner died)\n";
  });
  std::optional<RunDir> run_dir;
  try {
    run_dir.emplace("fsfault-vm");
  } catch (const std::exception& e) {
    o.reasons.push_back(e.what());
    return o;
  }
  const std::string tmp = run_dir->path();
  const std::string art = c.out_dir.empty() ? tmp : c.out_dir;
  fs::create_directories(art);
  std::vector<Server> servers(s.disks.size());
  Child qemu;
  int lsock = -1, chan = -1;
  std::ostringstream commands;

  auto finish = [&](Outcome out) {
    // Stop everything we started, in reverse order.
    if (chan >= 0) close(chan);
    if (lsock >= 0) close(lsock);
    qemu.stop(milliseconds(2000));
    for (auto& sv : servers) {
      if (sv.ctl >= 0) close(sv.ctl);
      sv.proc.stop(milliseconds(3000));
    }
    // Fault logs (one per disk), tagged with the disk.
    for (size_t i = 0; i < servers.size(); ++i) {
      if (servers[i].fault_log.empty()) continue;
      for (auto& f : read_jsonl(servers[i].fault_log)) {
        f["disk"] = i;
        trace.faults.push_back(f);
      }
    }
    if (out.verdict == Verdict::error && out.reasons.empty()) out.reasons.push_back("runner error");
    out.seconds = static_cast<double>(ms_since(t0)) / 1000.0;
    try {
      std::string klog;
      for (auto& r : trace.records)
        if (r.value("type", std::string()) == "kmsg") klog += r.value("text", std::string()) + "\n";
      base::write_file(art + "/kernel.log", klog);
      base::write_file(art + "/commands.txt", commands.str());
      base::write_file(art + "/runner.log", runlog.str());
      json res{{"name", s.name},           {"file", s.file},
               {"verdict", verdict_name(out.verdict)}, {"reasons", out.reasons},
               {"notes", out.notes},       {"seconds", out.seconds},
               {"kernel", c.kernel.label}, {"kernel_version", c.kernel.version_string},
               {"guest_release", trace.kernel_release}, {"accel", c.accel},
               {"faults_fired", trace.faults.size()}};
      base::write_file(art + "/result.json", res.dump(2) + "\n");
      std::string repro = "#!/bin/sh\n# Reruns just this scenario: " + s.name + "\n" +
                          "# Individual commands of the original run are in commands.txt.\n" +
                          "exec " + c.repro_prefix + " --scenarios " + proc::shell_quote(fs::absolute(s.file).string()) +
                          " --filter " + proc::shell_quote(s.name) + " \"$@\"\n";
      base::write_file(art + "/repro.sh", repro);
      chmod((art + "/repro.sh").c_str(), 0755);
    } catch (const std::exception& e) {
      out.notes.push_back(std::string("writing artifacts: ") + e.what());
    }
    // Sockets are useless after the run; artifacts stay when they live in out_dir.
    run_dir.reset();
    return out;
  };

  auto interrupted_outcome = [&] {
    Outcome x;
    x.verdict = Verdict::interrupted;
    x.reasons.push_back("interrupted by signal " + std::to_string(termination_signal()) + " after " +
                        std::to_string(ms_since(t0)) + " ms");
    return x;
  };

  auto error_outcome = [&](const std::string& why) {
    runlog << "error after " << ms_since(t0) << " ms: " << why << "\n";
    Outcome x;
    x.verdict = Verdict::error;
    x.reasons.push_back(why);
    return x;
  };

  // The first server that ended on its own, as an error reason ("" while all run).
  auto dead_server = [&]() -> std::string {
    for (size_t i = 0; i < servers.size(); ++i) {
      if (auto st = servers[i].proc.wait_for(milliseconds(0)))
        return "NBD server of disk " + std::to_string(i) + " " + proc::describe_exit(*st) +
               " before the guest finished (see server-d" + std::to_string(i) + ".log)";
    }
    return "";
  };
  std::optional<ConsoleWatch> console_watch;
  // Why the run cannot go on, from the host's side: a server or QEMU ended, or
  // the guest kernel panicked. "" while all is well.
  auto host_fault = [&]() -> std::string {
    if (auto why = dead_server(); !why.empty()) return why;
    // QEMU first, the console second: a panic reboots the guest, and with
    // -no-reboot QEMU then exits (status 0) with the panic line already written.
    auto qemu_st = qemu.wait_for(milliseconds(0));
    if (console_watch)
      if (auto line = console_watch->panic_line()) return "guest kernel panic: " + *line;
    if (qemu_st) return "QEMU " + proc::describe_exit(*qemu_st) + " before the guest finished (see qemu.log)";
    return "";
  };

  try {
    // ---- images, schedules, servers ----
    std::vector<std::string> nbd_socks;
    json plan = guest_plan(s);
    for (size_t i = 0; i < s.disks.size(); ++i) {
      ImageRef img = ensure_image(s.disks[i].image, c.recipes_dir, c.image_cache, runlog);
      faults::TargetMap map;
      try {
        map = faults::TargetMap::load_file(img.map);
      } catch (const faults::TargetMapError& e) {
        runlog << "image map: " << e.what() << "\n";
      }
      trace.maps.push_back(map);
      if (s.disks[i].fs.empty() && !map.fs.empty()) plan["disks"][i]["fs"] = map.fs;
      fs::copy_file(img.map, art + "/map-d" + std::to_string(i) + ".json", fs::copy_options::overwrite_existing);
      Server& sv = servers[i];
      sv.sock = tmp + "/nbd" + std::to_string(i) + ".sock";
      std::string sched = art + "/schedule-d" + std::to_string(i) + ".toml";
      base::write_file(sched, schedule_toml(s, static_cast<int>(i)));
      std::vector<std::string> argv;
      if (!c.nbd_server.empty()) {
        sv.ctl_sock = tmp + "/ctl" + std::to_string(i) + ".sock";
        sv.fault_log = art + "/faults-d" + std::to_string(i) + ".jsonl";
        argv = {c.nbd_server, "--image",  img.img,    "--map",       img.map,     "--socket", sv.sock,
                "--schedule", sched,     "--control", sv.ctl_sock, "--fault-log", sv.fault_log};
      } else {
        // Stand-in without faults (development): a throwaway overlay keeps
        // the golden image intact.
        argv = {"qemu-nbd", "-f", "raw", "--snapshot", "--persistent", "--socket=" + sv.sock, img.img};
      }
      sv.cmd = proc::shell_command(argv);
      commands << "# server for disk " << i << "\n" << sv.cmd << "\n";
      int logfd = open_out(art + "/server-d" + std::to_string(i) + ".log");
      proc::ProcessOptions so;
      so.stdout_fd = logfd;
      so.stderr_fd = logfd;
      try {
        sv.proc = Child::spawn(argv, so);
      } catch (...) {
        if (logfd >= 0) close(logfd);
        throw;
      }
      if (logfd >= 0) close(logfd);
      // fsfault repro maps fault log t_ms (ms since the server's engine started) to this clock.
      runlog << "server for disk " << i << " started at " << ms_since(t0) << " ms\n";
      nbd_socks.push_back(sv.sock);
    }
    for (size_t i = 0; i < servers.size(); ++i) {
      Server& sv = servers[i];
      int fd = connect_retry(sv.sock, 10000, sv.proc);
      if (fd < 0)
        throw std::runtime_error("server for disk " + std::to_string(i) +
                                 (fd == -2 ? " exited early (see server-d" : " never listened (see server-d") +
                                 std::to_string(i) + ".log)");
      close(fd);  // a probe connection: the server must tolerate it
      if (!sv.ctl_sock.empty()) {
        sv.ctl = connect_retry(sv.ctl_sock, 10000, sv.proc);
        if (sv.ctl < 0) throw std::runtime_error("control socket of disk " + std::to_string(i) + " never answered");
        sv.reader = std::make_unique<LineReader>(sv.ctl);
      }
    }
    runlog << "servers up after " << ms_since(t0) << " ms\n";

    // ---- the guest channel and QEMU ----
    std::string chsock = tmp + "/chan.sock";
    lsock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un a = unix_addr(chsock);
    if (bind(lsock, reinterpret_cast<sockaddr*>(&a), sizeof a) < 0 || listen(lsock, 1) < 0)
      throw std::runtime_error("cannot listen on " + chsock);
    std::string console = art + "/console.log";
    auto qa = qemu_argv(c, nbd_socks, chsock, console);
    commands << "# qemu\n" << proc::shell_command(qa) << "\n";
    int qlog = open_out(art + "/qemu.log");
    proc::ProcessOptions so;
    so.stdout_fd = qlog;
    so.stderr_fd = qlog;
    try {
      qemu = Child::spawn(qa, so);
    } catch (...) {
      if (qlog >= 0) close(qlog);
      throw;
    }
    if (qlog >= 0) close(qlog);
    console_watch.emplace(console);

    const int timeout_ms = (s.timeout_s > 0 ? s.timeout_s : c.timeout_s) * 1000;
    auto deadline_left = [&] { return timeout_ms - static_cast<int>(ms_since(t0)); };
    // QEMU connects to the channel as it starts.
    for (;;) {
      pollfd p{lsock, POLLIN, 0};
      int r = poll(&p, 1, kWatchMs);
      if (r > 0) {
        chan = accept4(lsock, nullptr, nullptr, SOCK_CLOEXEC);
        break;
      }
      if (auto st = qemu.wait_for(milliseconds(0)))
        throw std::runtime_error("QEMU " + proc::describe_exit(*st) + " before connecting (see qemu.log)");
      if (auto why = dead_server(); !why.empty()) return finish(error_outcome(why));
      if (termination_signal()) return finish(interrupted_outcome());
      if (deadline_left() <= 0) {
        trace.timed_out = true;
        return finish(judge(s, trace));
      }
    }
    std::ofstream records(art + "/records.jsonl");
    LineReader rd(chan);
    bool done = false;
    // Set when the run must end before the guest's "done": a host-side fault or a
    // guest that broke the channel's protocol. Either way the record stream is
    // incomplete, so the verdict is error whatever the guest recorded so far.
    std::string abort_reason;
    size_t record_bytes = 0, lines = 0;
    auto last_watch = Clock::now();
    while (!done) {
      if (termination_signal()) return finish(interrupted_outcome());
      int left = deadline_left();
      if (left <= 0) {
        trace.timed_out = true;
        break;
      }
      // Also while lines stream in: a flooding guest never lets next() time out.
      if (ms_since(last_watch) >= kWatchMs) {
        last_watch = Clock::now();
        abort_reason = host_fault();
        if (!abort_reason.empty()) break;
      }
      std::string line;
      int r = rd.next(line, std::min(left, kWatchMs));
      if (r == LineReader::kTooLong) {
        abort_reason = "malformed record on channel: record " + std::to_string(lines + 1) + " has no newline within " +
                       std::to_string(kMaxRecordBytes) + " bytes";
        break;
      }
      if (r < 0) {
        // QEMU closes the channel as it exits: give it a moment, then say why.
        qemu.wait_for(milliseconds(2000));
        abort_reason = host_fault();
        if (abort_reason.empty()) abort_reason = "guest channel closed before the guest finished";
        break;
      }
      if (r == 0 || line.empty()) continue;
      ++lines;
      record_bytes += line.size() + 1;
      if (record_bytes > kMaxRecordTotal) {
        abort_reason = "malformed record on channel: the guest sent more than " + std::to_string(kMaxRecordTotal) +
                       " bytes of records";
        break;
      }
      json j = json::parse(line, nullptr, false);
      std::string type;
      // The kernel under test is not trusted: anything but an object with a
      // string "type" ends the run instead of being guessed at.
      if (!j.is_discarded() && j.is_object() && j.contains("type") && j["type"].is_string()) type = j["type"];
      if (type.empty()) {
        abort_reason = "malformed record on channel: record " + std::to_string(lines) + " (" +
                       std::to_string(line.size()) + " bytes) is not a JSON object with a \"type\": " + excerpt(line);
        break;
      }
      records << line << std::endl;  // flushed: records.jsonl is live while the guest runs
      if (type == "hello") {
        trace.kernel_release = j.value("release", std::string());
        runlog << "guest hello after " << ms_since(t0) << " ms: " << trace.kernel_release << "\n";
        send_line(chan, plan.dump());
      } else if (type == "phase") {
        std::string name = j.contains("name") && j["name"].is_string() ? j["name"].get<std::string>() : "";
        json reply{{"type", "ack"}, {"ok", true}, {"phase", name}};
        for (size_t i = 0; i < servers.size(); ++i) {
          Server& sv = servers[i];
          if (sv.ctl < 0) continue;
          std::string resp;
          if (!send_line(sv.ctl, json{{"cmd", "phase"}, {"name", name}}.dump()) || sv.reader->next(resp, 10000) != 1) {
            reply = json{{"type", "ack"}, {"ok", false}, {"error", "disk " + std::to_string(i) + " server did not answer"}};
            break;
          }
          json rj = json::parse(resp, nullptr, false);
          if (!rj.is_object() || !rj.value("ok", false)) {
            reply = json{{"type", "ack"}, {"ok", false}, {"error", "disk " + std::to_string(i) + ": " + resp}};
            break;
          }
        }
        runlog << "phase " << name << " at " << ms_since(t0) << " ms: " << reply.dump() << "\n";
        send_line(chan, reply.dump());
      } else if (type == "done") {
        runlog << "guest done after " << ms_since(t0) << " ms\n";
        trace.completed = true;
        done = true;
      } else {
        trace.records.push_back(std::move(j));
      }
    }
    records.close();
    if (termination_signal()) return finish(interrupted_outcome());
    // A server that died while the guest finished (on I/O errors) still spoils the run.
    if (abort_reason.empty()) abort_reason = dead_server();
    if (!abort_reason.empty()) {
      qemu.stop(milliseconds(0));
      return finish(error_outcome(abort_reason));
    }
    if (trace.timed_out) runlog << "timeout after " << ms_since(t0) << " ms: QEMU killed\n";
    // The guest powers off; give it a moment, then stop it anyway (at once after a timeout).
    if (trace.completed) qemu.wait_for(milliseconds(5000));
    qemu.stop(milliseconds(trace.completed ? 2000 : 0));
    runlog << "QEMU gone after " << ms_since(t0) << " ms\n";
    // Fault logs are complete only once the servers stopped.
    for (auto& sv : servers) {
      if (sv.ctl >= 0) {
        close(sv.ctl);
        sv.ctl = -1;
      }
      sv.proc.stop(milliseconds(3000));
    }
    runlog << "servers stopped after " << ms_since(t0) << " ms\n";
    for (size_t i = 0; i < servers.size(); ++i)
      if (!servers[i].fault_log.empty())
        for (auto& f : read_jsonl(servers[i].fault_log)) {
          f["disk"] = i;
          trace.faults.push_back(f);
        }
    for (auto& sv : servers) sv.fault_log.clear();  // already read
    Outcome j = judge(s, trace);
    if (c.nbd_server.empty() && !s.rules.empty())
      j.notes.push_back("faults were NOT injected: qemu-nbd stand-in (fsfault-nbd not found)");
    return finish(j);
  } catch (const std::exception& e) {
    if (termination_signal()) return finish(interrupted_outcome());
    return finish(error_outcome(e.what()));
  }
  (void)log_mutex;
}

}  // namespace fsfault::vm
