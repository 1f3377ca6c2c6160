#include "runner/vm/saved_guest.h"

#include "runner/kernel/run_tool.h"
#include "runner/vm/elapsed.h"
#include "runner/vm/line_reader.h"
#include "runner/vm/qemu_command.h"
#include "runner/vm/qmp_client.h"
#include "runner/vm/run_dir.h"
#include "runner/vm/unix_socket.h"
#include "base/files.h"
#include "base/sha256.h"
#include "process/command_line.h"
#include "process/process.h"
#include "process/tool_lookup.h"

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <ostream>
#include <stdexcept>
#include <thread>

namespace fsfault::vm {

namespace fs = std::filesystem;
using json = nlohmann::json;
using std::chrono::milliseconds;

namespace {

// Bumped when what is saved changes meaning (the ready point, the guest protocol).
constexpr const char* kFormat = "fsfault saved guest v2: ready after hello, disks hot-plugged";
// A cold boot to the hello takes 2-8 s under TCG on this 2-core machine; a loaded host more.
constexpr int kBootMs = 120000;
constexpr int kSaveMs = 60000;

// What QEMU itself contributes: its version line and the binary (a rebuilt QEMU of the same
// version may lay out its state differently).
std::string qemu_identity(const std::string& qemu) {
  proc::ProcessResult r = proc::run_process({qemu, "--version"});
  std::string id = r.out;
  std::error_code ec;
  fs::path bin = fs::canonical(r.exit_code == 0 ? fs::path(proc::find_tool(qemu)) : fs::path(qemu), ec);
  if (!ec) id += bin.string() + " " + std::to_string(fs::file_size(bin, ec)) + " " +
                 std::to_string(fs::last_write_time(bin, ec).time_since_epoch().count());
  return id;
}

json read_meta(const std::string& dir) {
  auto text = base::try_read_file(dir + "/meta.json");
  json m = text ? json::parse(*text, nullptr, false) : json();
  return m.is_object() ? m : json::object();
}

// A complete state: meta.json written last, the stream the size it names.
std::optional<SavedGuest> load(const std::string& dir, bool shares) {
  json m = read_meta(dir);
  std::error_code ec;
  if (!m.contains("state_bytes") || fs::file_size(dir + "/state", ec) != m.value("state_bytes", 0ull) || ec)
    return std::nullopt;
  json hello = m.value("hello", json::object());
  return SavedGuest{dir, dir + "/state", dir + "/boot-console.log", hello.dump(), hello.value("release", std::string()),
                    shares};
}

// Old states of the same kernel image beyond the newest kKeep: each key is looked up only while
// its inputs stay the same, so a state whose kernel, initramfs or QEMU changed is never used
// again; a few are kept because selections with other modules build other initramfses.
constexpr size_t kKeep = 4;

void remove_old(const std::string& saved_root, const std::string& image, std::ostream& log) {
  std::vector<std::pair<fs::file_time_type, fs::path>> same;
  std::error_code ec;
  for (auto& e : fs::directory_iterator(saved_root, ec))
    if (e.is_directory() && read_meta(e.path().string()).value("kernel_image", std::string()) == image)
      same.emplace_back(fs::last_write_time(e.path() / "meta.json", ec), e.path());
  if (same.size() <= kKeep) return;
  std::sort(same.begin(), same.end(), [](auto& x, auto& y) { return x.first > y.first; });
  for (size_t i = kKeep; i < same.size(); ++i) {
    fs::remove_all(same[i].second, ec);
    log << "saved guest: removed " << same[i].second.string() << " (least recently used of this kernel's)\n";
  }
}

int accept_within(int lsock, int ms, proc::Child& qemu) {
  const auto t0 = Clock::now();
  while (ms_since(t0) < ms && !proc::termination_signal()) {
    pollfd p{lsock, POLLIN, 0};
    if (poll(&p, 1, 100) > 0) return accept4(lsock, nullptr, nullptr, SOCK_CLOEXEC);
    if (auto st = qemu.wait_for(milliseconds(0)))
      throw std::runtime_error("QEMU " + proc::describe_exit(*st) + " before connecting its channel");
  }
  throw std::runtime_error("QEMU never connected the guest channel");
}

// The guest's hello, read from the channel before the save.
json await_hello(int chan) {
  LineReader rd(chan);
  std::string line;
  if (rd.next(line, kBootMs) != LineReader::Status::line)
    throw std::runtime_error("the guest sent no hello within " + std::to_string(kBootMs / 1000) + " s");
  json hello = json::parse(line, nullptr, false);
  if (!hello.is_object() || hello.value("type", std::string()) != "hello")
    throw std::runtime_error("the guest's first record is not a hello: " + excerpt(line));
  return hello;
}

// Stops the guest and streams its state to `path` (QEMU 7.2 has no file: URI; exec: is the way).
void save_state(QmpClient& qmp, const std::string& path) {
  qmp.execute("stop");
  // The default 128 MiB/s limit makes a 512 MiB guest's save take ~0.7 s instead of ~0.1 s.
  qmp.execute("migrate-set-parameters", {{"max-bandwidth", 8ll << 30}});
  qmp.execute("migrate", {{"uri", "exec:cat > " + proc::shell_quote(path)}});
  const auto t0 = Clock::now();
  for (;;) {
    json st = qmp.execute("query-migrate");
    std::string s = st.value("status", std::string());
    if (s == "completed") return;
    if (s == "failed" || s == "cancelled")
      throw std::runtime_error("saving the guest failed: " + st.value("error-desc", s));
    if (ms_since(t0) > kSaveMs) throw std::runtime_error("saving the guest took over " + std::to_string(kSaveMs) + " ms");
    std::this_thread::sleep_for(milliseconds(10));
  }
}

// Boots the saved machine to the hello and saves it into dir. Throws.
void build(const RunConfig& c, const std::string& dir, bool shares, std::ostream& log) {
  RunDir tmp("fsfault-save");
  const std::string chan_sock = tmp.path() + "/chan.sock", qmp_sock = tmp.path() + "/qmp.sock";
  int lsock = listen_unix(chan_sock);
  const auto t0 = Clock::now();
  std::error_code ec;
  fs::remove(dir + "/boot-console.log", ec);  // QEMU appends to it (append=on)
  auto argv = saved_guest_argv(c, chan_sock, dir + "/boot-console.log", qmp_sock, shares);
  base::write_file(dir + "/command.txt", proc::shell_command(argv) + "\n");
  proc::ProcessOptions po;
  po.stdout_fd = po.stderr_fd = -1;
  proc::Child qemu = proc::Child::spawn(argv, po);
  int chan = -1;
  try {
    QmpClient qmp(qmp_sock, 10000, qemu);
    chan = accept_within(lsock, kBootMs, qemu);
    json hello = await_hello(chan);
    const long long boot_ms = ms_since(t0);
    save_state(qmp, dir + "/state");
    json meta{{"format", kFormat}, {"kernel_image", c.kernel.image}, {"initramfs", c.initramfs},
              {"hello", hello},
              {"boot_ms", boot_ms}, {"save_ms", ms_since(t0) - boot_ms},
              {"state_bytes", fs::file_size(dir + "/state", ec)}};
    try {
      qmp.execute("quit");
    } catch (const std::exception&) {
    }
    base::write_file(dir + "/meta.json", meta.dump(2) + "\n");
    log << "saved guest: booted in " << boot_ms << " ms, saved in " << meta["save_ms"] << " ms ("
        << meta["state_bytes"] << " bytes) to " << dir << "\n";
  } catch (...) {
    if (chan >= 0) close(chan);
    close(lsock);
    throw;
  }
  close(chan);
  close(lsock);
  qemu.stop(milliseconds(2000));
}

}  // namespace

std::string saved_guest_inputs(const RunConfig& c) {
  return base::sha256_file(c.kernel.image) + '\n' + base::sha256_file(c.initramfs) + '\n' + qemu_identity(c.qemu);
}

std::string saved_guest_key(const RunConfig& c, bool shares, const std::string& inputs) {
  // The machine with placeholder paths: the per-run sockets and logs do not change the state.
  std::string machine;
  for (auto& a : saved_guest_argv(c, "CHANNEL", "CONSOLE", "QMP", shares)) machine += a + '\n';
  std::string all = std::string(kFormat) + '\n' + machine + (inputs.empty() ? saved_guest_inputs(c) : inputs);
  return base::sha256_hex(all).substr(0, 16);
}

SavedGuest ensure_saved_guest(const RunConfig& c, const std::string& cache_dir, std::ostream& log, bool shares,
                              const std::string& inputs) {
  const std::string root = cache_dir + "/saved", key = saved_guest_key(c, shares, inputs), dir = root + "/" + key;
  fs::create_directories(dir);
  DirLock lock(dir);
  if (auto g = load(dir, shares)) {
    log << "saved guest: reusing " << dir << "\n";
    std::error_code ec;
    fs::last_write_time(dir + "/meta.json", fs::file_time_type::clock::now(), ec);  // recently used
    return *g;
  }
  std::error_code ec;
  fs::remove(dir + "/meta.json", ec);
  build(c, dir, shares, log);
  remove_old(root, c.kernel.image, log);
  if (auto g = load(dir, shares)) return *g;
  throw std::runtime_error("saved guest in " + dir + " is incomplete after saving it");
}

void discard_saved_guest(const SavedGuest& g) {
  std::error_code ec;
  fs::remove(g.dir + "/meta.json", ec);
  fs::remove(g.state, ec);
}

}  // namespace fsfault::vm
