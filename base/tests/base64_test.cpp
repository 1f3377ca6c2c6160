#include "base/base64.h"

#include <gtest/gtest.h>

#include <string>

using fsfault::base::base64_encode;

TEST(Base64, Rfc4648Vectors) {
  EXPECT_EQ(base64_encode(""), "");
  EXPECT_EQ(base64_encode("f"), "Zg==");
  EXPECT_EQ(base64_encode("fo"), "Zm8=");
  EXPECT_EQ(base64_encode("foo"), "Zm9v");
  EXPECT_EQ(base64_encode("foob"), "Zm9vYg==");
  EXPECT_EQ(base64_encode("fooba"), "Zm9vYmE=");
  EXPECT_EQ(base64_encode("foobar"), "Zm9vYmFy");
  EXPECT_EQ(base64_encode(std::string("\xff\x00\x80", 3)), "/wCA");
  // Longer than one EVP_EncodeBlock chunk (3 MiB): the chunks join without padding between them.
  std::string big(3 * (1u << 20) + 1, 'a');
  std::string enc = base64_encode(big);
  EXPECT_EQ(enc.size(), 4 * ((big.size() + 2) / 3));
  EXPECT_EQ(enc.substr(enc.size() - 8), "YWFhYQ==");
  EXPECT_EQ(enc.find('='), enc.size() - 2);
}
