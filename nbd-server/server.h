// The listening side: unix and/or TCP listeners, an optional control socket,
// one thread per client connection, and an orderly shutdown on SIGINT/SIGTERM
// (in-flight requests finish, sockets are removed).
#pragma once

#include <chrono>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "nbd-server/connection.h"
#include "nbd-server/control_handler.h"
#include "nbd-server/export.h"

namespace fsfault::nbd {

struct ServerConfig {
  std::string unix_path;     // empty: no unix listener
  std::string tcp_address;   // "HOST:PORT"; empty: no TCP listener
  std::string control_path;  // empty: no control socket
  unsigned max_connections = 128;
  ConnectionLimits connection;
};

class Server {
 public:
  Server(ServerConfig cfg, const ExportTable& exports, ControlHandler control = {});
  ~Server();

  // Binds every listener (throws std::system_error / std::runtime_error).
  // After it returns, clients can connect.
  void listen();
  // Serves until request_stop() or a SIGINT/SIGTERM (when handle_signals was
  // true); then stops every connection and returns.
  void run(bool handle_signals);
  void request_stop();
  // The bound TCP port (useful with port 0).
  int tcp_port() const { return tcp_port_; }

 private:
  void accept_client(int listen_fd, bool is_tcp);
  void accept_control();
  void reap(bool all);
  // How long a stop waits for in-flight requests before dropping clients.
  static constexpr std::chrono::seconds kStopGrace{5};

  ServerConfig cfg_;
  const ExportTable& exports_;
  ControlHandler control_;
  int unix_fd_ = -1, tcp_fd_ = -1, control_fd_ = -1, wake_fd_ = -1, signal_fd_ = -1;
  // Written by a connection's thread when it ends, so run() reaps it (joins
  // the thread, closes the socket) at once instead of at the next poll timeout.
  int reap_fd_ = -1;
  int tcp_port_ = 0;
  struct Client {
    std::unique_ptr<Connection> conn;
    std::thread thread;
  };
  std::list<Client> clients_;
  std::vector<std::thread> control_threads_;
  std::vector<int> control_clients_;
  std::mutex control_mu_;
  unsigned next_id_ = 0;
};

}  // namespace fsfault::nbd
