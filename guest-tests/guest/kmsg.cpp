#include "guest-tests/guest/kmsg.h"

#include "guest-tests/guest/records.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <string>

namespace fsfault::guest {

namespace {

int g_kmsg = -1;

// One record as read(2) returns it. Format (Documentation/ABI/testing/dev-kmsg):
// "prio,seq,usec,flags;text\n".
nlohmann::json kmsg_record(const std::string& rec) {
  auto semi = rec.find(';');
  std::string head = semi == std::string::npos ? "" : rec.substr(0, semi);
  std::string text = semi == std::string::npos ? rec : rec.substr(semi + 1);
  auto nl = text.find('\n');
  if (nl != std::string::npos) text.resize(nl);
  nlohmann::json j{{"type", "kmsg"}, {"text", text}};
  unsigned prio = 0;
  unsigned long long kseq = 0, usec = 0;
  if (sscanf(head.c_str(), "%u,%llu,%llu", &prio, &kseq, &usec) == 3) {
    j["level"] = prio & 7;
    j["usec"] = usec;
  }
  return j;
}

}  // namespace

void open_kmsg() { g_kmsg = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC); }

void drain_kmsg() {
  if (g_kmsg < 0) return;
  char buf[8192];
  for (;;) {
    ssize_t n = read(g_kmsg, buf, sizeof buf - 1);
    if (n < 0) {
      if (errno == EPIPE) continue;  // overwritten records: keep reading
      break;                          // EAGAIN: nothing more
    }
    if (n == 0) break;
    buf[n] = 0;
    record(kmsg_record(std::string(buf, static_cast<size_t>(n))));
  }
}

}  // namespace fsfault::guest
