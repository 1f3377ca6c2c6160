// The order between a READ reply sent from a mapping of the overlay and a
// later WRITE received into the same pages, made visible to ThreadSanitizer.
//
// Why it is safe: sendmsg(2) copies the reply's bytes out of the mapped pages
// into socket buffers before it returns (plain sendmsg: no MSG_ZEROCOPY, no
// splice/vmsplice, which would keep references to the pages instead), and a
// client can only have the whole reply once that copy is done. A client that
// orders a WRITE after a READ (waits for the reply first, as libnbd's
// synchronous calls and every filesystem do) therefore has the WRITE received
// into the pages strictly after the send read them. That order runs through
// the client, where ThreadSanitizer cannot see it, so it is recorded here:
//
// - before_send() records the reply's reads of the pages and then a release,
//   both before the copy. The send itself goes through sendmsg_unrecorded()
//   (the raw system call, which TSan's interceptor does not see), because the
//   interceptor records the reads after the copy: a client, and the thread
//   receiving its next WRITE, could be done before the sender got there, and
//   TSan reported that order as a race (seen in CI, 2026-12-03).
// - before_access() / after_access() bracket the receive of an in-place
//   WRITE: an acquire (after its request header, so after the client had the
//   reply) and a release, which orders a later reply's send after it.
//
// A WRITE received while an overlapping reply is still being sent (the client
// sent both without waiting; NBD leaves their order unspecified) is no longer
// reported. Without ThreadSanitizer these are empty and the send is sendmsg(2).
#pragma once

#include <sys/socket.h>
#include <sys/uio.h>

#include <cstddef>

#if defined(__SANITIZE_THREAD__)
#define FSFAULT_NBD_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define FSFAULT_NBD_TSAN 1
#endif
#endif

#ifdef FSFAULT_NBD_TSAN
#include <sys/syscall.h>
#include <unistd.h>

extern "C" void __tsan_acquire(void* addr);
extern "C" void __tsan_release(void* addr);
extern "C" void __tsan_read_range(void* addr, unsigned long size);
#endif

namespace fsfault::nbd::mapped_pages {

#ifdef FSFAULT_NBD_TSAN
inline char order_token;  // the one synchronization object of all mappings
inline void before_access() { __tsan_acquire(&order_token); }
inline void after_access() { __tsan_release(&order_token); }
inline void before_send(const iovec* iov, std::size_t count) {
  __tsan_acquire(&order_token);
  for (std::size_t i = 0; i < count; ++i) __tsan_read_range(iov[i].iov_base, iov[i].iov_len);
  __tsan_release(&order_token);
}
inline ssize_t sendmsg_unrecorded(int fd, const msghdr* msg, int flags) {
  return static_cast<ssize_t>(::syscall(SYS_sendmsg, fd, msg, flags));
}
#else
inline void before_access() {}
inline void after_access() {}
inline void before_send(const iovec*, std::size_t) {}
inline ssize_t sendmsg_unrecorded(int fd, const msghdr* msg, int flags) { return ::sendmsg(fd, msg, flags); }
#endif

}  // namespace fsfault::nbd::mapped_pages
