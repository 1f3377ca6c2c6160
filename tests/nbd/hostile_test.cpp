// Hostile clients on raw sockets (tests/nbd/raw_client.h): each misbehaviour
// closes that connection (or gets the right option error) while the server
// stays alive and keeps serving a well-behaved libnbd client.
#include <libnbd.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cstring>

#include "tests/nbd/raw_client.h"
#include "tests/nbd/support.h"

namespace fsfault::it {
namespace {

constexpr std::uint64_t kSize = 4 * 1024 * 1024;

using raw::Bytes;
using raw::OptReply;
using raw::option;
using raw::read_option_reply;
using raw::request;

// A number as 4 big-endian bytes.
Bytes be32(std::uint32_t v) {
  Bytes b;
  raw::put(b, v, 4);
  return b;
}

class HostileTest : public ServerTest {
 protected:
  void SetUp() override {
    img_ = make_image("disk.img", kSize, 31);
    golden_ = read_file(img_);
    server_ = &start_server({"--image", img_, "--export", "disk"});
  }
  int greeted() { return clients_.greeted(server_->socket()); }
  int negotiating() { return clients_.negotiating(server_->socket()); }
  // Negotiates with GO on "disk" (simple replies) and returns the socket.
  int transmitting() { return clients_.transmitting(server_->socket(), "disk"); }
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
  raw::RawClients clients_;
};

TEST_F(HostileTest, GarbageHandshake) {
  int fd = greeted();
  Bytes junk = random_bytes(300, 1);
  junk[3] &= ~1;  // the first four bytes are the client flags: leave fixed-newstyle unset
  ASSERT_TRUE(raw::send(fd, junk));
  EXPECT_TRUE(wait_closed(fd));
  expect_still_serving();
}

TEST_F(HostileTest, GarbageAfterValidFlags) {
  int fd = negotiating();
  ASSERT_TRUE(raw::send(fd, random_bytes(300, 2)));
  EXPECT_TRUE(wait_closed(fd)) << "bad IHAVEOPT magic must close the connection";
  expect_still_serving();
}

TEST_F(HostileTest, NoFixedNewstyleFlag) {
  int fd = greeted();
  ASSERT_TRUE(raw::send(fd, be32(0)));
  EXPECT_TRUE(wait_closed(fd));
  int fd2 = greeted();
  ASSERT_TRUE(raw::send(fd2, be32(1 | 0x80)));  // an unknown client flag
  EXPECT_TRUE(wait_closed(fd2));
  expect_still_serving();
}

TEST_F(HostileTest, UnknownOptionGetsErrUnsupAndNegotiationContinues) {
  int fd = negotiating();
  ASSERT_TRUE(raw::send(fd, option(0x1234, {1, 2, 3})));
  OptReply r;
  ASSERT_TRUE(read_option_reply(fd, r));
  EXPECT_EQ(r.option, 0x1234u);
  EXPECT_EQ(r.type, 0x80000001u) << "NBD_REP_ERR_UNSUP";
  // STARTTLS: not supported either.
  ASSERT_TRUE(raw::send(fd, option(5, {})));
  ASSERT_TRUE(read_option_reply(fd, r));
  EXPECT_EQ(r.type, 0x80000001u);
  // SET_META_CONTEXT before STRUCTURED_REPLY is invalid.
  Bytes mc;
  raw::put(mc, 0, 4);
  raw::put(mc, 1, 4);
  raw::put(mc, 15, 4);
  for (char c : std::string("base:allocation")) mc.push_back(static_cast<std::uint8_t>(c));
  ASSERT_TRUE(raw::send(fd, option(10, mc)));
  ASSERT_TRUE(read_option_reply(fd, r));
  EXPECT_EQ(r.type, 0x80000003u) << "NBD_REP_ERR_INVALID";
  // Malformed INFO payload: ERR_INVALID, still negotiating.
  ASSERT_TRUE(raw::send(fd, option(6, {0, 0, 0, 9, 'x'})));
  ASSERT_TRUE(read_option_reply(fd, r));
  EXPECT_EQ(r.type, 0x80000003u);
  // LIST still works after all that.
  ASSERT_TRUE(raw::send(fd, option(3, {})));
  ASSERT_TRUE(read_option_reply(fd, r));
  EXPECT_EQ(r.type, 2u) << "NBD_REP_SERVER";
  ASSERT_TRUE(read_option_reply(fd, r));
  EXPECT_EQ(r.type, 1u) << "NBD_REP_ACK";
  ASSERT_TRUE(raw::send(fd, option(2, {})));  // ABORT
  EXPECT_TRUE(wait_closed(fd));
  expect_still_serving();
}

TEST_F(HostileTest, OversizedOptionGetsErrTooBig) {
  int fd = negotiating();
  ASSERT_TRUE(raw::send(fd, option(6, Bytes(200 * 1024, 'A'))));  // GO-sized junk far over 64 KiB
  OptReply r;
  ASSERT_TRUE(read_option_reply(fd, r));
  EXPECT_EQ(r.type, 0x80000009u) << "NBD_REP_ERR_TOO_BIG";
  // The connection is still in negotiation and in sync.
  ASSERT_TRUE(raw::send(fd, option(3, {})));
  ASSERT_TRUE(read_option_reply(fd, r));
  EXPECT_EQ(r.type, 2u);
  // An oversized option whose payload never comes: the client just leaves.
  Bytes hdr;
  raw::put(hdr, raw::kOptMagic, 8);
  raw::put(hdr, 7, 4);
  raw::put(hdr, 0xffffffff, 4);
  int fd2 = negotiating();
  ASSERT_TRUE(raw::send(fd2, hdr));
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
    if (!raw::send(fd, option(0x4000 + static_cast<std::uint32_t>(i), {}))) {
      closed = true;
      break;
    }
    OptReply r;
    if (!read_option_reply(fd, r)) {
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
  ASSERT_TRUE(raw::send(fd, option(1, {'n', 'o', 'p', 'e'})));
  EXPECT_TRUE(wait_closed(fd)) << "EXPORT_NAME of an unknown export must close";
  // A known one works, with the 10-byte (NO_ZEROES) reply.
  int fd2 = negotiating();
  ASSERT_TRUE(raw::send(fd2, option(1, {'d', 'i', 's', 'k'})));
  std::uint8_t rep[10];
  ASSERT_TRUE(recv_exact(fd2, rep, sizeof rep));
  EXPECT_EQ(raw::get(rep, 8), kSize);
  expect_still_serving();
}

TEST_F(HostileTest, BadRequestMagic) {
  int fd = transmitting();
  // A good request first: the connection works.
  ASSERT_TRUE(raw::send(fd, request(0, 7, 0, 512)));
  Bytes data;
  EXPECT_EQ(raw::simple_reply(fd, 7, 512, &data), 0);
  ASSERT_EQ(data.size(), 512u);
  EXPECT_TRUE(std::equal(data.begin(), data.end(), golden_.begin()));
  ASSERT_TRUE(raw::send(fd, request(0, 8, 0, 512, 0, 0x12345678)));
  EXPECT_TRUE(wait_closed(fd));
  expect_still_serving();
}

TEST_F(HostileTest, DisconnectMidRequest) {
  int fd = transmitting();
  const std::uint32_t len = 1 << 20;
  ASSERT_TRUE(raw::send(fd, request(1, 9, 0, len)));
  ASSERT_TRUE(raw::send(fd, Bytes(len / 2, 0xdd)));
  clients_.close(fd);
  // A header cut short as well.
  int fd2 = transmitting();
  Bytes r = request(0, 10, 0, 512);
  ASSERT_TRUE(send_all(fd2, r.data(), 13));
  clients_.close(fd2);
  expect_still_serving();  // also checks the half-written region is untouched
}

TEST_F(HostileTest, HugeRequestsDoNotAllocate) {
  int fd = transmitting();
  // READ of 4 GiB - 1: refused with EINVAL, the connection stays usable.
  ASSERT_TRUE(raw::send(fd, request(0, 11, 0, 0xffffffff)));
  EXPECT_EQ(raw::simple_reply(fd, 11), 22) << "EINVAL";
  // Unknown command: EINVAL.
  ASSERT_TRUE(raw::send(fd, request(99, 12, 0, 0)));
  EXPECT_EQ(raw::simple_reply(fd, 12), 22);
  // WRITE announcing 4 GiB - 1 of payload: more than the server will drain.
  ASSERT_TRUE(raw::send(fd, request(1, 13, 0, 0xffffffff)));
  EXPECT_TRUE(wait_closed(fd));
  expect_still_serving();
}

}  // namespace
}  // namespace fsfault::it
