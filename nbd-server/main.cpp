// fsfault-nbd: an NBD server for golden disk images that injects faults on a
// schedule. This file only parses flags and wires the layers together:
// codec/negotiation/connection (protocol) -> Dispatcher -> FaultFilter ->
// OverlayStore/RawStore.
#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <memory>

#include "nbd-server/export.h"
#include "nbd-server/fault_wiring.h"
#include "nbd-server/log.h"
#include "nbd-server/server.h"
#include "nbd-server/storage/overlay_store.h"
#include "nbd-server/storage/raw_store.h"

using namespace fsfault::nbd;

int main(int argc, char** argv) {
  CLI::App app{
      "fsfault-nbd: serve disk images over NBD and inject faults (I/O errors, bit flips,\n"
      "dead devices) on a schedule. By default the image is never modified: writes land\n"
      "in a private copy-on-write overlay that disappears when the server exits."};
  app.set_version_flag("--version", "fsfault-nbd 0.1.0");

  std::vector<std::string> images, exports, maps;
  std::string unix_path, tcp, schedule, control, fault_log, overlay_dir;
  bool write_through = false, read_only = false, verbose = false, quiet = false;
  ServerConfig cfg;

  app.add_option("--image", images,
                 "Disk image to serve (repeatable; pair each with --export and --map in order)")
      ->required()
      ->check(CLI::ExistingFile);
  app.add_option("--export", exports,
                 "Export name of the matching --image (default: the image's file stem). A client\n"
                 "asking for the empty name gets the first export.");
  app.add_option("--map", maps,
                 "Image map (NAME.map.json from `fsfault image build`) of the matching --image:\n"
                 "lets schedules name targets such as inode:/data/f1");
  app.add_option("--socket", unix_path,
                 "Listen on this unix socket (mode 0600). Default when neither --socket nor --tcp\n"
                 "is given: nbd.sock in a fresh private directory, printed at start");
  app.add_option("--tcp", tcp,
                 "Listen on TCP HOST:PORT (e.g. 127.0.0.1:10809; port 0 picks one). :PORT or PORT\n"
                 "binds loopback (127.0.0.1): nothing is exposed beyond loopback unless you name\n"
                 "another address");
  app.add_option("--schedule", schedule, "Fault schedule (TOML) to load at start")
      ->check(CLI::ExistingFile);
  app.add_option("--control", control,
                 "Control socket (unix, mode 0600, JSON lines): set phase, load/clear schedule,\n"
                 "stats, die. See `fsfault ctl`");
  app.add_option("--fault-log", fault_log, "Append one JSON line per fired fault to this file");
  app.add_flag("--write-through", write_through,
               "Write to the image itself instead of an overlay; FLUSH and FUA become fdatasync");
  app.add_flag("--read-only", read_only, "Advertise a read-only export and refuse writes with EPERM");
  app.add_option("--overlay-dir", overlay_dir,
                 "Put the overlay in an unlinked, sparse file in this directory (on disk); default: "
                 "in memory (a memfd: tmpfs pages in RAM + swap, grown only by data written)");
  app.add_option("--threads", cfg.connection.workers,
                 "Requests processed concurrently per connection (= requests in flight per\n"
                 "connection; further pipelined requests wait in the socket)")
      ->capture_default_str()
      ->check(CLI::Range(1, 256));
  app.add_option("--max-connections", cfg.max_connections, "Connections served at once; more are closed")
      ->capture_default_str()
      ->check(CLI::Range(1, 65536));
  app.add_option("--max-options", cfg.connection.negotiation.max_options,
                 "Options a client may send before GO/EXPORT_NAME")
      ->capture_default_str();
  app.add_option("--max-option-length", cfg.connection.negotiation.max_option_length,
                 "Largest option payload (bytes) read during negotiation; longer ones are\n"
                 "skipped and refused with NBD_REP_ERR_TOO_BIG")
      ->capture_default_str()
      ->check(CLI::Range(4096u, 16u * 1024 * 1024));
  app.add_option("--max-write-drain", cfg.connection.max_discard,
                 "A WRITE over the maximum request size (64 MiB) is read and refused with EINVAL\n"
                 "up to this many bytes; a longer one closes the connection")
      ->capture_default_str()
      ->check(CLI::Range(std::uint64_t{kMaxBlockSize}, std::uint64_t{1} << 32));
  app.add_option("--handshake-timeout", cfg.connection.handshake_timeout_s,
                 "Seconds a client may take to finish negotiation (0 = no limit)")
      ->capture_default_str();
  app.add_flag("-v,--verbose", verbose, "Log every option and connection event");
  app.add_flag("-q,--quiet", quiet, "Log only errors");
  app.get_option("--write-through")->excludes("--read-only");
  app.footer(
      "Limits: a READ or WRITE may move at most 64 MiB (the maximum block size advertised\n"
      "with NBD_INFO_BLOCK_SIZE); longer ones get EINVAL. Export names and meta-context\n"
      "queries are at most 4096 bytes. Every limit above has a safe default.\n"
      "Every refused request (EINVAL, ENOSPC past the end, EPERM on a read-only export, ...)\n"
      "is one info line with its connection, command, cookie, offset, length and reason;\n"
      "-q hides them.");

  CLI11_PARSE(app, argc, argv);
  log::set_level(quiet ? log::Level::Error : verbose ? log::Level::Debug : log::Level::Info);

  if (!exports.empty() && exports.size() != images.size()) {
    std::fprintf(stderr, "fsfault-nbd: %zu --image but %zu --export: give one name per image\n",
                 images.size(), exports.size());
    return 2;
  }
  if (!maps.empty() && maps.size() != images.size()) {
    std::fprintf(stderr, "fsfault-nbd: %zu --image but %zu --map: give one map per image\n",
                 images.size(), maps.size());
    return 2;
  }

  // Signals are taken through a signalfd by the server; block them before any
  // thread exists so every thread inherits the mask.
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  ::signal(SIGPIPE, SIG_IGN);

  std::string private_dir;
  try {
    ExportTable table;
    FaultWiring faults;
    for (std::size_t i = 0; i < images.size(); ++i) {
      std::shared_ptr<BlockDevice> store;
      if (read_only) {
        store = std::make_shared<RawStore>(images[i], RawStore::Mode::ReadOnly);
      } else if (write_through) {
        store = std::make_shared<RawStore>(images[i], RawStore::Mode::WriteThrough);
      } else {
        store = std::make_shared<OverlayStore>(images[i], overlay_dir);
      }
      Export e;
      e.name = exports.empty() ? std::filesystem::path(images[i]).stem().string() : exports[i];
      e.description = std::filesystem::path(images[i]).filename().string();
      e.read_only = read_only;
      e.device = faults.wrap(e.name, std::move(store), maps.empty() ? "" : maps[i]);
      bool duplicate = false;
      for (const auto& other : table.all()) duplicate |= other.name == e.name;
      if (duplicate) {
        std::fprintf(stderr, "fsfault-nbd: export name '%s' given twice\n", e.name.c_str());
        return 2;
      }
      table.add(std::move(e));
    }
    faults.configure(schedule, fault_log);

    if (unix_path.empty() && tcp.empty()) {
      char tmpl[] = "/tmp/fsfault-nbd.XXXXXX";
      if (!::mkdtemp(tmpl)) throw std::system_error(errno, std::generic_category(), "mkdtemp");
      private_dir = tmpl;
      unix_path = private_dir + "/nbd.sock";
    }
    // No host: loopback, never every interface.
    if (!tcp.empty() && tcp.find(':') == std::string::npos) tcp = ":" + tcp;
    if (!tcp.empty() && tcp.front() == ':') tcp = "127.0.0.1" + tcp;
    cfg.unix_path = unix_path;
    cfg.tcp_address = tcp;
    cfg.control_path = control;
    Server server(cfg, table, faults.control_handler());
    server.listen();
    for (const auto& e : table.all()) {
      if (!unix_path.empty()) {
        std::printf("nbd+unix:///%s?socket=%s\n", e.name.c_str(), unix_path.c_str());
      }
      if (!tcp.empty()) {
        std::printf("nbd://%s:%d/%s\n", tcp.substr(0, tcp.rfind(':')).c_str(), server.tcp_port(),
                    e.name.c_str());
      }
    }
    std::fflush(stdout);
    log::info("serving {} export(s){}{}", table.all().size(),
              read_only ? " read-only" : write_through ? " write-through" : " (overlay)",
              schedule.empty() ? "" : ", schedule " + schedule);
    server.run(true);
  } catch (const std::exception& e) {
    log::error("{}", e.what());
    if (!private_dir.empty()) ::rmdir(private_dir.c_str());
    return 1;
  }
  if (!private_dir.empty()) ::rmdir(private_dir.c_str());
  log::info("stopped");
  return 0;
}
