// The server's security defaults (issue 8), checked on the real binary: a
// private 0700 directory with a 0600 socket when no address is given, TCP on
// loopback when the host is left out, export names only looked up, a control
// socket that answers garbage with an error and lives on, and every limit
// documented in --help with its default.
#include <sys/stat.h>

#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "tests/nbd/raw_client.h"
#include "tests/nbd/support.h"

namespace fsfault::it {
namespace {

using raw::Bytes;

// Every resource limit is a flag whose default --help shows.
TEST(SecurityDefaults, HelpDocumentsEveryLimitWithItsDefault) {
  RunResult r = run({server_binary(), "--help"});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  for (const char* s : {"--max-connections", "=128", "--threads", "=8", "in flight per",
                        "--max-options", "=256", "--handshake-timeout", "=30", "--max-option-length",
                        "=65536", "--max-write-drain", "=134217728", "64 MiB", "4096 bytes", "0600",
                        "loopback"}) {
    EXPECT_NE(r.output.find(s), std::string::npos) << "--help does not mention " << s << ":\n" << r.output;
  }
}

// Without --socket/--tcp the server makes a fresh directory only its owner can
// enter, with a 0600 socket in it, and removes the directory when it stops.
TEST(SecurityDefaults, DefaultSocketIsPrivate) {
  TempDir dir;
  std::string img = dir.file("disk.img");
  write_file(img, random_bytes(1 << 20, 3));
  // The shell starts the server, reads the URI it prints, stats the socket
  // and its directory, stops the server and looks again.
  const char* script = R"sh(
    "$0" --image "$1" >"$2" 2>&1 & pid=$!
    for i in $(seq 200); do grep -q 'socket=' "$2" && break; sleep 0.05; done
    sock=$(sed -n 's/.*socket=//p' "$2" | head -n 1)
    [ -n "$sock" ] || { echo "no URI printed"; cat "$2"; kill $pid; exit 1; }
    stat -c 'socket %a %F' "$sock"
    stat -c 'dir %a %F' "$(dirname "$sock")"
    kill -TERM $pid; wait $pid; echo "exit $?"
    [ -e "$(dirname "$sock")" ] && echo "dir left behind" || echo "dir removed"
  )sh";
  RunResult r = run({"sh", "-c", script, server_binary(), img, dir.file("out.log")});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("socket 600 socket"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("dir 700 directory"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("exit 0"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("dir removed"), std::string::npos) << r.output;
}

class SecurityTest : public ServerTest {
 protected:
  void SetUp() override { img_ = make_image("disk.img", 1 << 20, 7); }
  std::string img_;
  raw::RawClients clients_;
};

// An explicit --socket and the --control socket are 0600 too.
TEST_F(SecurityTest, GivenSocketsAre0600) {
  ServerProcess& s = start_server({"--image", img_, "--export", "disk", "--control", dir_.file("ctl.sock")});
  for (const std::string& path : {s.socket(), dir_.file("ctl.sock")}) {
    struct stat st {};
    ASSERT_EQ(::stat(path.c_str(), &st), 0) << path;
    EXPECT_TRUE(S_ISSOCK(st.st_mode)) << path;
    EXPECT_EQ(st.st_mode & 07777, 0600u) << path;
  }
}

// `--tcp :PORT` (no host) binds loopback only, and says so in its URI.
TEST_F(SecurityTest, TcpWithoutHostBindsLoopback) {
  std::string log = dir_.file("tcp.log");
  // Not ServerProcess (it always adds --socket): a background shell we kill.
  RunResult r = run({"sh", "-c",
                     "\"$0\" --image \"$1\" --export disk --tcp :0 >\"$2\" 2>&1 & pid=$!\n"
                     "for i in $(seq 200); do grep -q 'nbd://' \"$2\" && break; sleep 0.05; done\n"
                     "cat /proc/net/tcp /proc/net/tcp6 >\"$2.net\"\n"
                     "kill -TERM $pid; wait $pid; echo \"exit $?\"",
                     server_binary(), img_, log});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("exit 0"), std::string::npos) << r.output;
  auto out = read_file(log);
  std::string printed(out.begin(), out.end());
  auto at = printed.find("nbd://127.0.0.1:");
  ASSERT_NE(at, std::string::npos) << "no loopback URI printed:\n" << printed;
  int port = std::stoi(printed.substr(at + 16));
  ASSERT_GT(port, 0);
  // The listening socket (state 0A) on that port is 127.0.0.1 (0100007F), not any address.
  std::ifstream net(log + ".net");
  std::string line;
  char want_port[8];
  std::snprintf(want_port, sizeof want_port, ":%04X", port);
  int listening = 0;
  while (std::getline(net, line)) {
    std::istringstream f(line);
    std::string sl, local, remote, state;
    f >> sl >> local >> remote >> state;
    if (state != "0A" || local.size() < 5 || local.substr(local.size() - 5) != want_port) continue;
    ++listening;
    EXPECT_EQ(local, std::string("0100007F") + want_port) << "listening on " << local;
  }
  EXPECT_EQ(listening, 1) << "the server's listening socket not found on port " << port;
}

// Export names are looked up in the export table, never opened as files: the
// image's own path, its file name and path tricks are unknown exports.
TEST_F(SecurityTest, ExportNamesAreLookedUpNeverOpened) {
  ServerProcess& s = start_server({"--image", img_, "--export", "disk"});
  int fd = clients_.negotiating(s.socket());
  for (const std::string& name : {img_, std::string("disk.img"), std::string("../disk.img"),
                                  std::string("/etc/passwd"), std::string("disk/"), std::string("./disk")}) {
    ASSERT_TRUE(raw::send(fd, raw::option(6, raw::go_payload(name))));  // NBD_OPT_INFO
    EXPECT_EQ(raw::option_reply_type(fd), 0x80000006u) << "NBD_REP_ERR_UNKNOWN for " << name;
  }
  ASSERT_TRUE(raw::send(fd, raw::option(6, raw::go_payload("disk"))));
  std::uint32_t t;
  while ((t = raw::option_reply_type(fd)) == 3) {
  }
  EXPECT_EQ(t, 1u) << "the real export name works";
}

// One line to the control socket and its answer (a JSON object), or "" when
// the server closed the connection instead.
std::string control_line(int fd, const std::string& line) {
  if (!send_all(fd, line.data(), line.size())) return "";
  std::string reply;
  char c;
  while (recv_exact(fd, &c, 1, std::chrono::seconds(30))) {
    if (c == '\n') return reply;
    reply.push_back(c);
  }
  return "";
}

// The control socket answers only its JSON commands: garbage, bytes that are
// not UTF-8, unknown commands and a line far over its 1 MiB limit get an
// error reply (or the connection closed), and the server and the socket live on.
TEST_F(SecurityTest, ControlSocketRefusesGarbageAndSurvives) {
  std::string ctl = dir_.file("ctl.sock");
  ServerProcess& s = start_server({"--image", img_, "--export", "disk", "--control", ctl});
  int fd = clients_.connect(ctl);
  std::string huge(3 << 20, '{');  // far over the 1 MiB line limit
  huge.push_back('\n');
  std::string deep(1 << 20, '[');  // nesting a recursive parser would not survive
  deep.push_back('\n');
  for (const std::string& bad : {std::string("hello\n"), std::string("\xff\xfe\n"), std::string("\"\xc3\x28\"\n"),
                                 std::string("{\"cmd\":\"reboot\"}\n"), std::string("{\"cmd\":\"\xff\"}\n"),
                                 std::string("[1,2,3]\n"), std::string("\0\0\0\n", 4), std::string("\n"),
                                 huge, deep}) {
    std::string reply = control_line(fd, bad);
    ASSERT_TRUE(s.alive()) << "the server died on a control line of " << bad.size() << " bytes starting "
                           << ::testing::PrintToString(bad.substr(0, 20)) << ":\n" << s.log();
    if (reply.empty()) {  // closed: a fresh connection must work
      clients_.close(fd);
      fd = clients_.connect(ctl);
      continue;
    }
    auto j = nlohmann::json::parse(reply, nullptr, false);
    ASSERT_TRUE(j.is_object()) << "not a JSON object: " << reply.substr(0, 200);
    EXPECT_EQ(j.value("ok", true), false) << reply.substr(0, 200);
    EXPECT_TRUE(j.contains("error")) << reply.substr(0, 200);
  }
  // Still a working control socket, and a working disk.
  auto stats = nlohmann::json::parse(control_line(fd, "{\"cmd\":\"stats\"}\n"), nullptr, false);
  EXPECT_EQ(stats.value("ok", false), true) << stats.dump();
  // A client that sends an endless line and leaves does not hurt either.
  int flood = clients_.connect(ctl);
  std::string chunk(1 << 20, 'x');
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(send_all(flood, chunk.data(), chunk.size()));
  clients_.close(flood);
  int data = clients_.transmitting(s.socket(), "disk");
  ASSERT_TRUE(raw::send(data, raw::request(0, 1, 0, 4096)));
  EXPECT_EQ(raw::simple_reply(data, 1, 4096), 0);
  ASSERT_TRUE(s.alive()) << s.log();
}

}  // namespace
}  // namespace fsfault::it
