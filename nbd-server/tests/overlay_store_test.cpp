// OverlayStore and RawStore against real files in a private temp directory:
// copy-on-write correctness (partial, unaligned, granule-edge writes), trim and
// zero semantics, block status truthfulness, golden image never modified, and
// RawStore's write-through basics.
#include "nbd-server/storage/overlay_store.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <cerrno>
#include <random>
#include <thread>

#include "nbd-server/storage/raw_store.h"
#include "nbd-server/tests/test_util.h"

namespace fsfault::nbd {
namespace {

using testing::random_bytes;
using testing::read_file;
using testing::TempDir;
using testing::write_file;

constexpr std::uint64_t G = OverlayStore::kGranule;
// Not a multiple of the granule: the last granule is partial.
constexpr std::uint64_t kSize = 16 * G + 1000;

std::vector<std::uint8_t> read_all(BlockDevice& d) {
  std::vector<std::uint8_t> v(d.size());
  EXPECT_EQ(d.read(v, 0).error, 0);
  return v;
}

std::vector<ExtentInfo> status(BlockDevice& d, std::uint64_t off, std::uint64_t len) {
  std::vector<ExtentInfo> out;
  EXPECT_EQ(d.block_status(off, len, out).error, 0);
  std::uint64_t sum = 0;
  for (const auto& e : out) sum += e.length;
  EXPECT_FALSE(out.empty());
  EXPECT_EQ(sum, len) << "block status must cover the range exactly";
  return out;
}

// The flags at byte `pos` according to a list of extents starting at `base`.
std::pair<bool, bool> flags_at(const std::vector<ExtentInfo>& ex, std::uint64_t base,
                               std::uint64_t pos) {
  for (const auto& e : ex) {
    if (pos < base + e.length) return {e.hole, e.zero};
    base += e.length;
  }
  ADD_FAILURE() << "position " << pos << " not covered";
  return {false, false};
}

// Every OverlayTest runs against both overlay backings: an unlinked file in a
// directory (on disk) and the default memfd (tmpfs pages).
enum class Backing { kDisk, kMemory };

class OverlayTest : public ::testing::TestWithParam<Backing> {
 protected:
  void SetUp() override {
    golden_path_ = dir_.file("golden.img");
    golden_ = random_bytes(kSize, 1);
    write_file(golden_path_, golden_);
    overlay_dir_ = dir_.file("overlay");
    std::filesystem::create_directory(overlay_dir_);
    overlay_arg_ = GetParam() == Backing::kMemory ? "" : overlay_dir_;
    store_ = std::make_unique<OverlayStore>(golden_path_, overlay_arg_);
    model_ = golden_;
  }
  void TearDown() override {
    store_.reset();
    EXPECT_EQ(read_file(golden_path_), golden_) << "the golden image was modified";
    // The overlay is an unlinked O_TMPFILE or a memfd: nothing is left behind.
    EXPECT_TRUE(std::filesystem::is_empty(overlay_dir_));
  }
  void write(std::uint64_t off, const std::vector<std::uint8_t>& data) {
    ASSERT_EQ(store_->write(data, off, false).error, 0);
    std::copy(data.begin(), data.end(), model_.begin() + static_cast<long>(off));
  }
  void zero(std::uint64_t off, std::uint64_t len, bool may_trim) {
    ASSERT_EQ(store_->write_zeroes(off, len, may_trim, false).error, 0);
    std::fill_n(model_.begin() + static_cast<long>(off), len, 0);
  }
  void check_model() {
    auto all = read_all(*store_);
    ASSERT_EQ(all.size(), model_.size());
    auto mismatch = std::mismatch(all.begin(), all.end(), model_.begin());
    ASSERT_TRUE(mismatch.first == all.end())
        << "first difference at byte " << (mismatch.first - all.begin());
  }

