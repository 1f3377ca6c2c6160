// [[share]] and root = "host" as the scenario parser reads them, and the runner's share list and
// QEMU arguments made from them (runner/vm/virtiofs_share.h, qemu_command.h).
#include "runner/scenario/scenario.h"
#include "runner/scenario/shares.h"
#include "runner/vm/qemu_command.h"
#include "runner/vm/virtiofs_share.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>

using namespace fsfault::vm;

namespace {

const std::string kHead = "name = \"s\"\nstep = []\n";

std::string parse_error(const std::string& text) {
  try {
    parse_scenario_text(text, "/tmp/s.toml");
  } catch (const std::runtime_error& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST(Shares, ShareTablesResolveAgainstTheScenarioDirectory) {
  Scenario s = parse_scenario_text("name = \"s\"\n[[share]]\nhost = \".\"\nguest = \"/opt/x\"\n"
                                   "[[share]]\nhost = \"/usr/share\"\n",
                                   "/etc/s.toml");
  ASSERT_EQ(s.shares.size(), 2u);
  EXPECT_EQ(s.shares[0].host, "/etc");
  EXPECT_EQ(s.shares[0].guest, "/opt/x");
  EXPECT_EQ(s.shares[1].guest, "/usr/share");
  EXPECT_FALSE(s.host_root);
}

TEST(Shares, BadSharesNameTheirLine) {
  EXPECT_EQ(parse_error(kHead + "[[share]]\nhost = \"/no/such/dir\"\n"),
            "/tmp/s.toml:4:8: share host /no/such/dir: no such directory");
  EXPECT_NE(parse_error(kHead + "[[share]]\nhost = \"/etc/hostname\"\n").find("not a directory"), std::string::npos);
  EXPECT_NE(parse_error(kHead + "[[share]]\nhost = \"/usr\"\nguest = \"/mnt/x\"\n").find("s.toml:5:9: [[share]] guest /mnt/x is reserved"),
            std::string::npos);
  EXPECT_NE(parse_error(kHead + "[[share]]\nhost = \"/usr\"\nguest = \"rel\"\n").find("absolute"), std::string::npos);
  EXPECT_NE(parse_error(kHead + "[[share]]\nhost = \"/usr\"\nro = true\n").find("has no key 'ro'"), std::string::npos);
  EXPECT_NE(parse_error(kHead + "[[share]]\nhost = \"/usr\"\n[[share]]\nhost = \"/usr\"\n").find("given twice"),
            std::string::npos);
}

TEST(Shares, RootHostSharesTheHostRoot) {
  Scenario s = parse_scenario_text("name = \"s\"\nstep = [ { do = \"exec\", root = \"host\", argv = [\"/bin/true\"] } ]\n",
                                   "/tmp/s.toml");
  EXPECT_TRUE(s.host_root);
  std::vector<Share> shares = scenario_shares(s, {ShareSpec{"/usr", "/usr"}});
  ASSERT_EQ(shares.size(), 2u);
  EXPECT_EQ(shares[0].tag, "fsfault0");
  EXPECT_EQ(shares[1].host, "/");
  EXPECT_EQ(shares[1].guest, "/host");
  nlohmann::json plan;
  add_shares_to_plan(shares, plan);
  EXPECT_EQ(plan["host_root"], "/host");
  EXPECT_EQ(plan["shares"][1]["tag"], "hostroot");
  EXPECT_NE(parse_error("name = \"s\"\nstep = [ { do = \"exec\", root = \"/\" } ]\n").find("s.toml:2:32: root must be"),
            std::string::npos);
  EXPECT_NE(parse_error("name = \"s\"\nstep = [ { do = \"stat\", root = \"host\" } ]\n").find("exec and spawn"),
            std::string::npos);
}

TEST(Shares, ShareArgument) {
  ShareSpec a = parse_share_argument("/usr/share:/opt/s");
  EXPECT_EQ(a.host, "/usr/share");
  EXPECT_EQ(a.guest, "/opt/s");
  EXPECT_EQ(parse_share_argument("/usr/").guest, "/usr");
  EXPECT_THROW(parse_share_argument("/no/such/dir"), std::runtime_error);
  EXPECT_THROW(parse_share_argument("/usr:/proc/x"), std::runtime_error);
}

TEST(Shares, QemuGetsASharedMemoryBackendAndOneDevicePerShare) {
  RunConfig c;
  c.mem_mb = 384;
  auto plain = qemu_argv(c, {}, "/c.sock", "/con.log");
  EXPECT_EQ(std::find(plain.begin(), plain.end(), "-numa"), plain.end());
  auto a = qemu_argv(c, {}, "/c.sock", "/con.log", {{"fsfault0", "/v0.sock"}, {"hostroot", "/v1.sock"}});
  auto has = [&](const std::string& s) { return std::find(a.begin(), a.end(), s) != a.end(); };
  EXPECT_TRUE(has("memory-backend-memfd,id=mem,size=384M,share=on"));
  EXPECT_TRUE(has("node,memdev=mem"));
  EXPECT_TRUE(has("socket,id=vfs1,path=/v1.sock"));
  EXPECT_TRUE(has("vhost-user-fs-pci,chardev=vfs1,tag=hostroot"));
}

TEST(Shares, VirtiofsdSharesAReadOnlyBind) {
  auto argv = virtiofsd_argv(Share{"/usr", "/usr", "fsfault0"}, "/run/m", "/run/s.sock");
  ASSERT_GE(argv.size(), 4u);
  EXPECT_EQ(argv[0], "unshare");
  EXPECT_EQ(argv[argv.size() - 4], "/usr");
  EXPECT_NE(argv[6].find("remount,bind,ro"), std::string::npos);
  EXPECT_NE(argv[6].find("sandbox=chroot"), std::string::npos);
}
