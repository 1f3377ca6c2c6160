// The SHA-256 wrapper (OpenSSL libcrypto) against the FIPS 180-2 known vectors.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "base/sha256.h"

using namespace fsfault::base;

TEST(Sha256, KnownVectors) {
  EXPECT_EQ(sha256_hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  std::string million(1000000, 'a');
  EXPECT_EQ(sha256_hex(million), "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST(Sha256, IncrementalAndFile) {
  Sha256 h;
  h.update("ab");
  h.update("");
  h.update("c");
  EXPECT_EQ(h.hex_finish(), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_THROW(h.update("x"), std::logic_error);

  auto path = std::filesystem::path(::testing::TempDir()) / "fsfault-sha256-test.bin";
  std::string big(3 << 20, 'a');  // spans several read chunks
  std::ofstream(path, std::ios::binary) << big;
  EXPECT_EQ(sha256_file(path), sha256_hex(big));
  std::filesystem::remove(path);
  EXPECT_THROW(sha256_file(path), std::runtime_error);
}