  TempDir dir_;
  std::string golden_path_, overlay_dir_, overlay_arg_;
  std::vector<std::uint8_t> golden_, model_;
  std::unique_ptr<OverlayStore> store_;
};

TEST_P(OverlayTest, FreshStoreReadsGolden) {
  EXPECT_EQ(store_->size(), kSize);
  EXPECT_TRUE(store_->writable());
  check_model();
  // Unaligned reads inside and across granules.
  std::vector<std::uint8_t> buf(777);
  ASSERT_EQ(store_->read(buf, G - 100).error, 0);
  EXPECT_TRUE(std::equal(buf.begin(), buf.end(), golden_.begin() + G - 100));
  EXPECT_EQ(store_->overlay_bytes(), 0u);
}

TEST_P(OverlayTest, PartialAndUnalignedWritesCopyUp) {
  write(1, random_bytes(1, 2));                // one byte inside granule 0
  write(G - 3, random_bytes(7, 3));            // straddles granules 0/1
  write(3 * G + 17, random_bytes(2 * G, 4));   // partial, whole-ish, partial
  write(8 * G, random_bytes(G, 5));            // exactly one granule
  write(10 * G - 1, random_bytes(2, 6));       // one byte each side of an edge
  check_model();
  // Untouched granules still come from the golden image (byte-exact).
  std::vector<std::uint8_t> g12(G);
  ASSERT_EQ(store_->read(g12, 12 * G).error, 0);
  EXPECT_TRUE(std::equal(g12.begin(), g12.end(), golden_.begin() + 12 * G));
  // Granules 0,1,3,4,5,8,9,10 hold overlay data.
  EXPECT_EQ(store_->overlay_bytes(), 8 * G);
}

TEST_P(OverlayTest, LastPartialGranule) {
  write(kSize - 10, random_bytes(10, 7));
  write(kSize - 1000 - 5, random_bytes(10, 8));  // straddles into the last granule
  check_model();
  zero(kSize - 500, 500, true);
  check_model();
  ASSERT_EQ(store_->trim(16 * G, kSize - 16 * G, false).error, 0);  // trim to the end
  std::fill(model_.begin() + 16 * G, model_.end(), 0);
  check_model();
  auto ex = status(*store_, 16 * G, kSize - 16 * G);
  ASSERT_EQ(ex.size(), 1u);
  EXPECT_TRUE(ex[0].hole);
  EXPECT_TRUE(ex[0].zero);
}

TEST_P(OverlayTest, RepeatedWritesToSameGranule) {
  for (int i = 0; i < 20; ++i) write(5 * G + 100 * i, random_bytes(50, 100 + i));
  write(5 * G, random_bytes(G, 200));  // full overwrite of a Data granule
  write(5 * G + 4000, random_bytes(200, 201));
  check_model();
}

TEST_P(OverlayTest, ZeroWithAndWithoutMayTrim) {
  zero(2 * G, 3 * G, true);            // whole granules, holes allowed
  zero(6 * G + 100, 2 * G, false);     // unaligned, NO_HOLE
  zero(9 * G + 10, 20, true);          // inside one granule
  check_model();
  auto ex = status(*store_, 0, kSize);
  // Hole-allowed whole granules are HOLE|ZERO.
  for (std::uint64_t g = 2; g < 5; ++g) {
    EXPECT_EQ(flags_at(ex, 0, g * G), std::make_pair(true, true)) << "granule " << g;
  }
  // NO_HOLE zeroing of the whole granule 7: ZERO but allocated.
  EXPECT_EQ(flags_at(ex, 0, 7 * G), std::make_pair(false, true));
  // Partial granules written with zeros are plain data.
  EXPECT_EQ(flags_at(ex, 0, 6 * G + 100), std::make_pair(false, false));
  EXPECT_EQ(flags_at(ex, 0, 8 * G + 50), std::make_pair(false, false));
  EXPECT_EQ(flags_at(ex, 0, 9 * G), std::make_pair(false, false));
  // Golden data stays data.
  EXPECT_EQ(flags_at(ex, 0, 0), std::make_pair(false, false));
  EXPECT_EQ(flags_at(ex, 0, 12 * G), std::make_pair(false, false));
}

TEST_P(OverlayTest, TrimDropsWholeGranulesOnly) {
  write(0, random_bytes(6 * G, 9));
  ASSERT_EQ(store_->trim(G + 10, 3 * G, false).error, 0);
  // [G+10, 4G+10): only granules 2 and 3 are whole; partial ones keep data.
  std::fill(model_.begin() + 2 * G, model_.begin() + 4 * G, 0);
  check_model();
  auto ex = status(*store_, 0, 6 * G);
  EXPECT_EQ(flags_at(ex, 0, G + 20), std::make_pair(false, false));
  EXPECT_EQ(flags_at(ex, 0, 2 * G), std::make_pair(true, true));
  EXPECT_EQ(flags_at(ex, 0, 4 * G - 1), std::make_pair(true, true));
  EXPECT_EQ(flags_at(ex, 0, 4 * G), std::make_pair(false, false));
  // A trim of golden (never written) granules also reads zeros afterwards.
  ASSERT_EQ(store_->trim(12 * G, G, false).error, 0);
  std::fill_n(model_.begin() + 12 * G, G, 0);
  check_model();
}

TEST_P(OverlayTest, WriteAfterZeroCopiesUpZeros) {
  zero(0, 4 * G, true);
  write(G + 5, random_bytes(10, 10));     // into a Hole granule
  zero(8 * G, 2 * G, false);
  write(9 * G - 3, random_bytes(6, 11));  // into two ZeroAlloc granules
  check_model();
  auto ex = status(*store_, 0, 10 * G);
  EXPECT_EQ(flags_at(ex, 0, G), std::make_pair(false, false));
  EXPECT_EQ(flags_at(ex, 0, 0), std::make_pair(true, true));
  EXPECT_EQ(flags_at(ex, 0, 2 * G), std::make_pair(true, true));
  EXPECT_EQ(flags_at(ex, 0, 8 * G), std::make_pair(false, false));
}

TEST_P(OverlayTest, BlockStatusPartialRanges) {
  zero(4 * G, 4 * G, true);
  // A range starting and ending mid-granule inside the hole.
  auto ex = status(*store_, 5 * G + 7, 100);
  ASSERT_EQ(ex.size(), 1u);
  EXPECT_TRUE(ex[0].hole && ex[0].zero);
  // Spanning data -> hole -> data; adjacent extents with the same flags merge.
  ex = status(*store_, 3 * G + 1, 6 * G);
  ASSERT_EQ(ex.size(), 3u);
  EXPECT_EQ(ex[0].length, G - 1);
  EXPECT_EQ(ex[1].length, 4 * G);
  EXPECT_EQ(ex[2].length, G + 1);
}

TEST_P(OverlayTest, RandomOperationsMatchModel) {
  std::mt19937 rng(77);
  for (int i = 0; i < 300; ++i) {
    std::uint64_t off = rng() % kSize;
    std::uint64_t len = 1 + rng() % std::min<std::uint64_t>(3 * G, kSize - off);
    switch (rng() % 4) {
      case 0:
      case 1: write(off, random_bytes(len, static_cast<std::uint32_t>(i + 1000))); break;
      case 2: zero(off, len, rng() % 2); break;
      case 3: {
        std::vector<std::uint8_t> buf(len);
        ASSERT_EQ(store_->read(buf, off).error, 0);
        ASSERT_TRUE(std::equal(buf.begin(), buf.end(), model_.begin() + static_cast<long>(off)))
            << "op " << i << " read at " << off << " len " << len;
        break;
      }
    }
  }
  check_model();
  // Every extent that says ZERO really reads as zeros.
  auto ex = status(*store_, 0, kSize);
  std::uint64_t pos = 0;
  for (const auto& e : ex) {
    if (e.zero) {
      EXPECT_TRUE(std::all_of(model_.begin() + static_cast<long>(pos),
                              model_.begin() + static_cast<long>(pos + e.length),
                              [](auto c) { return c == 0; }))
          << "extent at " << pos << " claims ZERO";
    }
    pos += e.length;
  }
}

// A payload held in memory, handed out as a socket would.
class VectorPayload final : public PayloadSource {
 public:
  explicit VectorPayload(std::vector<std::uint8_t> b) : bytes_(std::move(b)) {}
  bool receive(std::span<std::uint8_t> dst) override {
    if (dst.size() > bytes_.size() - pos_) return false;
    std::copy_n(bytes_.begin() + static_cast<long>(pos_), dst.size(), dst.begin());
    pos_ += dst.size();
    return true;
  }
  bool discard(std::uint64_t n) override {
    std::vector<std::uint8_t> sink(n);
    return receive(sink);
  }
  std::size_t consumed() const { return pos_; }

