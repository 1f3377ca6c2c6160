#include "runner/vm/scenario_run.h"

#include "runner/vm/qemu_command.h"
#include "runner/vm/spawn_logged.h"
#include "runner/vm/unix_socket.h"
#include "base/files.h"
#include "process/command_line.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <mutex>
#include <stdexcept>

namespace fsfault::vm {

namespace fs = std::filesystem;

namespace {

using proc::Child;
using proc::termination_signal;
using std::chrono::milliseconds;

// All lines of a run together: far beyond any real guest (kMaxRecordBytes is one line's limit).
constexpr size_t kMaxRecordTotal = 32u << 20;
// How often the record loop looks at the processes and the console.
constexpr int kWatchMs = 200;
// How long a server may take to listen, and to answer a phase.
constexpr int kServerMs = 10000;

// The record's "type" when it is a JSON object with a string "type", else "".
std::string record_type(const json& j) {
  if (!j.is_discarded() && j.is_object() && j.contains("type") && j["type"].is_string()) return j["type"];
  return "";
}

}  // namespace

ScenarioRun::ScenarioRun(const Scenario& s, const RunConfig& c) : s_(s), c_(c), servers_(s.disks.size()) {}

ScenarioRun::~ScenarioRun() {
  if (chan_ >= 0) close(chan_);
  if (lsock_ >= 0) close(lsock_);
  for (auto& sv : servers_)
    if (sv.ctl >= 0) close(sv.ctl);
}

Outcome ScenarioRun::run() {
  // Directories of runners that were SIGKILLed (their children died with them
  // through PDEATHSIG, but nobody removed the sockets): once per process.
  static std::once_flag swept;
  std::call_once(swept, [&] {
    for (const char* prefix : {"fsfault-vm", "fsfault-probe"})
      for (auto& d : sweep_stale_run_dirs(prefix)) runlog_ << "removed stale run directory " << d << " (its runner died)\n";
  });
  try {
    run_dir_.emplace("fsfault-vm");
  } catch (const std::exception& e) {
    Outcome o;
    o.reasons.push_back(e.what());
    return o;
  }
  tmp_ = run_dir_->path();
  art_ = c_.out_dir.empty() ? tmp_ : c_.out_dir;
  fs::create_directories(art_);
  try {
    if (c_.nbd_server.empty()) throw std::runtime_error("no NBD server: the fsfault-nbd binary is required");
    start_servers();
    connect_servers();
    runlog_ << "servers up after " << ms_since(t0_) << " ms\n";
    start_shares();
    if (!restore_qemu()) start_qemu();
    if (auto early = accept_channel()) return finish(*early);
    if (restored_) send_restored_plan();
    return conclude(pump_channel());
  } catch (const std::exception& e) {
    if (termination_signal()) return finish(interrupted_outcome());
    return finish(error_outcome(e.what()));
  }
}

// ---- servers ----

void ScenarioRun::start_servers() {
  plan_ = guest_plan(s_);
  for (size_t i = 0; i < s_.disks.size(); ++i) {
    ImageRef img = ensure_disk_image(s_.disks[i], c_.recipe_dirs, c_.image_cache, runlog_);
    faults::TargetMap map;
    try {
      map = faults::TargetMap::load_file(img.map);
    } catch (const faults::TargetMapError& e) {
      runlog_ << "image map: " << e.what() << "\n";
    }
    trace_.maps.push_back(map);
    if (s_.disks[i].fs.empty() && !map.fs.empty()) plan_["disks"][i]["fs"] = map.fs;
    fs::copy_file(img.map, art_ + "/map-d" + std::to_string(i) + ".json", fs::copy_options::overwrite_existing);
    start_server(i, img);
  }
}

void ScenarioRun::start_server(size_t i, const ImageRef& img) {
  const std::string d = std::to_string(i);
  Server& sv = servers_[i];
  sv.sock = tmp_ + "/nbd" + d + ".sock";
  sv.ctl_sock = tmp_ + "/ctl" + d + ".sock";
  sv.fault_log = art_ + "/faults-d" + d + ".jsonl";
  std::string sched = art_ + "/schedule-d" + d + ".toml";
  base::write_file(sched, schedule_toml(s_, static_cast<int>(i)));
  std::vector<std::string> argv = {c_.nbd_server, "--image",   img.img,     "--map",       img.map,
                                   "--socket",     sv.sock,     "--schedule", sched,         "--control",
                                   sv.ctl_sock,    "--fault-log", sv.fault_log};
  commands_ << "# server for disk " << i << "\n" << proc::shell_command(argv) << "\n";
  sv.proc = spawn_logged(argv, art_ + "/server-d" + d + ".log");
  // fsfault repro maps fault log t_ms (ms since the server's engine started) to this clock.
  runlog_ << "server for disk " << i << " started at " << ms_since(t0_) << " ms\n";
}

void ScenarioRun::connect_servers() {
  for (size_t i = 0; i < servers_.size(); ++i) {
    Server& sv = servers_[i];
    const std::string d = std::to_string(i);
    Connection probe = connect_retry(sv.sock, kServerMs, sv.proc);
    if (probe.status != Connection::Status::connected)
      throw std::runtime_error("server for disk " + d +
                               (probe.status == Connection::Status::server_exited ? " exited early (see server-d"
                                                                                  : " never listened (see server-d") +
                               d + ".log)");
    close(probe.fd);  // a probe connection: the server must tolerate it
    Connection ctl = connect_retry(sv.ctl_sock, kServerMs, sv.proc);
    if (ctl.status != Connection::Status::connected)
      throw std::runtime_error("control socket of disk " + d + " never answered");
    sv.ctl = ctl.fd;
    sv.reader = std::make_unique<LineReader>(sv.ctl);
  }
}

// ---- shares ----

// One virtiofsd per share, each listening before QEMU starts (QEMU's vhost-user chardev does not
// retry). They exit when QEMU disconnects; finish() stops any that did not.
void ScenarioRun::start_shares() {
  std::vector<Share> shares = scenario_shares(s_, c_.shares);
  if (shares.empty()) return;
  if (find_virtiofsd().empty())
    throw std::runtime_error("the scenario shares host directories, but QEMU's virtiofsd is not installed "
                             "(/usr/lib/qemu/virtiofsd, package qemu-system-common)");
  add_shares_to_plan(shares, plan_);
  for (size_t i = 0; i < shares.size(); ++i) {
    const std::string d = std::to_string(i);
    ShareDaemon sd{shares[i], tmp_ + "/vfs" + d + ".sock", {}};
    const std::string mount_dir = tmp_ + "/share" + d;
    fs::create_directory(mount_dir);
    auto argv = virtiofsd_argv(sd.share, mount_dir, sd.sock);
    commands_ << "# virtiofsd for " << sd.share.host << " on " << sd.share.guest << "\n" << proc::shell_command(argv) << "\n";
    sd.proc = spawn_logged(argv, art_ + "/virtiofsd-" + d + ".log");
    auto t = Clock::now();
    while (!unix_socket_listening(sd.sock)) {
      if (auto st = sd.proc.wait_for(milliseconds(20)))
        throw std::runtime_error("virtiofsd for " + sd.share.host + " " + proc::describe_exit(*st) +
                                 " before listening (see virtiofsd-" + d + ".log)");
      if (termination_signal() || ms_since(t) > kServerMs)
        throw std::runtime_error("virtiofsd for " + sd.share.host + " never listened (see virtiofsd-" + d + ".log)");
    }
    runlog_ << "virtiofsd " << sd.share.tag << " (" << sd.share.host << " -> " << sd.share.guest << ") up after "
            << ms_since(t0_) << " ms\n";
    shares_.push_back(std::move(sd));
  }
}

void ScenarioRun::stop_shares() {
  for (auto& sd : shares_) sd.proc.stop(milliseconds(1000));
}

// ---- QEMU and the channel ----

void ScenarioRun::start_qemu() {
  std::string chsock = tmp_ + "/chan.sock";
  lsock_ = listen_unix(chsock);
  console_ = art_ + "/console.log";
  std::vector<std::string> nbd_socks;
  for (auto& sv : servers_) nbd_socks.push_back(sv.sock);
  std::vector<QemuShare> vfs;
  for (auto& sd : shares_) vfs.push_back({sd.share.tag, sd.sock});
  auto qa = qemu_argv(c_, nbd_socks, chsock, console_, vfs);
  commands_ << "# qemu\n" << proc::shell_command(qa) << "\n";
  qemu_ = spawn_logged(qa, art_ + "/qemu.log");
  console_watch_.emplace(console_);
  boot_["mode"] = "cold";
}

// QEMU connects to the channel as it starts. An outcome when the run ends before it did.
std::optional<Outcome> ScenarioRun::accept_channel() {
  for (;;) {
    pollfd p{lsock_, POLLIN, 0};
    if (poll(&p, 1, kWatchMs) > 0) {
      chan_ = accept4(lsock_, nullptr, nullptr, SOCK_CLOEXEC);
      return std::nullopt;
    }
    if (auto st = qemu_.wait_for(milliseconds(0)))
      throw std::runtime_error("QEMU " + proc::describe_exit(*st) + " before connecting (see qemu.log)");
    if (auto why = dead_server(); !why.empty()) return error_outcome(why);
    if (termination_signal()) return interrupted_outcome();
    if (deadline_left() <= 0) {
      trace_.timed_out = true;
      return judge(s_, trace_);
    }
  }
}

// Reads the guest's records until "done", the deadline or a signal (then ""), or until the run
// must end early: a host-side fault or a guest that broke the channel's protocol (then why).
// Either way the record stream is incomplete, so the verdict is error whatever the guest recorded.
std::string ScenarioRun::pump_channel() {
  std::ofstream records(art_ + "/records.jsonl");
  // A restored guest said hello before it was saved: its record, so records.jsonl reads the same.
  if (restored_) records << guest_->hello << std::endl;
  LineReader rd(chan_);
  size_t record_bytes = 0, lines = 0;
  auto last_watch = Clock::now();
  while (!trace_.completed) {
    if (termination_signal()) return "";
    int left = deadline_left();
    if (left <= 0) {
      trace_.timed_out = true;
      return "";
    }
    // Also while lines stream in: a flooding guest never lets next() time out.
    if (ms_since(last_watch) >= kWatchMs) {
      last_watch = Clock::now();
      if (auto why = host_fault(); !why.empty()) return why;
    }
    std::string line;
    LineReader::Status r = rd.next(line, std::min(left, kWatchMs));
    if (r == LineReader::Status::too_long)
      return "malformed record on channel: record " + std::to_string(lines + 1) + " has no newline within " +
             std::to_string(kMaxRecordBytes) + " bytes";
    if (r == LineReader::Status::closed) {
      // QEMU closes the channel as it exits: give it a moment, then say why.
      qemu_.wait_for(milliseconds(2000));
      auto why = host_fault();
      return why.empty() ? "guest channel closed before the guest finished" : why;
    }
    if (r == LineReader::Status::timeout || line.empty()) continue;
    ++lines;
    record_bytes += line.size() + 1;
    if (record_bytes > kMaxRecordTotal)
      return "malformed record on channel: the guest sent more than " + std::to_string(kMaxRecordTotal) +
             " bytes of records";
    if (auto why = take_record(line, lines, records); !why.empty()) return why;
  }
  return "";
}

// One record (the n-th): answered, noted or kept. Why the run must end, or "".
std::string ScenarioRun::take_record(const std::string& line, size_t n, std::ofstream& records) {
  json j = json::parse(line, nullptr, false);
  // The kernel under test is not trusted: anything but an object with a
  // string "type" ends the run instead of being guessed at.
  std::string type = record_type(j);
  if (type.empty())
    return "malformed record on channel: record " + std::to_string(n) + " (" + std::to_string(line.size()) +
           " bytes) is not a JSON object with a \"type\": " + excerpt(line);
  records << line << std::endl;  // flushed: records.jsonl is live while the guest runs
  if (type == "hello") {
    trace_.kernel_release = j.value("release", std::string());
    runlog_ << "guest hello after " << ms_since(t0_) << " ms: " << trace_.kernel_release << "\n";
    boot_["hello_ms"] = ms_since(t0_);
    send_line(chan_, plan_.dump());
  } else if (type == "phase") {
    std::string name = j.contains("name") && j["name"].is_string() ? j["name"].get<std::string>() : "";
    json reply = relay_phase(name);
    runlog_ << "phase " << name << " at " << ms_since(t0_) << " ms: " << reply.dump() << "\n";
    send_line(chan_, reply.dump());
  } else if (type == "share" && !j.value("ok", false)) {
    // Steps that need the share would fail obscurely (ENOENT): the run is broken, not the kernel.
    return "the guest could not mount share " + j.value("tag", std::string()) + " on " +
           j.value("guest", std::string()) + ": " + j.value("errno_name", std::string("?"));
  } else if (type == "attach" || type == "attached" || type == "attach-failed") {
    return take_attach_record(type, j);
  } else if (type == "done") {
    runlog_ << "guest done after " << ms_since(t0_) << " ms\n";
    boot_["done_ms"] = ms_since(t0_);
    trace_.completed = true;
  } else {
    trace_.records.push_back(std::move(j));
  }
  return "";
}

// Tells every server the guest entered phase `name`; the guest's ack says whether all answered ok.
json ScenarioRun::relay_phase(const std::string& name) {
  for (size_t i = 0; i < servers_.size(); ++i) {
    Server& sv = servers_[i];
    if (sv.ctl < 0) continue;
    std::string resp;
    if (!send_line(sv.ctl, json{{"cmd", "phase"}, {"name", name}}.dump()) ||
        sv.reader->next(resp, kServerMs) != LineReader::Status::line)
      return json{{"type", "ack"}, {"ok", false}, {"error", "disk " + std::to_string(i) + " server did not answer"}};
    json rj = json::parse(resp, nullptr, false);
    if (!rj.is_object() || !rj.value("ok", false))
      return json{{"type", "ack"}, {"ok", false}, {"error", "disk " + std::to_string(i) + ": " + resp}};
  }
  return json{{"type", "ack"}, {"ok", true}, {"phase", name}};
}

// ---- the end ----

Outcome ScenarioRun::conclude(std::string abort_reason) {
  if (termination_signal()) return finish(interrupted_outcome());
  // A server that died while the guest finished (on I/O errors) still spoils the run.
  if (abort_reason.empty()) abort_reason = dead_server();
  if (!abort_reason.empty()) {
    qemu_.stop(milliseconds(0));
    return finish(error_outcome(abort_reason));
  }
  if (trace_.timed_out) runlog_ << "timeout after " << ms_since(t0_) << " ms: QEMU killed\n";
  // After "done" every record is in and the disks are throw-away overlays: QEMU is stopped
  // (SIGTERM, which it handles by exiting) rather than waited for through the guest's poweroff,
  // ~0.1-0.2 s of every scenario. After a timeout it is killed at once.
  qemu_.stop(milliseconds(trace_.completed ? 2000 : 0));
  runlog_ << "QEMU gone after " << ms_since(t0_) << " ms\n";
  boot_["qemu_gone_ms"] = ms_since(t0_);
  stop_shares();
  // Fault logs are complete only once the servers stopped.
  stop_servers();
  runlog_ << "servers stopped after " << ms_since(t0_) << " ms\n";
  read_fault_logs();
  trace_.host = parse_runner_log(runlog_.str());  // fault times -> the guest's clock (fault latency)
  return finish(judge(s_, trace_));
}

void ScenarioRun::stop_servers() {
  for (auto& sv : servers_) {
    if (sv.ctl >= 0) {
      close(sv.ctl);
      sv.ctl = -1;
    }
    sv.proc.stop(milliseconds(3000));
  }
}

// Fault logs (one per disk), tagged with the disk; each read once.
void ScenarioRun::read_fault_logs() {
  for (size_t i = 0; i < servers_.size(); ++i) {
    if (servers_[i].fault_log.empty()) continue;
    for (auto& f : read_jsonl(servers_[i].fault_log)) {
      f["disk"] = i;
      trace_.faults.push_back(f);
    }
    servers_[i].fault_log.clear();
  }
}

Outcome ScenarioRun::finish(Outcome out) {
  // Stop everything we started, in reverse order.
  if (chan_ >= 0) close(chan_);
  if (lsock_ >= 0) close(lsock_);
  chan_ = lsock_ = -1;
  qemu_.stop(milliseconds(2000));
  stop_shares();
  stop_servers();
  read_fault_logs();
  if (out.verdict == Verdict::error && out.reasons.empty()) out.reasons.push_back("runner error");
  out.seconds = static_cast<double>(ms_since(t0_)) / 1000.0;
  out.boot = boot_.value("mode", std::string());
  out.notes.insert(out.notes.end(), boot_notes_.begin(), boot_notes_.end());
  write_artifacts(out);
  // Sockets are useless after the run; artifacts stay when they live in out_dir.
  run_dir_.reset();
  return out;
}

void ScenarioRun::write_artifacts(Outcome& out) {
  try {
    std::string klog;
    for (auto& r : trace_.records)
      if (r.value("type", std::string()) == "kmsg") klog += r.value("text", std::string()) + "\n";
    base::write_file(art_ + "/kernel.log", klog);
    base::write_file(art_ + "/commands.txt", commands_.str());
    base::write_file(art_ + "/runner.log", runlog_.str());
    json res{{"name", s_.name},           {"file", s_.file},
             {"verdict", verdict_name(out.verdict)}, {"reasons", out.reasons},
             {"notes", out.notes},        {"seconds", out.seconds},
             {"kernel", c_.kernel.label}, {"kernel_version", c_.kernel.version_string},
             {"guest_release", trace_.kernel_release}, {"accel", c_.accel},
             {"faults_fired", trace_.faults.size()}, {"boot", boot_}};
    base::write_file(art_ + "/result.json", res.dump(2) + "\n");
    std::string repro = "#!/bin/sh\n# Reruns just this scenario: " + s_.name + "\n" +
                        "# Individual commands of the original run are in commands.txt.\n" + "exec " +
                        c_.repro_prefix + " --scenarios " + proc::shell_quote(fs::absolute(s_.file).string()) +
                        " --filter " + proc::shell_quote(s_.name) + " \"$@\"\n";
    base::write_file(art_ + "/repro.sh", repro);
    chmod((art_ + "/repro.sh").c_str(), 0755);
  } catch (const std::exception& e) {
    out.notes.push_back(std::string("writing artifacts: ") + e.what());
  }
}

// ---- outcomes and watches ----

Outcome ScenarioRun::interrupted_outcome() {
  Outcome x;
  x.verdict = Verdict::interrupted;
  x.reasons.push_back("interrupted by signal " + std::to_string(termination_signal()) + " after " +
                      std::to_string(ms_since(t0_)) + " ms");
  return x;
}

Outcome ScenarioRun::error_outcome(const std::string& why) {
  runlog_ << "error after " << ms_since(t0_) << " ms: " << why << "\n";
  Outcome x;
  x.verdict = Verdict::error;
  x.reasons.push_back(why);
  return x;
}

// The first server that ended on its own, as an error reason ("" while all run).
std::string ScenarioRun::dead_server() {
  for (size_t i = 0; i < servers_.size(); ++i) {
    if (auto st = servers_[i].proc.wait_for(milliseconds(0)))
      return "NBD server of disk " + std::to_string(i) + " " + proc::describe_exit(*st) +
             " before the guest finished (see server-d" + std::to_string(i) + ".log)";
  }
  return "";
}

// Why the run cannot go on, from the host's side: a server or QEMU ended, or
// the guest kernel panicked. "" while all is well.
std::string ScenarioRun::host_fault() {
  if (auto why = dead_server(); !why.empty()) return why;
  // QEMU first, the console second: a panic reboots the guest, and with
  // -no-reboot QEMU then exits (status 0) with the panic line already written.
  auto qemu_st = qemu_.wait_for(milliseconds(0));
  if (console_watch_)
    if (auto line = console_watch_->panic_line()) return "guest kernel panic: " + *line;
  if (qemu_st) return "QEMU " + proc::describe_exit(*qemu_st) + " before the guest finished (see qemu.log)";
  return "";
}

int ScenarioRun::deadline_left() const {
  const int timeout_ms = (s_.timeout_s > 0 ? s_.timeout_s : c_.timeout_s) * 1000;
  return timeout_ms - static_cast<int>(ms_since(t0_));
}

Outcome run_scenario(const Scenario& s, const RunConfig& c, std::mutex& /*log_mutex*/) {
  return ScenarioRun(s, c).run();
}

}  // namespace fsfault::vm
