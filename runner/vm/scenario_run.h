// One scenario in a VM, as a sequence of stages:
//   start_servers  images, schedules, one fsfault-nbd per disk, their control sockets
//   start_shares   one virtiofsd per share (docs/vm-test.md, "Host tools in the guest")
//   start_qemu     the guest channel's socket, then QEMU on the servers' and virtiofsds' sockets;
//                  or restore_qemu: QEMU restored from the saved guest (scenario_restore.cpp), its
//                  disks hot-plugged when the guest asks ("attach"); a cold boot when it cannot be
//   accept_channel wait for QEMU to connect the channel
//   pump_channel   the guest's records: hello -> plan, phase -> relay_phase, done
//   conclude       stop QEMU and the servers in order, read the fault logs, judge
//   finish         stop whatever still runs, write the artifacts (runner.log, result.json, ...)
// Every early end goes through finish() with an error or interrupted outcome.
#pragma once

#include "runner/vm/console_watch.h"
#include "runner/vm/disk_images.h"
#include "runner/vm/elapsed.h"
#include "runner/vm/line_reader.h"
#include "runner/vm/qmp_client.h"
#include "runner/vm/run_dir.h"
#include "runner/vm/virtiofs_share.h"
#include "runner/vm/vm.h"
#include "process/process.h"

#include <fstream>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

namespace fsfault::vm {

class ScenarioRun {
 public:
  ScenarioRun(const Scenario& s, const RunConfig& c);
  ~ScenarioRun();
  ScenarioRun(const ScenarioRun&) = delete;
  ScenarioRun& operator=(const ScenarioRun&) = delete;
  Outcome run();

 private:
  struct Server {
    proc::Child proc;
    int ctl = -1;
    std::unique_ptr<LineReader> reader;
    std::string sock, ctl_sock, fault_log;
  };

  void start_servers();
  void start_server(size_t i, const ImageRef& img);
  void connect_servers();
  void start_shares();
  void stop_shares();
  void start_qemu();
  // scenario_restore.cpp
  std::string cold_boot_reason() const;
  bool restore_qemu();
  void resume_restored();
  void attach_shares();
  void send_restored_plan();
  std::string take_attach_record(const std::string& type, const json& j);
  json attach_disk(size_t i);
  std::optional<Outcome> accept_channel();
  std::string pump_channel();
  std::string take_record(const std::string& line, size_t n, std::ofstream& records);
  json relay_phase(const std::string& name);
  Outcome conclude(std::string abort_reason);
  void stop_servers();
  void read_fault_logs();
  Outcome finish(Outcome out);
  void write_artifacts(Outcome& out);

  Outcome interrupted_outcome();
  Outcome error_outcome(const std::string& why);
  std::string dead_server();
  std::string host_fault();
  int deadline_left() const;

  const Scenario& s_;
  const RunConfig& c_;
  Clock::time_point t0_ = Clock::now();
  Trace trace_;
  std::ostringstream runlog_, commands_;
  std::optional<RunDir> run_dir_;
  std::string tmp_, art_;  // the run's sockets; its artifacts (tmp_ unless out_dir is set)
  json plan_;
  std::vector<Server> servers_;
  struct ShareDaemon {
    Share share;
    std::string sock;
    proc::Child proc;
  };
  std::vector<ShareDaemon> shares_;
  proc::Child qemu_;
  std::string console_;
  std::optional<ConsoleWatch> console_watch_;
  int lsock_ = -1, chan_ = -1;
  std::unique_ptr<QmpClient> qmp_;  // a restored QEMU's
  bool restored_ = false;
  const SavedGuest* guest_ = nullptr;  // the saved guest restored (c_.saved or c_.saved_with_shares)
  std::vector<std::string> boot_notes_;  // why a restore fell back to a cold boot
  json boot_ = json::object();      // how the guest started, and the stages' times (result.json)
};

}  // namespace fsfault::vm