 private:
  std::vector<std::uint8_t> bytes_;
  std::size_t pos_ = 0;
};

// The bytes a read plan describes, laid end to end.
std::vector<std::uint8_t> flatten(const ReadPlan& plan) {
  if (plan.in_buffer) return plan.buffer;
  std::vector<std::uint8_t> out;
  for (const ReadPiece& p : plan.pieces) {
    if (p.data == nullptr) {
      out.insert(out.end(), p.length, 0);
    } else {
      out.insert(out.end(), p.data, p.data + p.length);
    }
  }
  return out;
}

// The zero-copy paths against the model: read plans (mapped pieces of golden,
// overlay and zeros) and in-place writes (over data, or falling back to
// copy-up where a granule holds none), mixed with ordinary writes and zeroes.
TEST_P(OverlayTest, ReadPlansAndInPlaceWritesMatchModel) {
  std::mt19937 rng(78);
  ReadPlan plan;
  for (int i = 0; i < 300; ++i) {
    std::uint64_t off = rng() % kSize;
    std::uint64_t len = 1 + rng() % std::min<std::uint64_t>(3 * G, kSize - off);
    auto data = random_bytes(len, static_cast<std::uint32_t>(i + 5000));
    switch (rng() % 4) {
      case 0: write(off, data); break;
      case 1: {
        VectorPayload payload(data);
        auto r = store_->write_in_place(payload, off, len, false);
        ASSERT_TRUE(r.has_value());
        ASSERT_EQ(r->error, 0);
        ASSERT_EQ(payload.consumed(), len) << "op " << i;
        std::copy(data.begin(), data.end(), model_.begin() + static_cast<long>(off));
        break;
      }
      case 2: zero(off, len, rng() % 2); break;
      case 3: {
        plan.clear();
        ASSERT_EQ(store_->read_plan(off, len, plan).error, 0);
        EXPECT_FALSE(plan.in_buffer) << "a mapped store copied";
        auto got = flatten(plan);
        ASSERT_EQ(got.size(), len);
        ASSERT_TRUE(std::equal(got.begin(), got.end(), model_.begin() + static_cast<long>(off)))
            << "op " << i << " planned read at " << off << " len " << len;
        break;
      }
    }
  }
  check_model();
  write(0, random_bytes(2 * G, 9));
  zero(2 * G, G, true);
  EXPECT_TRUE(store_->can_write_in_place(10, G)) << "two granules of data";
  EXPECT_FALSE(store_->can_write_in_place(G, 2 * G)) << "reaches a hole";
  ASSERT_EQ(store_->trim(0, G, false).error, 0);
  EXPECT_FALSE(store_->can_write_in_place(0, 1)) << "a trimmed granule holds no data";
}

// A read over a checkerboard of every state (more runs than
// OverlayStore::kMaxRunsPerRead) takes the read-both-and-merge path.
TEST_P(OverlayTest, CheckerboardReadMergesEveryState) {
  for (std::uint64_t g = 0; g + 1 < kSize / G; g += 4) {
    write(g * G, random_bytes(G, static_cast<std::uint32_t>(g + 7)));  // data
    zero((g + 1) * G, G, true);                                         // hole
    if ((g + 2) * G < kSize) zero((g + 2) * G, G, false);               // zero-allocated
    // g + 3 stays golden
  }
  std::vector<std::uint8_t> buf(kSize - 100);
  ASSERT_EQ(store_->read(buf, 50).error, 0);
  auto mismatch = std::mismatch(buf.begin(), buf.end(), model_.begin() + 50);
  EXPECT_TRUE(mismatch.first == buf.end())
      << "first difference at byte " << (mismatch.first - buf.begin() + 50);
  check_model();
}

// Checkerboards whose golden granules sit only at the edges, or nowhere: the
// golden span read first must not overwrite data, hole or zero runs.
TEST_P(OverlayTest, CheckerboardReadGoldenOnlyAtEdgesOrNowhere) {
  for (std::uint64_t g = 1; g < 15; g += 2) {
    write(g * G, random_bytes(G, static_cast<std::uint32_t>(g + 100)));
    zero((g + 1) * G, G, g % 4 == 1);
  }
  // Granule 0 and 16 (partial) stay golden, 1..15 alternate data and zeros.
  std::vector<std::uint8_t> buf(kSize - 10);
  ASSERT_EQ(store_->read(buf, 5).error, 0);
  EXPECT_TRUE(std::equal(buf.begin(), buf.end(), model_.begin() + 5)) << "golden at the edges";
  std::vector<std::uint8_t> inner(13 * G + 77);
  ASSERT_EQ(store_->read(inner, G + 3).error, 0);
  EXPECT_TRUE(std::equal(inner.begin(), inner.end(), model_.begin() + G + 3)) << "no golden run";
  check_model();
}

// The overlay holds only what was written, and trimming gives it back
// (fallocate(PUNCH_HOLE) works on both tmpfs and the disk's filesystem).
TEST_P(OverlayTest, OverlayAllocatesOnlyWrittenDataAndTrimFreesIt) {
  EXPECT_EQ(store_->overlay_allocated(), 0u);
  write(4 * G, random_bytes(8 * G, 3));
  const std::uint64_t written = store_->overlay_allocated();
  if (GetParam() == Backing::kMemory) {
    EXPECT_EQ(written, 8 * G) << "tmpfs allocates exactly the pages written";
  } else {
    EXPECT_GE(written, 8 * G);
  }
  ASSERT_EQ(store_->trim(4 * G, 8 * G, false).error, 0);
  std::fill_n(model_.begin() + static_cast<long>(4 * G), 8 * G, 0);
  EXPECT_LT(store_->overlay_allocated(), written);
  if (GetParam() == Backing::kMemory) {
    EXPECT_EQ(store_->overlay_allocated(), 0u);
  }
  check_model();
}

// Partial writes from many threads into the same granules: copy-up must not
// lose any of them (each thread owns a distinct 512-byte slot per granule).
TEST_P(OverlayTest, ConcurrentCopyUpLosesNothing) {
  constexpr int kThreads = 8;
  constexpr std::uint64_t kSlot = G / kThreads;
  for (int round = 0; round < 3; ++round) {
    store_ = std::make_unique<OverlayStore>(golden_path_, overlay_arg_);
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t] {
        std::vector<std::uint8_t> data(kSlot, static_cast<std::uint8_t>(0x10 + t + round));
        for (std::uint64_t g = 0; g < 16; ++g) {
          EXPECT_EQ(store_->write(data, g * G + static_cast<std::uint64_t>(t) * kSlot, false).error, 0);
        }
      });
    }
    for (auto& th : threads) th.join();
    auto all = read_all(*store_);
    for (std::uint64_t g = 0; g < 16; ++g) {
      for (int t = 0; t < kThreads; ++t) {
        std::uint64_t at = g * G + static_cast<std::uint64_t>(t) * kSlot;
        ASSERT_TRUE(std::all_of(all.begin() + at, all.begin() + at + kSlot,
                                [&](auto c) { return c == 0x10 + t + round; }))
            << "round " << round << " granule " << g << " slot " << t << " lost its write";
      }
    }
    // The tail past granule 16 is still golden.
    EXPECT_TRUE(std::equal(all.begin() + 16 * G, all.end(), golden_.begin() + 16 * G));
  }
}

