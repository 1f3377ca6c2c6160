#include "base/errno_names.h"

#include <gtest/gtest.h>

#include <cerrno>

using namespace fsfault::base;

TEST(ErrnoNames, NamesAndAliases) {
  EXPECT_EQ(errno_from_name("EIO"), EIO);
  EXPECT_EQ(errno_from_name("OK"), 0);
  EXPECT_EQ(errno_from_name("EFSCORRUPTED"), 117);
  EXPECT_EQ(errno_from_name("EUCLEAN"), 117);
  EXPECT_EQ(errno_from_name("EFSBADCRC"), 74);
  EXPECT_EQ(errno_from_name("ENOPE"), std::nullopt);
  EXPECT_EQ(errno_name(EIO), "EIO");
  EXPECT_EQ(errno_name(0), "OK");
  EXPECT_EQ(errno_name(117), "EFSCORRUPTED");  // the filesystems' name wins over EUCLEAN
  EXPECT_EQ(errno_name(74), "EFSBADCRC");
  EXPECT_EQ(errno_name(4242), "E4242");
}

TEST(ErrnoNames, OnlyTheNbdSetInSchedules) {
  EXPECT_EQ(nbd_errno_from_name("ESHUTDOWN"), ESHUTDOWN);
  EXPECT_EQ(nbd_errno_from_name("ENOSPC"), ENOSPC);
  EXPECT_EQ(nbd_errno_from_name("EFSCORRUPTED"), std::nullopt);  // no NBD error code carries it
  EXPECT_EQ(nbd_errno_from_name("ENOENT"), std::nullopt);
  EXPECT_EQ(nbd_errno_from_name("OK"), std::nullopt);
  for (auto n : {"EPERM", "EIO", "ENOMEM", "EINVAL", "ENOSPC", "EOVERFLOW", "ENOTSUP", "ESHUTDOWN"}) {
    EXPECT_TRUE(nbd_errno_from_name(n)) << n;
    EXPECT_NE(nbd_errno_names_list().find(n), std::string_view::npos) << n;
  }
}
