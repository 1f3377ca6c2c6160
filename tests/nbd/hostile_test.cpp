// Hostile clients on raw sockets: each misbehaviour closes that connection (or
// gets the right option error) while the server stays alive and keeps serving
// a well-behaved libnbd client. Messages are built here byte by byte, not with
// the server's codec, so a codec bug cannot hide itself.
#include <libnbd.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cstring>

#include "tests/nbd/support.h"

namespace fsfault::it {
namespace {

constexpr std::uint64_t kSize = 4 * 1024 * 1024;
constexpr std::uint64_t kOptMagic = 0x49484156454F5054ULL;
constexpr std::uint64_t kRepMagic = 0x0003e889045565a9ULL;
constexpr std::uint32_t kReqMagic = 0x25609513;
constexpr std::uint32_t kSimpleMagic = 0x67446698;

using Bytes = std::vector<std::uint8_t>;

void be16(Bytes& b, std::uint16_t v) {
  b.push_back(static_cast<std::uint8_t>(v >> 8));
  b.push_back(static_cast<std::uint8_t>(v));
}
void be32(Bytes& b, std::uint32_t v) {
  for (int s = 24; s >= 0; s -= 8) b.push_back(static_cast<std::uint8_t>(v >> s));
}
void be64(Bytes& b, std::uint64_t v) {
  for (int s = 56; s >= 0; s -= 8) b.push_back(static_cast<std::uint8_t>(v >> s));
}
std::uint32_t rd32(const std::uint8_t* p) {
  return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) | p[3];
}
std::uint64_t rd64(const std::uint8_t* p) { return (std::uint64_t{rd32(p)} << 32) | rd32(p + 4); }

Bytes option(std::uint32_t opt, const Bytes& payload) {
  Bytes b;
  be64(b, kOptMagic);
  be32(b, opt);
  be32(b, static_cast<std::uint32_t>(payload.size()));
  b.insert(b.end(), payload.begin(), payload.end());
  return b;
}

Bytes request(std::uint16_t type, std::uint64_t cookie, std::uint64_t off, std::uint32_t len,
              std::uint32_t magic = kReqMagic) {
  Bytes b;
  be32(b, magic);
  be16(b, 0);
  be16(b, type);
  be64(b, cookie);
  be64(b, off);
  be32(b, len);
  return b;
}

struct OptReply {
  std::uint32_t option = 0, type = 0;
  Bytes payload;
};

class HostileTest : public ServerTest {
 protected:
  void SetUp() override {
    img_ = make_image("disk.img", kSize, 31);
    golden_ = read_file(img_);
    server_ = &start_server({"--image", img_, "--export", "disk"});
  }
  void TearDown() override {
    for (int fd : fds_) ::close(fd);
    ServerTest::TearDown();
  }
  // A raw connection that has read the server's greeting.
  int greeted() {
    int fd = connect_unix(server_->socket());
    EXPECT_GE(fd, 0);
    fds_.push_back(fd);
    std::uint8_t g[18];
    EXPECT_TRUE(recv_exact(fd, g, sizeof g));
    EXPECT_EQ(std::memcmp(g, "NBDMAGICIHAVEOPT", 16), 0);
    EXPECT_EQ(g[17] & 1, 1) << "fixed newstyle must be advertised";
    return fd;
  }
  // Greeting plus client flags (fixed newstyle, no zeroes).
  int negotiating() {
    int fd = greeted();
    Bytes f;
    be32(f, 3);
    EXPECT_TRUE(send_all(fd, f.data(), f.size()));
    return fd;
  }
  static bool read_reply(int fd, OptReply& r) {
    std::uint8_t h[20];
    if (!recv_exact(fd, h, sizeof h)) return false;
    EXPECT_EQ(rd64(h), kRepMagic);
    r.option = rd32(h + 8);
    r.type = rd32(h + 12);
    r.payload.resize(rd32(h + 16));
    return r.payload.empty() || recv_exact(fd, r.payload.data(), r.payload.size());
  }
  // Negotiates with GO on "disk" (simple replies) and returns the socket.
  int transmitting() {
    int fd = negotiating();
    Bytes p;
    be32(p, 4);
    p.insert(p.end(), {'d', 'i', 's', 'k'});
    be16(p, 0);
    Bytes o = option(7, p);
    EXPECT_TRUE(send_all(fd, o.data(), o.size()));
    OptReply r;
    do {
      if (!read_reply(fd, r)) {
        ADD_FAILURE() << "no reply to GO";
        return fd;
      }
    } while (r.type == 3);  // NBD_REP_INFO
    EXPECT_EQ(r.type, 1u) << "GO not acknowledged";
    return fd;
  }
  // The server is alive and a normal client reads the right data.
  void expect_still_serving() {
    ASSERT_TRUE(server_->alive()) << "the server died:\n" << server_->log();
    nbd_handle* h = nbd_create();
    ASSERT_NE(h, nullptr);
    ASSERT_EQ(nbd_set_export_name(h, "disk"), 0);
    ASSERT_EQ(nbd_connect_unix(h, server_->socket().c_str()), 0) << nbd_get_error();
    std::vector<std::uint8_t> buf(65536);
    EXPECT_EQ(nbd_pread(h, buf.data(), buf.size(), 0, 0), 0) << nbd_get_error();
    EXPECT_TRUE(std::equal(buf.begin(), buf.end(), golden_.begin()));
    nbd_close(h);
  }