INSTANTIATE_TEST_SUITE_P(Backings, OverlayTest,
                         ::testing::Values(Backing::kDisk, Backing::kMemory),
                         [](const auto& info) {
                           return info.param == Backing::kMemory ? "Memory" : "Disk";
                         });

TEST(OverlaySparseGolden, BlockStatusReportsGoldenHoles) {
  TempDir dir;
  std::string path = dir.file("sparse.img");
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_TRUNC, 0600);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::ftruncate(fd, 64 * G), 0);
  auto d1 = random_bytes(G, 1), d2 = random_bytes(2 * G, 2);
  ASSERT_EQ(::pwrite(fd, d1.data(), d1.size(), 0), static_cast<ssize_t>(G));
  ASSERT_EQ(::pwrite(fd, d2.data(), d2.size(), 32 * G), static_cast<ssize_t>(2 * G));
  ASSERT_EQ(::fsync(fd), 0);
  bool fs_reports_holes = ::lseek(fd, 0, SEEK_HOLE) == static_cast<off_t>(G);
  ::close(fd);
  if (!fs_reports_holes) GTEST_SKIP() << "filesystem under TMPDIR does not report holes";
  auto before = read_file(path);

  OverlayStore s(path, dir.path());
  auto ex = status(s, 0, 64 * G);
  ASSERT_EQ(ex.size(), 4u);
  EXPECT_EQ(ex[0].length, G);
  EXPECT_FALSE(ex[0].hole || ex[0].zero);
  EXPECT_EQ(ex[1].length, 31 * G);
  EXPECT_TRUE(ex[1].hole && ex[1].zero);
  EXPECT_EQ(ex[2].length, 2 * G);
  EXPECT_FALSE(ex[2].hole || ex[2].zero);
  EXPECT_EQ(ex[3].length, 30 * G);
  EXPECT_TRUE(ex[3].hole && ex[3].zero);

  // Writing into a golden hole turns just that granule into data.
  std::vector<std::uint8_t> one = {0x42};
  ASSERT_EQ(s.write(one, 10 * G + 5, false).error, 0);
  ex = status(s, 8 * G, 4 * G);
  ASSERT_EQ(ex.size(), 3u);
  EXPECT_TRUE(ex[0].hole && ex[0].zero);
  EXPECT_EQ(ex[1].length, G);
  EXPECT_FALSE(ex[1].hole || ex[1].zero);
  EXPECT_TRUE(ex[2].hole && ex[2].zero);
  std::vector<std::uint8_t> g10(G);
  ASSERT_EQ(s.read(g10, 10 * G).error, 0);
  for (std::uint64_t i = 0; i < G; ++i) ASSERT_EQ(g10[i], i == 5 ? 0x42 : 0) << i;
  EXPECT_EQ(read_file(path), before);
}

