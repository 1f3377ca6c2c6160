// The saved guest's key: what the state depends on names a new state; the run's own paths do not.
#include "runner/vm/saved_guest.h"

#include "base/files.h"
#include "runner/vm/qemu_command.h"
#include "process/temp_file.h"

#include <gtest/gtest.h>

using fsfault::vm::RunConfig;
using fsfault::vm::saved_guest_key;

namespace {

class SavedGuestKey : public ::testing::Test {
 protected:
  void SetUp() override {
    c_.kernel.image = kernel_.path().string();
    c_.initramfs = initramfs_.path().string();
  }
  fsfault::proc::TempFile kernel_{"kernel bytes", "fsfault-saved-key-bzImage"};
  fsfault::proc::TempFile initramfs_{"initramfs bytes", "fsfault-saved-key-initramfs"};
  RunConfig c_;
};

TEST_F(SavedGuestKey, ContentsAndMachineNameTheState) {
  const std::string k = saved_guest_key(c_);
  EXPECT_EQ(k.size(), 16u);
  EXPECT_EQ(saved_guest_key(c_), k) << "the key is a function of its inputs";

  fsfault::base::write_file(c_.initramfs, "initramfs bytes, other modules");
  EXPECT_NE(saved_guest_key(c_), k) << "a rebuilt initramfs must not restore the old state";
  fsfault::base::write_file(c_.initramfs, "initramfs bytes");
  EXPECT_EQ(saved_guest_key(c_), k);

  fsfault::base::write_file(c_.kernel.image, "patched kernel bytes");
  EXPECT_NE(saved_guest_key(c_), k) << "a rebuilt kernel at the same path must not restore the old state";
  fsfault::base::write_file(c_.kernel.image, "kernel bytes");

  RunConfig more = c_;
  more.mem_mb = c_.mem_mb + 128;
  EXPECT_NE(saved_guest_key(more), k) << "-m is part of the saved machine";
  RunConfig kvm = c_;
  kvm.accel = "kvm";
  EXPECT_NE(saved_guest_key(kvm), k) << "the accelerator is part of the saved machine";
  EXPECT_NE(saved_guest_key(c_, true), k) << "the shared-memory variant is another machine";
}

TEST_F(SavedGuestKey, RunPathsDoNotChangeIt) {
  const std::string k = saved_guest_key(c_);
  RunConfig other = c_;
  other.out_dir = "/elsewhere";
  other.timeout_s = 7;
  other.nbd_server = "/usr/bin/true";
  EXPECT_EQ(saved_guest_key(other), k);
  // The saved machine's argv names per-run paths only where the key leaves them out.
  auto a = fsfault::vm::saved_guest_argv(c_, "/run/a/chan.sock", "/run/a/console.log", "/run/a/qmp.sock");
  auto b = fsfault::vm::saved_guest_argv(c_, "/run/b/chan.sock", "/run/b/console.log", "/run/b/qmp.sock");
  ASSERT_EQ(a.size(), b.size());
  size_t differing = 0;
  for (size_t i = 0; i < a.size(); ++i) differing += a[i] != b[i];
  EXPECT_EQ(differing, 3u);
}

}  // namespace
