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
// the client, where ThreadSanitizer cannot see it: these calls record it as an
// acquire before and a release after each access to mapped pages by a
// syscall. A release only orders what precedes it in real time, so a WRITE
// received while an overlapping reply is still being sent (the client sent
// both without waiting: NBD leaves their order unspecified, and the
// pread/pwrite path tore such reads within a page too) is still reported.
// Without ThreadSanitizer these are empty.
#pragma once

#if defined(__SANITIZE_THREAD__)
#define FSFAULT_NBD_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define FSFAULT_NBD_TSAN 1
#endif
#endif

#ifdef FSFAULT_NBD_TSAN
extern "C" void __tsan_acquire(void* addr);
extern "C" void __tsan_release(void* addr);
#endif

namespace fsfault::nbd::mapped_pages {

#ifdef FSFAULT_NBD_TSAN
inline char order_token;  // the one synchronization object of all mappings
inline void before_access() { __tsan_acquire(&order_token); }
inline void after_access() { __tsan_release(&order_token); }
#else
inline void before_access() {}
inline void after_access() {}
#endif

}  // namespace fsfault::nbd::mapped_pages