TEST(OverlayErrors, MissingGoldenOrOverlayDirThrows) {
  TempDir dir;
  EXPECT_THROW(OverlayStore(dir.file("nope.img"), dir.path()), std::system_error);
  write_file(dir.file("g.img"), random_bytes(G, 1));
  EXPECT_THROW(OverlayStore(dir.file("g.img"), dir.file("no-such-dir")), std::system_error);
}

// ---- RawStore ---------------------------------------------------------------

TEST(RawStore, WriteThroughLandsInTheFile) {
  TempDir dir;
  std::string path = dir.file("disk.img");
  auto model = random_bytes(8 * G, 3);
  write_file(path, model);
  RawStore s(path, RawStore::Mode::WriteThrough);
  EXPECT_EQ(s.size(), 8 * G);
  EXPECT_TRUE(s.writable());
  auto data = random_bytes(1234, 4);
  ASSERT_EQ(s.write(data, 777, false).error, 0);
  std::copy(data.begin(), data.end(), model.begin() + 777);
  auto fua = random_bytes(10, 5);
  ASSERT_EQ(s.write(fua, 8 * G - 10, true).error, 0);
  std::copy(fua.begin(), fua.end(), model.end() - 10);
  ASSERT_EQ(s.flush().error, 0);
  EXPECT_EQ(read_file(path), model);  // visible to anyone reading the file
  EXPECT_EQ(read_all(s), model);

  // Zeroes, with and without holes, read back as zeros and land in the file.
  ASSERT_EQ(s.write_zeroes(G, 2 * G, true, false).error, 0);
  ASSERT_EQ(s.write_zeroes(4 * G + 3, 100, false, true).error, 0);
  std::fill_n(model.begin() + G, 2 * G, 0);
  std::fill_n(model.begin() + 4 * G + 3, 100, 0);
  EXPECT_EQ(read_all(s), model);
  EXPECT_EQ(read_file(path), model);
  EXPECT_EQ(read_file(path).size(), 8 * G) << "zeroing must keep the file size";
  auto ex = status(s, G, 2 * G);
  EXPECT_TRUE(ex[0].zero) << "a punched range reads as zeros";

  ASSERT_EQ(s.trim(6 * G, G, false).error, 0);  // advisory; must not fail
  EXPECT_EQ(read_file(path).size(), 8 * G);
  EXPECT_EQ(s.cache(0, 8 * G).error, 0);
}

TEST(RawStore, ReadOnlyRefusesWrites) {
  TempDir dir;
  std::string path = dir.file("ro.img");
  auto model = random_bytes(4 * G, 6);
  write_file(path, model);
  ::chmod(path.c_str(), 0400);  // opened O_RDONLY: works without write permission
  RawStore s(path, RawStore::Mode::ReadOnly);
  EXPECT_FALSE(s.writable());
  std::vector<std::uint8_t> d(10, 1);
  EXPECT_EQ(s.write(d, 0, false).error, EPERM);
  EXPECT_EQ(s.trim(0, G, false).error, EPERM);
  EXPECT_EQ(s.write_zeroes(0, G, true, false).error, EPERM);
  EXPECT_EQ(s.flush().error, 0);
  EXPECT_EQ(read_all(s), model);
  EXPECT_EQ(read_file(path), model);
}

TEST(RawStore, MissingImageThrows) {
  TempDir dir;
  EXPECT_THROW(RawStore(dir.file("missing"), RawStore::Mode::ReadOnly), std::system_error);
}

}  // namespace
}  // namespace fsfault::nbd
