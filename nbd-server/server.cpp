#include "nbd-server/server.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <stdexcept>
#include <system_error>

#include "nbd-server/log.h"

namespace fsfault::nbd {

namespace {

[[noreturn]] void throw_errno(const std::string& what) {
  throw std::system_error(errno, std::generic_category(), what);
}

int listen_unix(const std::string& path) {
  sockaddr_un addr{};
  if (path.size() >= sizeof addr.sun_path) throw std::runtime_error("socket path too long: " + path);
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) throw_errno("socket");
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  ::unlink(path.c_str());  // a stale socket from a killed run
  // Created 0600: only the owner may talk to the disk or the fault engine.
  mode_t old = ::umask(0177);
  int rc = ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  ::umask(old);
  if (rc < 0) {
    int e = errno;
    ::close(fd);
    errno = e;
    throw_errno("bind " + path);
  }
  if (::listen(fd, 128) < 0) throw_errno("listen " + path);
  return fd;
}

int listen_tcp(const std::string& address, int& port_out) {
  auto colon = address.rfind(':');
  if (colon == std::string::npos) throw std::runtime_error("--tcp wants HOST:PORT, got " + address);
  std::string host = address.substr(0, colon);
  std::string port = address.substr(colon + 1);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* res = nullptr;
  if (int rc = ::getaddrinfo(host.c_str(), port.c_str(), &hints, &res); rc != 0) {
    throw std::runtime_error("cannot resolve " + address + ": " + ::gai_strerror(rc));
  }
  int fd = ::socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    ::freeaddrinfo(res);
    throw_errno("socket");
  }
  int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (::bind(fd, res->ai_addr, res->ai_addrlen) < 0) {
    int e = errno;
    ::freeaddrinfo(res);
    ::close(fd);
    errno = e;
    throw_errno("bind " + address);
  }
  ::freeaddrinfo(res);
  if (::listen(fd, 128) < 0) throw_errno("listen " + address);
  sockaddr_storage ss{};
  socklen_t len = sizeof ss;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len);
  port_out = ss.ss_family == AF_INET6 ? ntohs(reinterpret_cast<sockaddr_in6*>(&ss)->sin6_port)
                                      : ntohs(reinterpret_cast<sockaddr_in*>(&ss)->sin_port);
  return fd;
}

}  // namespace

Server::Server(ServerConfig cfg, const ExportTable& exports, ControlHandler control)
    : cfg_(std::move(cfg)), exports_(exports), control_(std::move(control)) {
  wake_fd_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (wake_fd_ < 0) throw_errno("eventfd");
  reap_fd_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (reap_fd_ < 0) throw_errno("eventfd");
}

Server::~Server() {
  reap(true);
  for (int fd : {unix_fd_, tcp_fd_, control_fd_, wake_fd_, signal_fd_, reap_fd_}) {
    if (fd >= 0) ::close(fd);
  }
  if (!cfg_.unix_path.empty()) ::unlink(cfg_.unix_path.c_str());
  if (!cfg_.control_path.empty()) ::unlink(cfg_.control_path.c_str());
}

void Server::listen() {
  // The control socket first: whoever sees the NBD socket accept (the runner,
  // the tests) may use the control socket at once.
  if (!cfg_.control_path.empty()) control_fd_ = listen_unix(cfg_.control_path);
  if (!cfg_.unix_path.empty()) unix_fd_ = listen_unix(cfg_.unix_path);
  if (!cfg_.tcp_address.empty()) tcp_fd_ = listen_tcp(cfg_.tcp_address, tcp_port_);
}

void Server::request_stop() {
  std::uint64_t one = 1;
  (void)!::write(wake_fd_, &one, sizeof one);
}

