// One client connection: negotiation, then the transmission phase. Requests
// are read one at a time under a read lock and executed by a small set of
// worker threads, so pipelined requests run concurrently and replies may go
// out of order (each reply is written whole under a write lock).
#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>

#include "nbd-server/dispatch.h"
#include "nbd-server/export.h"
#include "nbd-server/negotiation.h"
#include "nbd-server/socket_io.h"

namespace fsfault::nbd {

struct ConnectionLimits {
  NegotiationLimits negotiation;
  unsigned workers = 8;  // requests in flight per connection
  unsigned handshake_timeout_s = 30;  // negotiation must finish within this
  // A WRITE longer than the maximum block size is drained and refused with
  // EINVAL up to this size (twice the maximum); beyond it the connection is closed.
  std::uint64_t max_discard = 2ULL * kMaxBlockSize;
};

class Connection {
 public:
  Connection(int fd, std::string peer, const ExportTable& exports, ConnectionLimits limits);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Serves the client until it disconnects, misbehaves or stop() is called.
  void serve();
  // Asks the connection to finish: in-flight requests complete and are
  // answered, no new request is read. Safe from any thread.
  void stop();
  // Ends the connection now, replies still unsent included: for a client
  // that stopped reading and would keep workers blocked in sendmsg forever.
  void abort();
  bool finished() const { return finished_.load(); }

 private:
  // Requests taken from the socket in one go, at most this many, and no more
  // once their buffers hold kBatchBytes: a worker holds at most
  // kBatchBytes + kMaxBlockSize, not kMaxBatch maximum-size requests.
  static constexpr std::size_t kMaxBatch = 16;
  static constexpr std::size_t kBatchBytes = 4 << 20;
  // A buffer larger than this is freed once its reply is sent, so a burst of
  // large requests leaves no memory behind.
  static constexpr std::size_t kKeepBytes = 1 << 20;
  // A WRITE at least this long is offered to the store to receive in place
  // (it then runs in the reading thread); shorter ones are buffered, so their
  // pwrites run in parallel on the workers.
  static constexpr std::uint32_t kInPlaceBytes = 64 * 1024;
  struct PendingRequest {
    RequestHeader h;
    Refusal refusal;                // refused before execution when error != 0
    std::vector<std::uint8_t> buf;  // WRITE payload
    ReadPlan plan;                  // where a READ's data is
    std::optional<Outcome> done;    // a WRITE executed while its payload was received
  };

  void worker();
  // The reply to a refused request, logged at info level (as nbdkit does).
  Outcome refuse(const PendingRequest& r) const;
  // Reads one request (with its payload); false when reading is over.
  bool read_one(PendingRequest& r);
  // Under read_mu_: the next request, plus those already buffered behind it.
  // `done` is set when nothing more will be read.
  std::size_t read_batch(std::vector<PendingRequest>& batch, std::size_t max, bool& done);
  void close_now(const std::string& why);

  int fd_;
  std::string peer_;
  const ExportTable& exports_;
  ConnectionLimits limits_;
  SocketReader in_;
  Session session_;
  Dispatcher* dispatcher_ = nullptr;
  std::mutex read_mu_, write_mu_;
  bool eof_ = false;  // guarded by read_mu_
  std::atomic<bool> finished_{false};
  std::atomic<bool> stopping_{false};
};

}  // namespace fsfault::nbd
