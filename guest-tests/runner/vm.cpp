#include "guest-tests/runner/vm.h"

#include "guest-tests/runner/images_glue.h"
#include "guest-tests/runner/util.h"
#include "images/process.h"

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
#include <sstream>
#include <stdexcept>
#include <thread>

namespace fsfault::vm {

namespace fs = std::filesystem;

namespace {

using Clock = std::chrono::steady_clock;
using images::Child;
using images::termination_signal;
using std::chrono::milliseconds;

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

class LineReader {
 public:
  explicit LineReader(int fd) : fd_(fd) {}
  // 1: line, 0: timeout, -1: EOF/error
  int next(std::string& line, int timeout_ms) {
    auto t0 = Clock::now();
    for (;;) {
      auto nl = buf_.find('\n');
      if (nl != std::string::npos) {
        line = buf_.substr(0, nl);
        buf_.erase(0, nl + 1);
        return 1;
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
  std::string buf_;
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
  a.insert(a.end(), {"-kernel", c.kernel.image, "-initrd", c.initramfs, "-append",
                     "console=ttyS0 panic=-1 oops=panic loglevel=6 rdinit=/init"});
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
  char tmpl[] = "/tmp/fsfault-probe.XXXXXX";
  if (!mkdtemp(tmpl)) return "tcg";
  std::string dir = tmpl, log = dir + "/console.log";
  std::vector<std::string> a = {qemu, "-nodefaults", "-no-user-config", "-display", "none", "-no-reboot",
                                "-machine", "q35", "-accel", "kvm", "-cpu", "host", "-m", "256",
                                "-kernel", k.image, "-initrd", initramfs,
                                "-append", "console=ttyS0 panic=-1 fsfault.probe=1 rdinit=/init",
                                "-chardev", "file,id=con,path=" + log, "-serial", "chardev:con"};
  Child probe;
  try {
    probe = Child::spawn(a);
  } catch (const std::exception& e) {
    fs::remove_all(dir);
    if (why) *why = std::string("KVM probe could not start: ") + e.what();
    return "tcg";
  }
  bool ok = false;
  std::optional<int> exited;  // QEMU ended on its own (e.g. KVM refused)
  auto t0 = Clock::now();
  while (probe.running() && ms_since(t0) < probe_s * 1000 && !termination_signal()) {
    try {
      if (read_file(log).find("PROBE-OK") != std::string::npos) {
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
      if (read_file(log).find("PROBE-OK") != std::string::npos) ok = true;
    } catch (...) {
    }
  }
  fs::remove_all(dir);
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
  char tmpl[] = "/tmp/fsfault-vm.XXXXXX";
  if (!mkdtemp(tmpl)) {
    o.reasons.push_back("mkdtemp failed");
    return o;
  }
  const std::string tmp = tmpl;
  const std::string art = c.out_dir.empty() ? tmp : c.out_dir;
  fs::create_directories(art);
  std::vector<Server> servers(s.disks.size());
  Child qemu;
  int lsock = -1, chan = -1;
  std::ostringstream commands;
  std::ostringstream runlog;

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
      write_file(art + "/kernel.log", klog);
      write_file(art + "/commands.txt", commands.str());
      write_file(art + "/runner.log", runlog.str());
      json res{{"name", s.name},           {"file", s.file},
               {"verdict", verdict_name(out.verdict)}, {"reasons", out.reasons},
               {"notes", out.notes},       {"seconds", out.seconds},
               {"kernel", c.kernel.label}, {"kernel_version", c.kernel.version_string},
               {"guest_release", trace.kernel_release}, {"accel", c.accel},
               {"faults_fired", trace.faults.size()}};
      write_file(art + "/result.json", res.dump(2) + "\n");
      std::string repro = "#!/bin/sh\n# Reruns just this scenario: " + s.name + "\n" +
                          "# Individual commands of the original run are in commands.txt.\n" +
                          "exec " + c.repro_prefix + " --scenarios " + shell_quote(fs::absolute(s.file).string()) +
                          " --filter " + shell_quote(s.name) + " \"$@\"\n";
      write_file(art + "/repro.sh", repro);
      chmod((art + "/repro.sh").c_str(), 0755);
    } catch (const std::exception& e) {
      out.notes.push_back(std::string("writing artifacts: ") + e.what());
    }
    if (c.out_dir.empty()) fs::remove_all(tmp);
    else {
      // Sockets are useless after the run; the artifacts stay.
      std::error_code ec;
      for (auto& e : fs::directory_iterator(tmp, ec)) fs::remove(e.path(), ec);
      fs::remove(tmp, ec);
    }
    return out;
  };

  auto interrupted_outcome = [&] {
    Outcome x;
    x.verdict = Verdict::interrupted;
    x.reasons.push_back("interrupted by signal " + std::to_string(termination_signal()) + " after " +
                        std::to_string(ms_since(t0)) + " ms");
    return x;
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
      write_file(sched, schedule_toml(s, static_cast<int>(i)));
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
      sv.cmd = join_cmd(argv);
      commands << "# server for disk " << i << "\n" << sv.cmd << "\n";
      int logfd = open_out(art + "/server-d" + std::to_string(i) + ".log");
      images::ProcessOptions so;
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
    commands << "# qemu\n" << join_cmd(qa) << "\n";
    int qlog = open_out(art + "/qemu.log");
    images::ProcessOptions so;
    so.stdout_fd = qlog;
    so.stderr_fd = qlog;
    try {
      qemu = Child::spawn(qa, so);
    } catch (...) {
      if (qlog >= 0) close(qlog);
      throw;
    }
    if (qlog >= 0) close(qlog);

    const int timeout_ms = (s.timeout_s > 0 ? s.timeout_s : c.timeout_s) * 1000;
    auto deadline_left = [&] { return timeout_ms - static_cast<int>(ms_since(t0)); };
    // QEMU connects to the channel as it starts.
    for (;;) {
      pollfd p{lsock, POLLIN, 0};
      int r = poll(&p, 1, 200);
      if (r > 0) {
        chan = accept4(lsock, nullptr, nullptr, SOCK_CLOEXEC);
        break;
      }
      if (auto st = qemu.wait_for(milliseconds(0)))
        throw std::runtime_error("QEMU exited with status " + std::to_string(*st) + " before connecting (see qemu.log)");
      if (termination_signal()) return finish(interrupted_outcome());
      if (deadline_left() <= 0) {
        trace.timed_out = true;
        return finish(judge(s, trace));
      }
    }
    std::ofstream records(art + "/records.jsonl");
    LineReader rd(chan);
    bool done = false, eof = false;
    while (!done) {
      if (termination_signal()) return finish(interrupted_outcome());
      int left = deadline_left();
      if (left <= 0) {
        trace.timed_out = true;
        break;
      }
      std::string line;
      int r = rd.next(line, std::min(left, 500));
      if (r < 0) {
        eof = true;
        break;
      }
      if (r == 0) {
        if (auto st = qemu.wait_for(milliseconds(0))) {
          runlog << "QEMU exited (" << *st << ") before the guest said done\n";
          break;
        }
        continue;
      }
      json j;
      try {
        j = json::parse(line);
      } catch (...) {
        runlog << "unparsable line from guest: " << line << "\n";
        continue;
      }
      std::string type = j.value("type", std::string());
      if (type == "hello") {
        trace.kernel_release = j.value("release", std::string());
        runlog << "guest hello after " << ms_since(t0) << " ms: " << trace.kernel_release << "\n";
        records << line << std::endl;  // flushed: records.jsonl is live while the guest runs
        send_line(chan, plan.dump());
      } else if (type == "phase") {
        records << line << std::endl;  // flushed: records.jsonl is live while the guest runs
        std::string name = j.value("name", std::string());
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
          if (rj.is_discarded() || !rj.value("ok", false)) {
            reply = json{{"type", "ack"}, {"ok", false}, {"error", "disk " + std::to_string(i) + ": " + resp}};
            break;
          }
        }
        runlog << "phase " << name << " at " << ms_since(t0) << " ms: " << reply.dump() << "\n";
        send_line(chan, reply.dump());
      } else if (type == "done") {
        records << line << std::endl;  // flushed: records.jsonl is live while the guest runs
        trace.completed = true;
        done = true;
      } else {
        records << line << std::endl;  // flushed: records.jsonl is live while the guest runs
        trace.records.push_back(std::move(j));
      }
    }
    records.close();
    if (eof && !trace.completed) runlog << "channel closed before done\n";
    if (termination_signal()) return finish(interrupted_outcome());
    if (trace.timed_out) runlog << "timeout after " << ms_since(t0) << " ms: QEMU killed\n";
    // The guest powers off; give it a moment, then stop it anyway (at once after a timeout).
    if (trace.completed) qemu.wait_for(milliseconds(5000));
    qemu.stop(milliseconds(trace.completed ? 2000 : 0));
    // Fault logs are complete only once the servers stopped.
    for (auto& sv : servers) {
      if (sv.ctl >= 0) {
        close(sv.ctl);
        sv.ctl = -1;
      }
      sv.proc.stop(milliseconds(3000));
    }
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
    Outcome x;
    x.verdict = Verdict::error;
    x.reasons.push_back(e.what());
    return finish(x);
  }
  (void)log_mutex;
}

}  // namespace fsfault::vm
