#include "tests/nbd/raw_client.h"

#include <unistd.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>

#include "tests/nbd/support.h"

namespace fsfault::it::raw {

void put(Bytes& b, std::uint64_t v, int bytes) {
  for (int i = bytes - 1; i >= 0; --i) b.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
}

std::uint64_t get(const std::uint8_t* p, int bytes) {
  std::uint64_t v = 0;
  for (int i = 0; i < bytes; ++i) v = (v << 8) | p[i];
  return v;
}

Bytes option(std::uint32_t opt, const Bytes& payload) {
  Bytes b;
  put(b, kOptMagic, 8);
  put(b, opt, 4);
  put(b, payload.size(), 4);
  b.insert(b.end(), payload.begin(), payload.end());
  return b;
}

Bytes go_payload(const std::string& export_name) {
  Bytes p;
  put(p, export_name.size(), 4);
  p.insert(p.end(), export_name.begin(), export_name.end());
  put(p, 0, 2);
  return p;
}

Bytes request(std::uint16_t type, std::uint64_t cookie, std::uint64_t off, std::uint32_t len,
              std::uint16_t flags, std::uint32_t magic) {
  Bytes b;
  put(b, magic, 4);
  put(b, flags, 2);
  put(b, type, 2);
  put(b, cookie, 8);
  put(b, off, 8);
  put(b, len, 4);
  return b;
}

bool send(int fd, const Bytes& b) { return send_all(fd, b.data(), b.size()); }

bool read_option_reply(int fd, OptReply& r) {
  std::uint8_t h[20];
  if (!recv_exact(fd, h, sizeof h)) return false;
  EXPECT_EQ(get(h, 8), kRepMagic);
  r.option = static_cast<std::uint32_t>(get(h + 8, 4));
  r.type = static_cast<std::uint32_t>(get(h + 12, 4));
  r.payload.resize(get(h + 16, 4));
  return r.payload.empty() || recv_exact(fd, r.payload.data(), r.payload.size());
}

std::uint32_t option_reply_type(int fd) {
  OptReply r;
  return read_option_reply(fd, r) ? r.type : 0;
}

int RawClients::connect(const std::string& socket) {
  int fd = connect_unix(socket);
  EXPECT_GE(fd, 0) << "cannot connect to " << socket;
  if (fd >= 0) fds_.push_back(fd);
  return fd;
}

int RawClients::greeted(const std::string& socket) {
  int fd = connect(socket);
  std::uint8_t g[18];
  EXPECT_TRUE(recv_exact(fd, g, sizeof g)) << "no greeting";
  EXPECT_EQ(std::memcmp(g, "NBDMAGICIHAVEOPT", 16), 0);
  EXPECT_EQ(g[17] & 1, 1) << "fixed newstyle must be advertised";
  return fd;
}

int RawClients::negotiating(const std::string& socket, std::uint32_t flags) {
  int fd = greeted(socket);
  Bytes f;
  put(f, flags, 4);
  EXPECT_TRUE(send(fd, f));
  return fd;
}

int RawClients::transmitting(const std::string& socket, const std::string& export_name) {
  int fd = negotiating(socket);
  EXPECT_TRUE(send(fd, option(7, go_payload(export_name))));
  std::uint32_t t;
  while ((t = option_reply_type(fd)) == 3) {  // NBD_REP_INFO
  }
  EXPECT_EQ(t, 1u) << "GO not acknowledged";
  return fd;
}

void RawClients::close(int fd) {
  ::close(fd);
  fds_.erase(std::find(fds_.begin(), fds_.end(), fd));
}

void RawClients::close_all() {
  for (int fd : fds_) ::close(fd);
  fds_.clear();
}

std::int64_t simple_reply(int fd, std::uint64_t cookie, std::size_t read_len, Bytes* data) {
  std::uint8_t r[16];
  if (!recv_exact(fd, r, sizeof r, std::chrono::seconds(30))) return -1;
  EXPECT_EQ(get(r, 4), kSimpleMagic);
  EXPECT_EQ(get(r + 8, 8), cookie);
  auto err = static_cast<std::int64_t>(get(r + 4, 4));
  if (err == 0 && read_len > 0) {
    Bytes discard;
    Bytes& into = data != nullptr ? *data : discard;
    into.resize(read_len);
    if (!recv_exact(fd, into.data(), into.size(), std::chrono::seconds(30))) return -1;
  }
  return err;
}

}  // namespace fsfault::it::raw
