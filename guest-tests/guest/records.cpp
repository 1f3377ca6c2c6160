#include "guest-tests/guest/records.h"

#include "guest-tests/guest/channel.h"
#include "guest-tests/guest/clock.h"

#include <mutex>

namespace fsfault::guest {

namespace {
long long g_seq = 0;
std::mutex g_record_mu;  // the queue watchers record from their own threads
}  // namespace

void record(nlohmann::json j) {
  std::lock_guard<std::mutex> lock(g_record_mu);
  j["seq"] = g_seq++;
  j["t_ms"] = ms_since_start();
  host_channel().send(j);
}

}  // namespace fsfault::guest