  std::string img_;
  Bytes golden_;
  ServerProcess* server_ = nullptr;
  std::vector<int> fds_;
};

TEST_F(HostileTest, GarbageHandshake) {
  int fd = greeted();
  Bytes junk = random_bytes(300, 1);
  junk[3] &= ~1;  // the first four bytes are the client flags: leave fixed-newstyle unset
  ASSERT_TRUE(send_all(fd, junk.data(), junk.size()));
  EXPECT_TRUE(wait_closed(fd));
  expect_still_serving();
}

TEST_F(HostileTest, GarbageAfterValidFlags) {
  int fd = negotiating();
  Bytes junk = random_bytes(300, 2);
  ASSERT_TRUE(send_all(fd, junk.data(), junk.size()));
  EXPECT_TRUE(wait_closed(fd)) << "bad IHAVEOPT magic must close the connection";
  expect_still_serving();
}

TEST_F(HostileTest, NoFixedNewstyleFlag) {
  int fd = greeted();
  Bytes f;
  be32(f, 0);
  ASSERT_TRUE(send_all(fd, f.data(), f.size()));
  EXPECT_TRUE(wait_closed(fd));
  int fd2 = greeted();
  Bytes f2;
  be32(f2, 1 | 0x80);  // an unknown client flag
  ASSERT_TRUE(send_all(fd2, f2.data(), f2.size()));
  EXPECT_TRUE(wait_closed(fd2));
  expect_still_serving();
}

TEST_F(HostileTest, UnknownOptionGetsErrUnsupAndNegotiationContinues) {
  int fd = negotiating();
  Bytes o = option(0x1234, {1, 2, 3});
  ASSERT_TRUE(send_all(fd, o.data(), o.size()));
  OptReply r;
  ASSERT_TRUE(read_reply(fd, r));
  EXPECT_EQ(r.option, 0x1234u);
  EXPECT_EQ(r.type, 0x80000001u) << "NBD_REP_ERR_UNSUP";
  // STARTTLS: not supported either.
  Bytes tls = option(5, {});
  ASSERT_TRUE(send_all(fd, tls.data(), tls.size()));
  ASSERT_TRUE(read_reply(fd, r));
  EXPECT_EQ(r.type, 0x80000001u);
  // SET_META_CONTEXT before STRUCTURED_REPLY is invalid.
  Bytes mc;
  be32(mc, 0);
  be32(mc, 1);
  be32(mc, 15);
  for (char c : std::string("base:allocation")) mc.push_back(static_cast<std::uint8_t>(c));
  Bytes m = option(10, mc);
  ASSERT_TRUE(send_all(fd, m.data(), m.size()));
  ASSERT_TRUE(read_reply(fd, r));
  EXPECT_EQ(r.type, 0x80000003u) << "NBD_REP_ERR_INVALID";
  // Malformed INFO payload: ERR_INVALID, still negotiating.
  Bytes bad = option(6, {0, 0, 0, 9, 'x'});
  ASSERT_TRUE(send_all(fd, bad.data(), bad.size()));
  ASSERT_TRUE(read_reply(fd, r));
  EXPECT_EQ(r.type, 0x80000003u);
  // LIST still works after all that.
  Bytes l = option(3, {});
  ASSERT_TRUE(send_all(fd, l.data(), l.size()));
  ASSERT_TRUE(read_reply(fd, r));
  EXPECT_EQ(r.type, 2u) << "NBD_REP_SERVER";
  ASSERT_TRUE(read_reply(fd, r));
  EXPECT_EQ(r.type, 1u) << "NBD_REP_ACK";
  Bytes abort = option(2, {});
  ASSERT_TRUE(send_all(fd, abort.data(), abort.size()));
  EXPECT_TRUE(wait_closed(fd));
  expect_still_serving();
}

TEST_F(HostileTest, OversizedOptionGetsErrTooBig) {
  int fd = negotiating();
  Bytes big = option(6, Bytes(200 * 1024, 'A'));  // GO-sized junk far over 64 KiB
  ASSERT_TRUE(send_all(fd, big.data(), big.size()));
  OptReply r;
  ASSERT_TRUE(read_reply(fd, r));
  EXPECT_EQ(r.type, 0x80000009u) << "NBD_REP_ERR_TOO_BIG";
  // The connection is still in negotiation and in sync.
  Bytes l = option(3, {});
  ASSERT_TRUE(send_all(fd, l.data(), l.size()));
  ASSERT_TRUE(read_reply(fd, r));
  EXPECT_EQ(r.type, 2u);
  // An oversized option whose payload never comes: the client just leaves.
  Bytes hdr;
  be64(hdr, kOptMagic);
  be32(hdr, 7);
  be32(hdr, 0xffffffff);
  int fd2 = negotiating();
  ASSERT_TRUE(send_all(fd2, hdr.data(), hdr.size()));
  ::shutdown(fd2, SHUT_WR);
  EXPECT_TRUE(wait_closed(fd2));
  expect_still_serving();
}

TEST_F(HostileTest, TooManyOptionsCloseTheConnection) {
  server_ = &start_server({"--image", img_, "--export", "disk", "--max-options", "20"}, "mo.sock");
  int fd = negotiating();
  int replies = 0;
  bool closed = false;
  for (int i = 0; i < 300 && !closed; ++i) {
    Bytes o = option(0x4000 + static_cast<std::uint32_t>(i), {});
    if (!send_all(fd, o.data(), o.size())) {
      closed = true;
      break;
    }
    OptReply r;
    if (!read_reply(fd, r)) {
      closed = true;
      break;
    }
    EXPECT_EQ(r.type, 0x80000001u);
    ++replies;
  }
  EXPECT_TRUE(closed) << "300 options were all answered";
  EXPECT_EQ(replies, 20) << "--max-options 20";
  expect_still_serving();
}

TEST_F(HostileTest, UnknownExportNameWithOptExportName) {
  int fd = negotiating();
  Bytes o = option(1, {'n', 'o', 'p', 'e'});
  ASSERT_TRUE(send_all(fd, o.data(), o.size()));
  EXPECT_TRUE(wait_closed(fd)) << "EXPORT_NAME of an unknown export must close";
  // A known one works, with the 10-byte (NO_ZEROES) reply.
  int fd2 = negotiating();
  Bytes ok = option(1, {'d', 'i', 's', 'k'});
  ASSERT_TRUE(send_all(fd2, ok.data(), ok.size()));
  std::uint8_t rep[10];
  ASSERT_TRUE(recv_exact(fd2, rep, sizeof rep));
  EXPECT_EQ(rd64(rep), kSize);
  expect_still_serving();
}

TEST_F(HostileTest, BadRequestMagic) {
  int fd = transmitting();
  // A good request first: the connection works.
  Bytes ok = request(0, 7, 0, 512);
  ASSERT_TRUE(send_all(fd, ok.data(), ok.size()));
  std::uint8_t rep[16];
  ASSERT_TRUE(recv_exact(fd, rep, sizeof rep));
  EXPECT_EQ(rd32(rep), kSimpleMagic);
  EXPECT_EQ(rd32(rep + 4), 0u);
  EXPECT_EQ(rd64(rep + 8), 7u);
  Bytes data(512);
  ASSERT_TRUE(recv_exact(fd, data.data(), data.size()));
  EXPECT_TRUE(std::equal(data.begin(), data.end(), golden_.begin()));
  Bytes bad = request(0, 8, 0, 512, 0x12345678);
  ASSERT_TRUE(send_all(fd, bad.data(), bad.size()));
  EXPECT_TRUE(wait_closed(fd));
  expect_still_serving();
}

TEST_F(HostileTest, DisconnectMidRequest) {
  int fd = transmitting();
  const std::uint32_t len = 1 << 20;
  Bytes w = request(1, 9, 0, len);
  Bytes half(len / 2, 0xdd);
  ASSERT_TRUE(send_all(fd, w.data(), w.size()));
  ASSERT_TRUE(send_all(fd, half.data(), half.size()));
  ::close(fd);
  fds_.erase(std::find(fds_.begin(), fds_.end(), fd));
  // A header cut short as well.
  int fd2 = transmitting();
  Bytes r = request(0, 10, 0, 512);
  ASSERT_TRUE(send_all(fd2, r.data(), 13));
  ::close(fd2);
  fds_.erase(std::find(fds_.begin(), fds_.end(), fd2));
  expect_still_serving();  // also checks the half-written region is untouched
}

TEST_F(HostileTest, HugeRequestsDoNotAllocate) {
  int fd = transmitting();
  // READ of 4 GiB - 1: refused with EINVAL, the connection stays usable.
  Bytes r = request(0, 11, 0, 0xffffffff);
  ASSERT_TRUE(send_all(fd, r.data(), r.size()));
  std::uint8_t rep[16];
  ASSERT_TRUE(recv_exact(fd, rep, sizeof rep));
  EXPECT_EQ(rd32(rep + 4), 22u) << "EINVAL";
  EXPECT_EQ(rd64(rep + 8), 11u);
  // Unknown command: EINVAL.
  Bytes u = request(99, 12, 0, 0);
  ASSERT_TRUE(send_all(fd, u.data(), u.size()));
  ASSERT_TRUE(recv_exact(fd, rep, sizeof rep));
  EXPECT_EQ(rd32(rep + 4), 22u);
  EXPECT_EQ(rd64(rep + 8), 12u);
  // WRITE announcing 4 GiB - 1 of payload: more than the server will drain.
  Bytes w = request(1, 13, 0, 0xffffffff);
  ASSERT_TRUE(send_all(fd, w.data(), w.size()));
  EXPECT_TRUE(wait_closed(fd));
  expect_still_serving();
}

}  // namespace
}  // namespace fsfault::it
