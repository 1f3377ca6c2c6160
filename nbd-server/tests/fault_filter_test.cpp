// What a FaultFilter lets reach the media. A real FaultEngine, loaded from
// schedule text like the server's, decides; the filter sits over a real store:
// a write-through RawStore on a temporary file (so the media is that file,
// read back with plain file I/O), or an OverlayStore over a golden file (so the
// golden file must never change). Each action: fail (nothing written, the
// errno comes back), zero and fill (reads only: only the rule's bytes change,
// the rest of the request is served as stored, media untouched; writes pass
// whole), flip transient (the reader sees the bits, the media does not)
// and persistent (the media keeps exactly those bits), torn write/zero (exactly
// the prefix the filter promises reaches the media, the rest is unchanged).
#include "nbd-server/fault_filter.h"

#include <gtest/gtest.h>

#include <cerrno>
#include <memory>
#include <string>
#include <vector>

#include "faults/fault_engine.h"
#include "faults/schedule.h"
#include "faults/target_map.h"
#include "nbd-server/storage/overlay_store.h"
#include "nbd-server/storage/raw_store.h"
#include "nbd-server/tests/test_util.h"

namespace fsfault::nbd {
namespace {

using testing::random_bytes;
using testing::read_file;
using testing::TempDir;
using testing::write_file;

constexpr std::uint64_t kSize = 64 * 1024;
constexpr std::uint64_t kSector = 512;
using Bytes = std::vector<std::uint8_t>;

// Bits that differ between a and b (same size).
std::uint64_t bit_diff(const Bytes& a, const Bytes& b) {
  std::uint64_t n = 0;
  for (std::size_t i = 0; i < a.size(); ++i) n += __builtin_popcount(a[i] ^ b[i]);
  return n;
}

class FaultFilterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    original_ = random_bytes(kSize, 7);
    write_file(path_, original_);
    engine_ = std::make_shared<faults::FaultEngine>();
    filter_ = std::make_unique<FaultFilter>(
        std::make_shared<RawStore>(path_, RawStore::Mode::WriteThrough), engine_);
  }
  void load(const std::string& toml) {
    engine_->load(faults::Schedule::parse(toml, "t.toml", nullptr, kSize));
  }
  Bytes media() const { return read_file(path_); }
  Bytes read(std::uint64_t offset, std::uint64_t length, int expect_error = 0) {
    Bytes buf(length, 0xEE);
    IoResult r = filter_->read(buf, offset);
    EXPECT_EQ(r.error, expect_error) << "read " << offset << "+" << length;
    EXPECT_FALSE(r.disconnect);
    return buf;
  }
  Bytes slice(const Bytes& b, std::uint64_t offset, std::uint64_t length) const {
    return Bytes(b.begin() + offset, b.begin() + offset + length);
  }

  TempDir dir_;
  std::string path_ = dir_.file("media.img");
  Bytes original_;
  std::shared_ptr<faults::FaultEngine> engine_;
  std::unique_ptr<FaultFilter> filter_;
};

TEST_F(FaultFilterTest, FailedWriteAndZeroReturnTheErrnoAndWriteNothing) {
  load(R"([[rule]]
match = { op = "write", sectors = "8-15" }
action = { fail = "ENOSPC" }
[[rule]]
match = { op = "zero", sectors = "8-15" }
action = { fail = "EIO" }
)");
  const Bytes data = random_bytes(4096, 8);
  EXPECT_EQ(filter_->write(data, 8 * kSector, false).error, ENOSPC);
  EXPECT_EQ(filter_->write_zeroes(8 * kSector, 4096, true, false).error, EIO);
  EXPECT_EQ(media(), original_);
  // Outside the rule the same write lands.
  ASSERT_EQ(filter_->write(data, 16 * kSector, false).error, 0);
  EXPECT_EQ(slice(media(), 16 * kSector, 4096), data);
}

TEST_F(FaultFilterTest, FailedReadReturnsTheErrno) {
  load("[[rule]]\nmatch = { op = \"read\", sectors = \"8-15\" }\naction = { fail = \"EIO\" }\n");
  read(8 * kSector, 4096, EIO);
  EXPECT_EQ(read(16 * kSector, 4096), slice(original_, 16 * kSector, 4096));
  EXPECT_EQ(media(), original_);
}

