// Dispatcher rules on a real OverlayStore / RawStore: bounds (ENOSPC for
// writes, EINVAL for reads), flags (EINVAL unless valid for the command and
// session), read-only (EPERM), oversized requests (EINVAL / EOVERFLOW), and the
// execution of each command including BLOCK_STATUS extent shaping.
#include "nbd-server/dispatch.h"

#include <fcntl.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cerrno>

#include "nbd-server/export.h"
#include "nbd-server/protocol.h"
#include "nbd-server/storage/overlay_store.h"
#include "nbd-server/storage/raw_store.h"
#include "nbd-server/tests/test_util.h"

namespace fsfault::nbd {
namespace {

using testing::random_bytes;
using testing::TempDir;
using testing::write_file;

constexpr std::uint64_t kSize = 1 << 20;

class DispatchTest : public ::testing::Test {
 protected:
  void SetUp() override {
    golden_ = random_bytes(kSize, 11);
    write_file(dir_.file("g.img"), golden_);
    rw_.name = "rw";
    rw_.device = std::make_shared<OverlayStore>(dir_.file("g.img"), dir_.path());
    ro_.name = "ro";
    ro_.read_only = true;
    ro_.device = std::make_shared<RawStore>(dir_.file("g.img"), RawStore::Mode::ReadOnly);
  }
  Dispatcher make(const Export& e, bool structured, bool base_allocation = false) {
    Session s;
    s.exp = &e;
    s.structured = structured;
    s.base_allocation = base_allocation;
    s.base_allocation_id = base_allocation ? 1 : 0;
    return Dispatcher(s);
  }
  static RequestHeader req(std::uint16_t type, std::uint64_t off, std::uint32_t len,
                           std::uint16_t flags = 0) {
    RequestHeader h;
    h.type = type;
    h.offset = off;
    h.length = len;
    h.flags = flags;
    h.cookie = 1;
    return h;
  }