void Server::run(bool handle_signals) {
  if (handle_signals) {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    // Blocked in main before any thread starts; here we only listen for them.
    signal_fd_ = ::signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
    if (signal_fd_ < 0) throw_errno("signalfd");
  }
  for (;;) {
    std::vector<pollfd> fds;
    fds.push_back({wake_fd_, POLLIN, 0});
    fds.push_back({reap_fd_, POLLIN, 0});
    if (signal_fd_ >= 0) fds.push_back({signal_fd_, POLLIN, 0});
    if (unix_fd_ >= 0) fds.push_back({unix_fd_, POLLIN, 0});
    if (tcp_fd_ >= 0) fds.push_back({tcp_fd_, POLLIN, 0});
    if (control_fd_ >= 0) fds.push_back({control_fd_, POLLIN, 0});
    int n = ::poll(fds.data(), fds.size(), 1000);
    if (n < 0 && errno != EINTR) throw_errno("poll");
    reap(false);
    if (n <= 0) continue;
    bool stop = false;
    for (const auto& p : fds) {
      if (!(p.revents & (POLLIN | POLLERR | POLLHUP))) continue;
      if (p.fd == reap_fd_) {
        std::uint64_t n;
        (void)!::read(reap_fd_, &n, sizeof n);  // reap(false) above did the work
      } else if (p.fd == wake_fd_) {
        stop = true;
      } else if (p.fd == signal_fd_) {
        signalfd_siginfo si{};
        (void)!::read(signal_fd_, &si, sizeof si);
        log::info("signal {} received: finishing in-flight requests", si.ssi_signo);
        stop = true;
      } else if (p.fd == control_fd_) {
        accept_control();
      } else {
        accept_client(p.fd, p.fd == tcp_fd_);
      }
    }
    if (stop) break;
  }
  // Stop accepting, then let every connection finish what it has started.
  for (int* fd : {&unix_fd_, &tcp_fd_, &control_fd_}) {
    if (*fd >= 0) ::close(*fd);
    *fd = -1;
  }
  reap(true);
  if (!cfg_.unix_path.empty()) ::unlink(cfg_.unix_path.c_str());
  if (!cfg_.control_path.empty()) ::unlink(cfg_.control_path.c_str());
}

void Server::accept_client(int listen_fd, bool is_tcp) {
  int fd = ::accept4(listen_fd, nullptr, nullptr, SOCK_CLOEXEC);
  if (fd < 0) {
    if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED) {
      log::warn("accept: {}", std::strerror(errno));
    }
    return;
  }
  if (clients_.size() >= cfg_.max_connections) {
    log::warn("refusing connection: {} connections already open", clients_.size());
    ::close(fd);
    return;
  }
  if (is_tcp) {
    int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  }
  std::string peer = fmt::format("conn#{}", ++next_id_);
  auto conn = std::make_unique<Connection>(fd, peer, exports_, cfg_.connection);
  Connection* raw = conn.get();
  clients_.push_back({std::move(conn), std::thread([this, raw] {
                        raw->serve();
                        // Without this the client waited up to the 1 s poll
                        // timeout for its socket to close (found by the load tests).
                        std::uint64_t one = 1;
                        (void)!::write(reap_fd_, &one, sizeof one);
                      })});
}

void Server::accept_control() {
  int fd = ::accept4(control_fd_, nullptr, nullptr, SOCK_CLOEXEC);
  if (fd < 0) return;
  {
    std::lock_guard lock(control_mu_);
    control_clients_.push_back(fd);
  }
  control_threads_.emplace_back([this, fd] {
    SocketReader in(fd, 4096);
    std::string line;
    char c;
    // JSON lines; a line longer than 1 MiB is not a command we know.
    while (in.read_exact(&c, 1)) {
      if (c != '\n') {
        if (line.size() < (1 << 20)) line.push_back(c);
        continue;
      }
      std::string reply = R"({"ok":false,"error":"no fault engine"})";
      try {
        if (control_) reply = control_(line);
      } catch (const std::exception&) {  // never let one command end the server
        reply = R"({"ok":false,"error":"internal error"})";
      }
      reply.push_back('\n');
      if (!write_all(fd, reply.data(), reply.size())) break;
      line.clear();
    }
    std::lock_guard lock(control_mu_);
    std::erase(control_clients_, fd);
    ::close(fd);
  });
}

void Server::reap(bool all) {
  if (all) {
    for (auto& c : clients_) c.conn->stop();
    std::lock_guard lock(control_mu_);
    for (int fd : control_clients_) shutdown_read(fd);
  }
  if (all) {
    // Joined outside control_mu_: the threads take it on their way out.
    for (auto& t : control_threads_) t.join();
    control_threads_.clear();
  }
  if (all) {
    // In-flight requests get a grace period to finish and be answered; a
    // client that stopped reading its replies would block that forever.
    const auto deadline = std::chrono::steady_clock::now() + kStopGrace;
    for (auto& c : clients_) {
      while (!c.conn->finished() && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
      }
      if (!c.conn->finished()) {
        log::warn("a client is not reading its replies: dropping it to stop");
        c.conn->abort();
      }
    }
  }
  for (auto it = clients_.begin(); it != clients_.end();) {
    if (all || it->conn->finished()) {
      it->thread.join();
      it = clients_.erase(it);
    } else {
      ++it;
    }
  }
}


}  // namespace fsfault::nbd
