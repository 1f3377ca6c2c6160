#include "nbd-server/connection.h"

#include <sys/uio.h>
#include <unistd.h>

#include <thread>
#include <vector>

#include "nbd-server/log.h"
#include "nbd-server/protocol.h"

namespace fsfault::nbd {

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

void Connection::close_now(const std::string& why) {
  log::info("{}: closing: {}", peer_, why);
  shutdown_both(fd_);
}

void Connection::serve() {
  std::string why;
  // A client that stalls during negotiation (slow loris) is cut off; once in
  // the transmission phase an idle client may wait as long as it likes.
  set_receive_timeout(fd_, limits_.handshake_timeout_s);
  auto session = negotiate(fd_, in_, exports_, limits_.negotiation, why);
  set_receive_timeout(fd_, 0);
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

bool Connection::next_request(RequestHeader& h, std::vector<std::uint8_t>& buf,
                              std::uint32_t& early_error) {
  std::lock_guard lock(read_mu_);
  if (eof_) return false;
  std::uint8_t hb[kRequestHeaderSize];
  if (!in_.read_exact(hb, sizeof hb)) {
    eof_ = true;
    if (!stopping_.load()) log::info("{}: client disconnected", peer_);
    return false;
  }
  try {
    h = decode_request(ByteView(hb, sizeof hb));
  } catch (const CodecError& e) {
    eof_ = true;
    close_now(e.what());
    return false;
  }
  if (h.type == kCmdDisc) {
    eof_ = true;
    shutdown_read(fd_);
    log::info("{}: client sent DISC", peer_);
    return false;
  }
  early_error = dispatcher_->validate(h);
  if (h.type == kCmdWrite) {
    if (h.length > kMaxBlockSize) {
      if (h.length > limits_.max_discard) {
        eof_ = true;
        close_now(fmt::format("WRITE of {} bytes exceeds every limit", h.length));
        return false;
      }
      if (!in_.discard(h.length)) {
        eof_ = true;
        return false;
      }
      if (early_error == 0) early_error = kErrInval;
      return true;
    }
    buf.resize(h.length);
    if (!in_.read_exact(buf.data(), h.length)) {
      eof_ = true;
      log::info("{}: client left in the middle of a WRITE payload", peer_);
      return false;
    }
  } else if (h.type == kCmdRead && early_error == 0) {
    buf.resize(h.length);
  }
  return true;
}

void Connection::worker() {
  std::vector<std::uint8_t> buf;
  for (;;) {
    RequestHeader h;
    std::uint32_t err = 0;
    if (!next_request(h, buf, err)) return;
    Outcome out;
    if (err != 0) {
      out.error = err;
      out.message = fmt::format("{} at offset {} length {} refused", command_name(h.type), h.offset,
                                h.length);
    } else {
      out = dispatcher_->execute(h, std::span(buf));
    }
    if (out.disconnect) {
      // Shut the socket down before taking read_mu_: another worker may hold
      // it while blocked in recv(), and only the shutdown wakes it.
      close_now("fault: disconnect");
      std::lock_guard lock(read_mu_);
      eof_ = true;
      return;
    }
    const std::size_t data_len = (h.type == kCmdRead && out.error == 0) ? h.length : 0;
    if (!send_reply(h, out, std::span<const std::uint8_t>(buf.data(), data_len))) {
      shutdown_both(fd_);  // first, for the same reason as above
      std::lock_guard lock(read_mu_);
      eof_ = true;
      return;
    }
  }
}

bool Connection::send_reply(const RequestHeader& h, const Outcome& out,
                            std::span<const std::uint8_t> data) {
  const bool is_read = h.type == kCmdRead;
  std::lock_guard lock(write_mu_);
  if (!session_.structured) {
    std::uint8_t hdr[kSimpleReplySize];
    encode_simple_reply(hdr, {out.error, h.cookie});
    struct iovec iov[2] = {{hdr, sizeof hdr}, {const_cast<std::uint8_t*>(data.data()), data.size()}};
    return writev_all(fd_, iov, (is_read && out.error == 0 && !data.empty()) ? 2 : 1);
  }
  std::uint8_t hdr[kStructuredReplyHeaderSize];
  if (out.error != 0) {
    Bytes payload = encode_error_payload(out.error, out.message);
    encode_chunk_header(hdr, {kReplyFlagDone, kReplyError, h.cookie,
                              static_cast<std::uint32_t>(payload.size())});
    struct iovec iov[2] = {{hdr, sizeof hdr}, {payload.data(), payload.size()}};
    return writev_all(fd_, iov, 2);
  }
  if (is_read && !data.empty()) {
    std::uint8_t off[8];
    for (int i = 0; i < 8; ++i) off[i] = static_cast<std::uint8_t>(h.offset >> (56 - 8 * i));
    encode_chunk_header(hdr, {kReplyFlagDone, kReplyOffsetData, h.cookie,
                              static_cast<std::uint32_t>(8 + data.size())});
    struct iovec iov[3] = {{hdr, sizeof hdr},
                           {off, sizeof off},
                           {const_cast<std::uint8_t*>(data.data()), data.size()}};
    return writev_all(fd_, iov, 3);
  }
  if (h.type == kCmdBlockStatus) {
    Bytes payload = encode_block_status_payload(session_.base_allocation_id, out.extents);
    encode_chunk_header(hdr, {kReplyFlagDone, kReplyBlockStatus, h.cookie,
                              static_cast<std::uint32_t>(payload.size())});
    struct iovec iov[2] = {{hdr, sizeof hdr}, {payload.data(), payload.size()}};
    return writev_all(fd_, iov, 2);
  }
  encode_chunk_header(hdr, {kReplyFlagDone, kReplyNone, h.cookie, 0});
  return write_all(fd_, hdr, sizeof hdr);
}

}  // namespace fsfault::nbd
