// A raw NBD client for hostile-client tests (tests/nbd/hostile_test.cpp,
// tests/load/hostile_limits_test.cpp): handshakes, options and requests built
// byte by byte here, not with the server's codec, so a codec bug cannot hide
// itself. Failures to read what the protocol requires are gtest failures.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace fsfault::it::raw {

using Bytes = std::vector<std::uint8_t>;

constexpr std::uint64_t kOptMagic = 0x49484156454F5054ULL;  // "IHAVEOPT"
constexpr std::uint64_t kRepMagic = 0x0003e889045565a9ULL;  // option reply
constexpr std::uint32_t kReqMagic = 0x25609513;
constexpr std::uint32_t kSimpleMagic = 0x67446698;
constexpr std::uint32_t kFlagsFixedNoZeroes = 3;  // client flags most tests send

// Appends v as `bytes` big-endian bytes / reads `bytes` big-endian bytes.
void put(Bytes& b, std::uint64_t v, int bytes);
std::uint64_t get(const std::uint8_t* p, int bytes);

// One option: IHAVEOPT, the option number, the payload's length, the payload.
Bytes option(std::uint32_t opt, const Bytes& payload);
// The payload of NBD_OPT_GO / NBD_OPT_INFO: the name and no info requests.
Bytes go_payload(const std::string& export_name);
// One transmission request header.
Bytes request(std::uint16_t type, std::uint64_t cookie, std::uint64_t off, std::uint32_t len,
              std::uint16_t flags = 0, std::uint32_t magic = kReqMagic);

bool send(int fd, const Bytes& b);

struct OptReply {
  std::uint32_t option = 0, type = 0;
  Bytes payload;
};
// Reads one option reply with its payload; false on EOF or timeout.
bool read_option_reply(int fd, OptReply& r);
// The reply's type, 0 on EOF.
std::uint32_t option_reply_type(int fd);

// Closes every socket it handed out when it goes (the fixture's member).
class RawClients {
 public:
  RawClients() = default;
  ~RawClients() { close_all(); }
  RawClients(const RawClients&) = delete;
  RawClients& operator=(const RawClients&) = delete;

  // A connected socket (gtest failure and -1 when it cannot connect).
  int connect(const std::string& socket);
  // Connected, the greeting read and checked (fixed newstyle advertised).
  int greeted(const std::string& socket);
  // Greeted, then `flags` sent.
  int negotiating(const std::string& socket, std::uint32_t flags = kFlagsFixedNoZeroes);
  // Negotiating, then NBD_OPT_GO on `export_name` acknowledged (simple replies).
  int transmitting(const std::string& socket, const std::string& export_name);
  void close(int fd);
  void close_all();

 private:
  std::vector<int> fds_;
};

// The simple reply to request `cookie` (magic and cookie checked): its error
// (0 = ok), after reading the `read_len` bytes of a successful READ into
// *data (or discarding them); -1 on EOF or a 30 s timeout.
std::int64_t simple_reply(int fd, std::uint64_t cookie, std::size_t read_len = 0,
                          Bytes* data = nullptr);

}  // namespace fsfault::it::raw