TEST_F(FaultFilterTest, ZeroReadsZerosAndLeavesTheMedia) {
  load("[[rule]]\nmatch = { sectors = \"8-15\" }\naction = { zero = true }\n");
  EXPECT_EQ(read(8 * kSector, 4096), Bytes(4096, 0));
  EXPECT_EQ(media(), original_);
  // A zero rule is about reads (op "any" means reads): a write in its range
  // reaches the media whole, and reads there still come back as zeros.
  const Bytes data = random_bytes(4096, 9);
  ASSERT_EQ(filter_->write(data, 8 * kSector, false).error, 0);
  EXPECT_EQ(slice(media(), 8 * kSector, 4096), data);
  EXPECT_EQ(read(8 * kSector, 4096), Bytes(4096, 0));
}

// The reported flood: the kernel merged two bitmap reads into one request; a
// zero of one must leave the other as stored.
TEST_F(FaultFilterTest, ZeroOfOneRangeLeavesTheRestOfTheRequestAsStored) {
  load("[[rule]]\nmatch = { sectors = \"8-15\" }\naction = { zero = true }\n");
  Bytes want = slice(original_, 0, 24 * kSector);
  std::fill(want.begin() + 8 * kSector, want.begin() + 16 * kSector, 0);
  EXPECT_EQ(read(0, 24 * kSector), want);
  EXPECT_EQ(read(8 * kSector, 16 * kSector), slice(want, 8 * kSector, 16 * kSector));
  EXPECT_EQ(media(), original_);
}

// "The first 1 KiB of each bitmap block" as one rule, over one request that
// reads three adjacent blocks.
TEST_F(FaultFilterTest, ByteWindowOfEachTargetInAnIndexRange) {
  const auto map = faults::TargetMap::parse(
      R"({"targets":{"block-bitmap:1":{"ranges":[[16,23]]},"block-bitmap:2":{"ranges":[[24,31]]},
                     "block-bitmap:3":{"ranges":[[32,39]]}}})",
      "m.json");
  engine_->load(faults::Schedule::parse(R"([[rule]]
match = { target = "block-bitmap:1-3" }
action = { zero = { offset = 0, bytes = 1024 } }
)",
                                        "t.toml", &map, kSize));
  Bytes want = slice(original_, 8 * kSector, 40 * kSector);
  for (std::uint64_t block : {16, 24, 32}) {
    std::fill_n(want.begin() + static_cast<std::ptrdiff_t>((block - 8) * kSector), 1024, 0);
  }
  EXPECT_EQ(read(8 * kSector, 40 * kSector), want);
  EXPECT_EQ(media(), original_);
}

// fill is transient; a persistent flip of a byte range lands on the media
// alone, without the fill of the same request.
TEST_F(FaultFilterTest, FillIsTransientByteFlipPersists) {
  load(R"([[rule]]
match = { sectors = "8-15" }
action = { fill = { offset = 100, bytes = 50, byte = 0xa5 } }
[[rule]]
match = { sectors = "16-23" }
action = { flip = { offset = 0, bytes = 3, persist = true } }
)");
  Bytes want = slice(original_, 0, 32 * kSector);
  std::fill_n(want.begin() + 8 * kSector + 100, 50, 0xa5);
  for (int i = 0; i < 3; ++i) want[16 * kSector + i] = static_cast<std::uint8_t>(~want[16 * kSector + i]);
  EXPECT_EQ(read(0, 32 * kSector), want);
  Bytes on_media = original_;
  for (int i = 0; i < 3; ++i) on_media[16 * kSector + i] = want[16 * kSector + i];
  EXPECT_EQ(media(), on_media);
}

TEST_F(FaultFilterTest, TransientFlipReachesTheReaderNotTheMedia) {
  // Bit 13 of sector 10: byte 10*512+1, mask 1 << 5.
  load("[[rule]]\nmatch = { op = \"read\", sectors = \"10\" }\naction = { flip = { offset = 13 } }\n");
  Bytes want = slice(original_, 8 * kSector, 4096);
  want[2 * kSector + 1] ^= 1u << 5;
  EXPECT_EQ(read(8 * kSector, 4096), want);
  EXPECT_EQ(media(), original_);
  engine_->clear();
  EXPECT_EQ(read(8 * kSector, 4096), slice(original_, 8 * kSector, 4096));
}

