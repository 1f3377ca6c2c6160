#include "nbd-server/connection.h"

#include <sys/uio.h>
#include <unistd.h>

#include <thread>
#include <vector>

#include "nbd-server/log.h"
#include "nbd-server/protocol.h"
#include "nbd-server/reply_batch.h"

namespace fsfault::nbd {

namespace {
// A WRITE payload read from the connection's socket, for write_in_place().
class SocketPayload final : public PayloadSource {
 public:
  explicit SocketPayload(SocketReader& in) : in_(in) {}
  bool receive(std::span<std::uint8_t> dst) override {
    failed_ = failed_ || !in_.read_exact(dst.data(), dst.size());
    return !failed_;
  }
  bool discard(std::uint64_t n) override {
    failed_ = failed_ || !in_.discard(n);
    return !failed_;
  }
  bool failed() const { return failed_; }

 private:
  SocketReader& in_;
  bool failed_ = false;
};
}  // namespace

Connection::Connection(int fd, std::string peer, const ExportTable& exports,
                       ConnectionLimits limits)
    : fd_(fd), peer_(std::move(peer)), exports_(exports), limits_(limits), in_(fd) {}

Connection::~Connection() {
  if (fd_ >= 0) ::close(fd_);
}

void Connection::stop() {
  stopping_.store(true);
  shutdown_read(fd_);
}

void Connection::abort() { shutdown_both(fd_); }

void Connection::close_now(const std::string& why) {
  log::info("{}: closing: {}", peer_, why);
  shutdown_both(fd_);
}

void Connection::serve() {
  std::string why;
  // A client that stalls during negotiation (slow loris) is cut off; once in
  // the transmission phase an idle client may wait as long as it likes.
  in_.set_deadline_ms(limits_.handshake_timeout_s * 1000);
  auto session = negotiate(fd_, in_, exports_, limits_.negotiation, why);
  in_.set_deadline_ms(0);
  if (!session) {
    log::info("{}: negotiation ended: {}", peer_, why);
    finished_.store(true);
    return;
  }
  session_ = *session;
  Dispatcher dispatcher(session_);
  dispatcher_ = &dispatcher;
  log::info("{}: serving export '{}' ({} replies{})", peer_, session_.exp->name,
            session_.structured ? "structured" : "simple",
            session_.base_allocation ? ", base:allocation" : "");
  std::vector<std::thread> extra;
  for (unsigned i = 1; i < limits_.workers; ++i) extra.emplace_back([this] { worker(); });
  worker();
  for (auto& t : extra) t.join();
  dispatcher_ = nullptr;
  log::debug("{}: connection done", peer_);
  finished_.store(true);
}

bool Connection::read_one(PendingRequest& r) {
  RequestHeader& h = r.h;
  r.refusal = {};
  r.done.reset();
  std::uint8_t hb[kRequestHeaderSize];
  if (!in_.read_exact(hb, sizeof hb)) {
    if (!stopping_.load()) log::info("{}: client disconnected", peer_);
    return false;
  }
  try {
    h = decode_request(ByteView(hb, sizeof hb));
  } catch (const CodecError& e) {
    close_now(e.what());
    return false;
  }
  if (h.type == kCmdDisc) {
    shutdown_read(fd_);
    log::info("{}: client sent DISC", peer_);
    return false;
  }
  r.refusal = dispatcher_->check(h);
  if (h.type == kCmdWrite) {
    if (h.length > kMaxBlockSize) {
      // Refused by check() (EINVAL, or EPERM on a read-only export); its
      // payload is drained so the next request header is found.
      if (h.length > limits_.max_discard) {
        close_now(fmt::format("WRITE cookie {:#x} of {} bytes exceeds --max-write-drain {}", h.cookie,
                              h.length, limits_.max_discard));
        return false;
      }
      if (!in_.discard(h.length)) return false;
      return true;
    }
    if (r.refusal.error == 0 && h.length >= kInPlaceBytes && !session_.exp->device->may_sleep()) {
      SocketPayload payload(in_);
      r.done = dispatcher_->execute_write_in_place(h, payload);
      if (payload.failed()) {
        log::info("{}: client left in the middle of a WRITE payload", peer_);
        return false;
      }
      if (r.done) return true;
    }
    r.buf.resize(h.length);
    if (!in_.read_exact(r.buf.data(), h.length)) {
      log::info("{}: client left in the middle of a WRITE payload", peer_);
      return false;
    }
  }
  return true;
}

std::size_t Connection::read_batch(std::vector<PendingRequest>& batch, std::size_t max,
                                   bool& done) {
  std::lock_guard lock(read_mu_);
  done = eof_;
  std::size_t n = 0, held = 0;
  // The first request may wait for the client; further ones are taken only
  // when their header is already buffered, so a batch never waits for more.
  while (!eof_ && n < max && held < kBatchBytes && (n == 0 || in_.buffered() >= kRequestHeaderSize)) {
    if (!read_one(batch[n])) {
      eof_ = true;
      break;
    }
    // A READ counts its length: its data may have to be copied into its plan.
    held += batch[n].h.type == kCmdRead ? batch[n].h.length : batch[n].buf.size();
    // A disconnect decided in place left its payload unread: stop here.
    const bool last = batch[n].done && batch[n].done->disconnect;
    ++n;
    if (last) {
      eof_ = true;
      break;
    }
  }
  done = eof_;
  return n;
}

Outcome Connection::refuse(const PendingRequest& r) const {
  const RequestHeader& h = r.h;
  const char* error = error_name(r.refusal.error);
  log::info("{}: refused {} cookie {:#x} offset {} length {} flags {:#x}: {} ({})", peer_,
            command_name(h.type), h.cookie, h.offset, h.length, h.flags, error, r.refusal.reason);
  Outcome out;
  out.error = r.refusal.error;
  out.message = fmt::format("{} at offset {} length {} refused: {}", command_name(h.type), h.offset,
                            h.length, r.refusal.reason);
  return out;
}

void Connection::worker() {
  const bool may_sleep = session_.exp->device->may_sleep();
  // Batches amortize locks and syscalls; a device that may sleep on purpose
  // (an injected delay) gets one request at a time so a delay holds up only
  // its own request.
  const std::size_t max_batch = may_sleep ? 1 : kMaxBatch;
  std::vector<PendingRequest> batch(max_batch);
  ReplyBatch replies(session_.structured, max_batch);
  for (;;) {
    bool done = false;
    const std::size_t n = read_batch(batch, max_batch, done);
    for (std::size_t i = 0; i < n; ++i) {
      PendingRequest& r = batch[i];
      const RequestHeader& h = r.h;
      const bool read = h.type == kCmdRead;
      Outcome out = r.refusal.error != 0 ? refuse(r)
                    : r.done             ? std::move(*r.done)
                    : read               ? dispatcher_->execute_read(h, r.plan)
                                         : dispatcher_->execute(h, std::span(r.buf));
      if (out.disconnect) {
        session_.exp->device->publish();
        // Shut the socket down before taking read_mu_: another worker may
        // hold it while blocked in recv(), and only the shutdown wakes it.
        close_now("fault: disconnect");
        std::lock_guard lock(read_mu_);
        eof_ = true;
        return;
      }
      if (read && out.error == 0 && h.length > 0) {
        replies.add_read(h, r.plan);
      } else {
        replies.add(h, out, {}, session_.base_allocation_id);
      }
    }
    if (!replies.empty()) {
      session_.exp->device->publish();  // a fault is logged before its reply leaves
      bool sent;
      {
        std::lock_guard lock(write_mu_);
        sent = replies.flush(fd_);
      }
      if (!sent) {
        shutdown_both(fd_);  // first, for the same reason as above
        std::lock_guard lock(read_mu_);
        eof_ = true;
        return;
      }
    }
    for (std::size_t i = 0; i < n; ++i) {
      if (batch[i].buf.capacity() > kKeepBytes) std::vector<std::uint8_t>().swap(batch[i].buf);
      ReadPlan& plan = batch[i].plan;
      if (plan.buffer.capacity() > kKeepBytes) std::vector<std::uint8_t>().swap(plan.buffer);
    }
    if (done) return;
  }
}

}  // namespace fsfault::nbd