  TempDir dir_;
  std::vector<std::uint8_t> golden_;
  Export rw_, ro_;
};

TEST_F(DispatchTest, InBoundsRequestsAreValid) {
  auto d = make(rw_, true, true);
  for (auto t : {kCmdRead, kCmdWrite, kCmdTrim, kCmdWriteZeroes, kCmdCache, kCmdBlockStatus}) {
    EXPECT_EQ(d.validate(req(t, 0, 512)), 0u) << command_name(t);
    EXPECT_EQ(d.validate(req(t, kSize - 1, 1)), 0u) << command_name(t) << " last byte";
    EXPECT_EQ(d.validate(req(t, 0, kSize)), 0u) << command_name(t) << " whole disk";
  }
  EXPECT_EQ(d.validate(req(kCmdFlush, 0, 0)), 0u);
  EXPECT_EQ(d.validate(req(kCmdRead, kSize, 0)), 0u) << "zero-length read at the end";
}

TEST_F(DispatchTest, PastEndIsEinvalForReadsEnospcForWrites) {
  auto d = make(rw_, true, true);
  for (auto [off, len] : {std::pair<std::uint64_t, std::uint32_t>{kSize, 1},
                          {kSize - 1, 2},
                          {kSize + 4096, 512},
                          {0, kSize + 1},
                          {~0ULL - 10, 512},    // offset + length wraps around
                          {~0ULL, 0xffffffff}}) {
    SCOPED_TRACE(::testing::Message() << "offset " << off << " length " << len);
    EXPECT_EQ(d.validate(req(kCmdRead, off, len)), kErrInval);
    EXPECT_EQ(d.validate(req(kCmdCache, off, len)), kErrInval);
    EXPECT_EQ(d.validate(req(kCmdBlockStatus, off, len)), kErrInval);
    EXPECT_EQ(d.validate(req(kCmdWrite, off, len)), len > kMaxBlockSize ? kErrInval : kErrNoSpc);
    EXPECT_EQ(d.validate(req(kCmdTrim, off, len)), kErrNoSpc);
    EXPECT_EQ(d.validate(req(kCmdWriteZeroes, off, len)), kErrNoSpc);
  }
}

TEST_F(DispatchTest, BadFlagsAreEinval) {
  auto simple = make(rw_, false);
  auto structured = make(rw_, true, true);
  // DF is only meaningful (and only advertised) with structured replies.
  EXPECT_EQ(simple.validate(req(kCmdRead, 0, 512, kCmdFlagDf)), kErrInval);
  EXPECT_EQ(structured.validate(req(kCmdRead, 0, 512, kCmdFlagDf)), 0u);
  EXPECT_EQ(structured.validate(req(kCmdWrite, 0, 512, kCmdFlagNoHole)), kErrInval);
  EXPECT_EQ(structured.validate(req(kCmdWrite, 0, 512, kCmdFlagFastZero)), kErrInval);
  EXPECT_EQ(structured.validate(req(kCmdTrim, 0, 512, kCmdFlagNoHole)), kErrInval);
  EXPECT_EQ(structured.validate(req(kCmdRead, 0, 512, kCmdFlagReqOne)), kErrInval);
  EXPECT_EQ(structured.validate(req(kCmdBlockStatus, 0, 512, kCmdFlagReqOne)), 0u);
  EXPECT_EQ(structured.validate(req(kCmdWriteZeroes, 0, 512,
                                    kCmdFlagFua | kCmdFlagNoHole | kCmdFlagFastZero)),
            0u);
  EXPECT_EQ(structured.validate(req(kCmdWriteZeroes, 0, 512, kCmdFlagDf)), kErrInval);
  EXPECT_EQ(structured.validate(req(kCmdFlush, 0, 0, kCmdFlagNoHole)), kErrInval);
  EXPECT_EQ(structured.validate(req(kCmdRead, 0, 512, 1 << 9)), kErrInval) << "unknown flag bit";
  EXPECT_EQ(structured.validate(req(kCmdWrite, 0, 512, 0x8000)), kErrInval) << "unknown flag bit";
}

// The NBD spec: once SEND_FUA is negotiated, "the server MUST accept all
// commands with this bit set (even by ignoring the bit)"; QEMU once sent FLUSH
// with FUA.
TEST_F(DispatchTest, FuaIsAcceptedOnEveryCommandOfAWritableExport) {
  auto d = make(rw_, true, true);
  ASSERT_TRUE(transmission_flags(rw_, true) & kTxSendFua);
  for (auto t : {kCmdRead, kCmdWrite, kCmdFlush, kCmdTrim, kCmdWriteZeroes, kCmdCache,
                 kCmdBlockStatus}) {
    EXPECT_EQ(d.validate(req(t, 0, t == kCmdFlush ? 0 : 512, kCmdFlagFua)), 0u) << command_name(t);
  }
}

TEST_F(DispatchTest, UnknownCommandIsEinval) {
  auto d = make(rw_, true, true);
  EXPECT_EQ(d.validate(req(8, 0, 512)), kErrInval);
  EXPECT_EQ(d.validate(req(0xffff, 0, 512)), kErrInval);
}

TEST_F(DispatchTest, BlockStatusNeedsNegotiatedContextAndLength) {
  auto without = make(rw_, true, false);
  EXPECT_EQ(without.validate(req(kCmdBlockStatus, 0, 512)), kErrInval);
  auto with = make(rw_, true, true);
  EXPECT_EQ(with.validate(req(kCmdBlockStatus, 0, 0)), kErrInval);
}

TEST_F(DispatchTest, ReadOnlyExportRefusesWritesWithEperm) {
  auto d = make(ro_, true, true);
  EXPECT_EQ(d.validate(req(kCmdWrite, 0, 512)), kErrPerm);
  EXPECT_EQ(d.validate(req(kCmdWrite, 0, 512, kCmdFlagFua)), kErrPerm);
  EXPECT_EQ(d.validate(req(kCmdTrim, 0, 512)), kErrPerm);
  EXPECT_EQ(d.validate(req(kCmdWriteZeroes, 0, 512)), kErrPerm);
  EXPECT_EQ(d.validate(req(kCmdWrite, kSize, 512)), kErrPerm) << "EPERM wins over ENOSPC";
  EXPECT_EQ(d.validate(req(kCmdRead, 0, 512)), 0u);
  EXPECT_EQ(d.validate(req(kCmdFlush, 0, 0)), 0u);
  EXPECT_EQ(d.validate(req(kCmdCache, 0, 512)), 0u);
  std::uint16_t f = transmission_flags(ro_, true);
  EXPECT_TRUE(f & kTxReadOnly);
  EXPECT_FALSE(f & (kTxSendTrim | kTxSendWriteZeroes | kTxSendFua | kTxSendFastZero));
}

TEST_F(DispatchTest, OversizedRequests) {
  auto structured = make(rw_, true, true);
  auto simple = make(rw_, false);
  const std::uint32_t big = kMaxBlockSize + 1;
  EXPECT_EQ(structured.validate(req(kCmdRead, 0, big)), kErrInval);
  EXPECT_EQ(structured.validate(req(kCmdRead, 0, big, kCmdFlagDf)), kErrOverflow);
  EXPECT_EQ(simple.validate(req(kCmdRead, 0, big)), kErrInval);
  EXPECT_EQ(structured.validate(req(kCmdWrite, 0, big)), kErrInval);
  EXPECT_EQ(structured.validate(req(kCmdWrite, 0, 0xffffffff)), kErrInval);
  EXPECT_EQ(structured.validate(req(kCmdRead, 0, kMaxBlockSize)), kErrInval)
      << "in-limit length, but past the 1 MiB export";
}

// Each refusal says why, for the server's log line and the structured error
// message; an accepted request has no reason.
TEST_F(DispatchTest, RefusalsSayWhy) {
  auto rw = make(rw_, true);
  auto ro = make(ro_, true);
  auto reason = [](const Dispatcher& d, const RequestHeader& h) { return d.check(h).reason; };
  EXPECT_EQ(reason(rw, req(kCmdRead, 0, 512)), "");
  EXPECT_EQ(reason(rw, req(kCmdRead, 0, kMaxBlockSize + 1)), "longer than the 67108864-byte maximum");
  EXPECT_EQ(reason(rw, req(kCmdWrite, kSize, 1)), "past the end of the 1048576-byte export");
  EXPECT_EQ(reason(ro, req(kCmdWrite, 0, 1)), "read-only export");
  EXPECT_EQ(reason(rw, req(kCmdRead, 0, 1, kCmdFlagNoHole)), "flags 0x2 not accepted");
  EXPECT_EQ(reason(rw, req(kCmdBlockStatus, 0, 1)), "base:allocation not negotiated");
  EXPECT_EQ(reason(rw, req(12, 0, 1)), "unknown command 12");
  EXPECT_EQ(rw.check(req(kCmdWrite, kSize, 1)).error, kErrNoSpc);
  EXPECT_STREQ(error_name(kErrNoSpc), "ENOSPC");
  EXPECT_STREQ(error_name(kErrPerm), "EPERM");
  EXPECT_STREQ(error_name(7), "E?");
}

TEST_F(DispatchTest, TransmissionFlagsAdvertiseExactlyWhatIsImplemented) {
  std::uint16_t s = transmission_flags(rw_, true);
  std::uint16_t n = transmission_flags(rw_, false);
  for (auto f : {kTxHasFlags, kTxSendFlush, kTxSendFua, kTxSendTrim, kTxSendWriteZeroes,
                 kTxSendCache, kTxSendFastZero, kTxCanMultiConn}) {
    EXPECT_TRUE(s & f) << f;
    EXPECT_TRUE(n & f) << f;
  }
  EXPECT_TRUE(s & kTxSendDf);
  EXPECT_FALSE(n & kTxSendDf);
  EXPECT_FALSE(s & (kTxReadOnly | kTxRotational | kTxSendResize));
}

TEST_F(DispatchTest, ExecuteEveryCommand) {
  auto d = make(rw_, true, true);
  auto data = random_bytes(5000, 12);
  auto w = req(kCmdWrite, 4096 * 3 + 7, static_cast<std::uint32_t>(data.size()), kCmdFlagFua);
  ASSERT_EQ(d.validate(w), 0u);
  EXPECT_EQ(d.execute(w, data).error, 0u);

  std::vector<std::uint8_t> buf(data.size());
  auto r = req(kCmdRead, w.offset, w.length);
  EXPECT_EQ(d.execute(r, buf).error, 0u);
  EXPECT_EQ(buf, data);
  std::vector<std::uint8_t> g(4096);
  EXPECT_EQ(d.execute(req(kCmdRead, 0, 4096), g).error, 0u);
  EXPECT_TRUE(std::equal(g.begin(), g.end(), golden_.begin()));

  EXPECT_EQ(d.execute(req(kCmdFlush, 0, 0), {}).error, 0u);
  EXPECT_EQ(d.execute(req(kCmdCache, 0, kSize), {}).error, 0u);
  EXPECT_EQ(d.execute(req(kCmdTrim, 8 * 4096, 4 * 4096), {}).error, 0u);
  EXPECT_EQ(d.execute(req(kCmdWriteZeroes, 16 * 4096, 4 * 4096, kCmdFlagNoHole | kCmdFlagFastZero), {})
                .error,
            0u);

  Outcome bs = d.execute(req(kCmdBlockStatus, 0, 24 * 4096), {});
  ASSERT_EQ(bs.error, 0u);
  std::vector<Extent> want = {{8 * 4096, 0},
                              {4 * 4096, kStateHole | kStateZero},
                              {4 * 4096, 0},
                              {4 * 4096, kStateZero},
                              {4 * 4096, 0}};
  EXPECT_EQ(bs.extents, want);

  Outcome one = d.execute(req(kCmdBlockStatus, 9 * 4096, 10 * 4096, kCmdFlagReqOne), {});
  ASSERT_EQ(one.error, 0u);
  ASSERT_EQ(one.extents.size(), 1u);
  EXPECT_EQ(one.extents[0], (Extent{3 * 4096, kStateHole | kStateZero}));

  // Zero-length writes and trims are no-ops that succeed.
  EXPECT_EQ(d.execute(req(kCmdWrite, 0, 0), {}).error, 0u);
  EXPECT_EQ(d.execute(req(kCmdTrim, 0, 0), {}).error, 0u);
}

// Extents longer than a descriptor can hold are split, 512-aligned.
TEST(DispatchLarge, LongExtentsAreSplit) {
  TempDir dir;
  std::string path = dir.file("huge.img");
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_TRUNC, 0600);
  ASSERT_GE(fd, 0);
  const std::uint64_t size = 6ULL << 30;  // sparse: no space used
  ASSERT_EQ(::ftruncate(fd, static_cast<off_t>(size)), 0);
  ::close(fd);
  Export e;
  e.name = "huge";
  e.device = std::make_shared<OverlayStore>(path, dir.path());
  Session s;
  s.exp = &e;
  s.structured = true;
  s.base_allocation = true;
  s.base_allocation_id = 1;
  Dispatcher d(s);
  ASSERT_EQ(e.device->write_zeroes(0, size, true, false).error, 0);  // all Hole
  RequestHeader h;
  h.type = kCmdBlockStatus;
  h.offset = 0;
  h.length = 0xffffffff;
  ASSERT_EQ(d.validate(h), 0u);
  Outcome out = d.execute(h, {});
  ASSERT_EQ(out.error, 0u);
  ASSERT_EQ(out.extents.size(), 2u);
  EXPECT_EQ(out.extents[0].length, 0xfffffe00u);
  EXPECT_EQ(out.extents[0].length % 512, 0u);
  EXPECT_EQ(std::uint64_t{out.extents[0].length} + out.extents[1].length, 0xffffffffULL);
  for (const auto& x : out.extents) EXPECT_EQ(x.flags, kStateHole | kStateZero);
}

TEST(DispatchErrno, Mapping) {
  EXPECT_EQ(nbd_error_from_errno(0), 0u);
  EXPECT_EQ(nbd_error_from_errno(EPERM), kErrPerm);
  EXPECT_EQ(nbd_error_from_errno(EROFS), kErrPerm);
  EXPECT_EQ(nbd_error_from_errno(EIO), kErrIo);
  EXPECT_EQ(nbd_error_from_errno(ENOSPC), kErrNoSpc);
  EXPECT_EQ(nbd_error_from_errno(EDQUOT), kErrNoSpc);
  EXPECT_EQ(nbd_error_from_errno(EOVERFLOW), kErrOverflow);
  EXPECT_EQ(nbd_error_from_errno(ESHUTDOWN), kErrShutdown);
  EXPECT_EQ(nbd_error_from_errno(ENOTSUP), kErrNotSup);
  EXPECT_EQ(nbd_error_from_errno(EBADMSG), kErrIo) << "unknown errnos become EIO";
}

}  // namespace
}  // namespace fsfault::nbd
