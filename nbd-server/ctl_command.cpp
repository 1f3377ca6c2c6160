#include "nbd-server/ctl_command.h"

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fmt/format.h>
#include <stdexcept>

#include "nbd-server/socket_io.h"

namespace fsfault::nbd {

nlohmann::json control_request(const std::string& path, const nlohmann::json& command,
                               int timeout_ms) {
  sockaddr_un addr{};
  if (path.size() >= sizeof addr.sun_path) throw std::runtime_error("control path too long: " + path);
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) throw std::runtime_error(fmt::format("socket: {}", std::strerror(errno)));
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) < 0) {
    int e = errno;
    ::close(fd);
    throw std::runtime_error(fmt::format("cannot reach control socket {}: {}", path, std::strerror(e)));
  }
  std::string line = command.dump() + "\n";
  if (!write_all(fd, line.data(), line.size())) {
    ::close(fd);
    throw std::runtime_error("control socket closed while sending");
  }
  std::string reply;
  char buf[4096];
  for (;;) {
    pollfd p{fd, POLLIN, 0};
    int n = ::poll(&p, 1, timeout_ms);
    if (n == 0) {
      ::close(fd);
      throw std::runtime_error(fmt::format("no answer from {} within {} ms", path, timeout_ms));
    }
    ssize_t r = ::read(fd, buf, sizeof buf);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) break;
    reply.append(buf, static_cast<std::size_t>(r));
    if (reply.find('\n') != std::string::npos) break;
  }
  ::close(fd);
  auto nl = reply.find('\n');
  if (nl == std::string::npos) throw std::runtime_error("control socket closed without an answer");
  auto j = nlohmann::json::parse(reply.substr(0, nl), nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    throw std::runtime_error("control socket answered something that is not a JSON object");
  }
  return j;
}

namespace {

void print_reply(const std::string& what, const nlohmann::json& r, bool json) {
  if (json) {
    fmt::print("{}\n", r.dump());
  } else if (what == "stats") {
    fmt::print("phase: {}\ndead: {}\n", r.contains("phase") && r["phase"].is_string()
                                            ? r["phase"].get<std::string>() : "(none)",
               r.value("dead", false) ? "yes" : "no");
    if (r.contains("requests")) fmt::print("requests: {}\n", r["requests"].dump());
    if (r.contains("rules") && r["rules"].is_array()) {
      fmt::print("{:<32} {:>10} {:>10}\n", "rule", "matches", "fired");
      for (const auto& rule : r["rules"]) {
        fmt::print("{:<32} {:>10} {:>10}\n", rule.value("name", "?"), rule.value("matches", 0),
                   rule.value("fired", 0));
      }
    }
    if (r.contains("exports")) fmt::print("{}\n", r["exports"].dump(2));
  } else if (what == "phase") {
    fmt::print("phase: {}\n", r.value("phase", "?"));
  } else if (what == "load") {
    fmt::print("loaded {} rule(s)\n", r.contains("rules") ? r["rules"].dump() : "?");
  } else if (what == "die") {
    fmt::print("the disk is dead: every request now fails with EIO\n");
  } else {
    fmt::print("ok\n");
  }
}

}  // namespace

void register_ctl_command(CLI::App& app) {
  auto* ctl = app.add_subcommand("ctl", "Talk to a running fsfault-nbd's control socket");
  auto control = std::make_shared<std::string>();
  auto json = std::make_shared<bool>(false);
  ctl->add_option("--control", *control, "The server's --control socket")->required();
  ctl->add_flag("--json", *json, "Print the server's raw JSON answer");
  ctl->require_subcommand(1);

  auto run = [control, json](const std::string& what, nlohmann::json cmd) {
    nlohmann::json r;
    try {
      r = control_request(*control, cmd);
    } catch (const std::exception& e) {
      fmt::print(stderr, "fsfault ctl: {}\n", e.what());
      throw CLI::RuntimeError(1);
    }
    if (!r.value("ok", false)) {
      fmt::print(stderr, "fsfault ctl: {}: {}\n", what, r.value("error", r.dump()));
      throw CLI::RuntimeError(1);
    }
    print_reply(what, r, *json);
  };

  auto phase_name = std::make_shared<std::string>();
  auto* phase = ctl->add_subcommand("phase", "Announce a phase: rules with that phase arm");
  phase->add_option("NAME", *phase_name, "Phase name")->required();
  phase->callback([run, phase_name] { run("phase", {{"cmd", "phase"}, {"name", *phase_name}}); });

  ctl->add_subcommand("stats", "Show the phase and per-rule match/fire counters")
      ->callback([run] { run("stats", {{"cmd", "stats"}}); });
  ctl->add_subcommand("die", "Kill the disk: every later request fails with EIO")
      ->callback([run] { run("die", {{"cmd", "die"}}); });
  ctl->add_subcommand("clear", "Remove every rule and revive a dead disk")
      ->callback([run] { run("clear", {{"cmd", "clear"}}); });

  auto file = std::make_shared<std::string>();
  auto* load = ctl->add_subcommand("load", "Replace the schedule with FILE (TOML)");
  load->add_option("FILE", *file, "Schedule file")->required()->check(CLI::ExistingFile);
  load->callback([run, file] {
    run("load", {{"cmd", "load"}, {"path", std::filesystem::absolute(*file).string()}});
  });
}

}  // namespace fsfault::nbd