TEST_F(FaultFilterTest, PersistentFlipStaysOnTheMedia) {
  load(R"(seed = 3
[[rule]]
match = { op = "read", sectors = "8-15" }
action = { flip = { bits = 5, persist = true } }
count = 1
)");
  const Bytes seen = read(0, 16 * kSector);
  EXPECT_EQ(bit_diff(seen, slice(original_, 0, 16 * kSector)), 5u);
  // Only the rule's sectors are corrupted, on the media exactly as the reader saw.
  EXPECT_EQ(slice(seen, 0, 8 * kSector), slice(original_, 0, 8 * kSector));
  Bytes want = original_;
  std::copy(seen.begin(), seen.end(), want.begin());
  EXPECT_EQ(media(), want);
  engine_->clear();
  EXPECT_EQ(read(0, 16 * kSector), seen);
}

TEST(FaultFilterOverlayTest, PersistentFlipLandsInTheOverlayNotTheGolden) {
  TempDir dir;
  const Bytes golden = random_bytes(kSize, 5);
  write_file(dir.file("g.img"), golden);
  auto engine = std::make_shared<faults::FaultEngine>();
  auto store = std::make_shared<OverlayStore>(dir.file("g.img"), dir.path());
  FaultFilter filter(store, engine);
  engine->load(faults::Schedule::parse(
      "[[rule]]\nmatch = { op = \"read\", sectors = \"4\" }\naction = { flip = { offset = 0, persist = true } }\n",
      "t.toml", nullptr, kSize));
  Bytes buf(kSector);
  ASSERT_EQ(filter.read(buf, 4 * kSector).error, 0);
  EXPECT_EQ(buf[0], golden[4 * kSector] ^ 1);
  Bytes below(kSector);
  ASSERT_EQ(store->read(below, 4 * kSector).error, 0);
  EXPECT_EQ(below, buf);
  EXPECT_EQ(read_file(dir.file("g.img")), golden);
}

// A torn request of `length` bytes at sector 8: the bytes that must reach the
// media. Half the request, in whole sectors once it spans two or more.
struct TornCase {
  std::uint64_t length;
  std::uint64_t reaches;
};
const TornCase kTornCases[] = {
    {1 * kSector, 256}, {2 * kSector, 512}, {3 * kSector, 512}, {5 * kSector, 1024}};

TEST_F(FaultFilterTest, TornWriteLeavesExactlyThePrefix) {
  load("[[rule]]\nmatch = { sectors = \"8-15\" }\naction = { torn = true }\n");
  for (const TornCase& c : kTornCases) {
    SCOPED_TRACE(c.length);
    const Bytes before = media();
    const Bytes data = random_bytes(c.length, static_cast<std::uint32_t>(c.length));
    EXPECT_EQ(filter_->write(data, 8 * kSector, false).error, EIO);
    Bytes want = before;
    std::copy(data.begin(), data.begin() + c.reaches, want.begin() + 8 * kSector);
    EXPECT_EQ(media(), want);
  }
}

TEST_F(FaultFilterTest, TornZeroLeavesExactlyThePrefix) {
  // The schedule text only allows torn on writes; the filter also tears
  // WRITE_ZEROES, reached here by retargeting the parsed rule.
  auto s = faults::Schedule::parse("[[rule]]\nmatch = { sectors = \"8-15\" }\naction = { torn = true }\n",
                                   "t.toml", nullptr, kSize);
  s.rules[0].op = faults::OpMatch::Zero;
  engine_->load(std::move(s));
  for (const TornCase& c : kTornCases) {
    SCOPED_TRACE(c.length);
    ASSERT_EQ(filter_->write(random_bytes(c.length, 1), 8 * kSector, false).error, 0);
    const Bytes before = media();
    EXPECT_EQ(filter_->write_zeroes(8 * kSector, c.length, false, false).error, EIO);
    Bytes want = before;
    std::fill(want.begin() + 8 * kSector, want.begin() + 8 * kSector + c.reaches, 0);
    EXPECT_EQ(media(), want);
  }
}

}  // namespace
}  // namespace fsfault::nbd
