// Fuzzes the transmission phase through the real Connection: a canned
// handshake (chosen by the first input byte: simple or structured replies,
// base:allocation or not, GO or EXPORT_NAME, writable or read-only export,
// one or three workers) is followed by the rest of the input as the request
// stream. The export is an OverlayStore over a 1 MiB golden image behind the
// real FaultFilter with a schedule of fail/flip/zero/torn/disconnect rules.
#include <sys/socket.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <memory>

#include "faults/fault_engine.h"
#include "faults/schedule.h"
#include "fuzz/fuzz_support.h"
#include "nbd-server/codec.h"
#include "nbd-server/connection.h"
#include "nbd-server/fault_filter.h"
#include "nbd-server/log.h"
#include "nbd-server/storage/overlay_store.h"
#include "nbd-server/storage/raw_store.h"

using namespace fsfault::nbd;
namespace faults = fsfault::faults;

namespace {

constexpr const char* kSchedule = R"(
seed = 7
[[rule]]
match = { op = "read", sectors = "16-23" }
action = { fail = "EIO" }
[[rule]]
match = { op = "read", sectors = "100-200" }
action = { flip = { bits = 3 } }
probability = 0.5
[[rule]]
match = { op = "read", sectors = "300-310" }
action = { zero = true }
[[rule]]
match = { op = "write", sectors = "400-500" }
action = { torn = true }
every = 2
[[rule]]
match = { op = "read", sectors = "600-607" }
action = { flip = { bits = 1, persist = true } }
[[rule]]
match = { op = "any", sectors = "2040-2047" }
action = { disconnect = true }
[[rule]]
match = { op = "flush" }
action = { fail = "ENOSPC" }
every = 3
)";

const ExportTable& exports() {
  static ExportTable* table = [] {
    log::set_level(log::Level::Error);
    auto* t = new ExportTable;
    const auto& img = fsfault::fuzz::golden_image();
    auto store = std::make_shared<OverlayStore>(img, fsfault::fuzz::temp_dir());
    auto engine = std::make_shared<faults::FaultEngine>();
    engine->load(faults::Schedule::parse(kSchedule, "fuzz.toml", nullptr, store->size()));
    t->add({"disk", "overlay", std::make_shared<FaultFilter>(store, engine), false});
    t->add({"ro", "read-only", std::make_shared<RawStore>(img, RawStore::Mode::ReadOnly), true});
    return t;
  }();
  return *table;
}

void option(Bytes& out, std::uint32_t opt, const Bytes& payload) {
  Bytes h = encode_option_header({opt, static_cast<std::uint32_t>(payload.size())});
  out.insert(out.end(), h.begin(), h.end());
  out.insert(out.end(), payload.begin(), payload.end());
}

Bytes handshake(std::uint8_t mode) {
  const bool structured = mode & 1, meta = mode & 2, export_name = mode & 4, ro = mode & 8;
  const std::string name = ro ? "ro" : "disk";
  Bytes out;
  put_u32(out, kClientFixedNewstyle | kClientNoZeroes);
  if (structured) option(out, kOptStructuredReply, {});
  if (structured && meta) {
    option(out, kOptSetMetaContext, encode_meta_context_request({name, {kMetaBaseAllocation}}));
  }
  if (export_name) {
    option(out, kOptExportName, Bytes(name.begin(), name.end()));
  } else {
    option(out, kOptGo, encode_info_request({name, {}}));
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return -1;
  const ExportTable& table = exports();
  Bytes input = handshake(data[0]);
  input.insert(input.end(), data + 1, data + size);

  ConnectionLimits limits;
  limits.workers = (data[0] & 16) ? 3 : 1;
  limits.handshake_timeout_s = 10;
  limits.max_discard = 1 << 20;
  int fds[2];
  fsfault::fuzz::make_socketpair(fds);
  fsfault::fuzz::ClientPump client(fds[1], input.data(), input.size());
  {
    // Connection owns fds[0] and closes it; serve() returns at EOF.
    Connection conn(fds[0], "fuzz", table, limits);
    conn.serve();
    if (!conn.finished()) std::abort();
    ::shutdown(fds[0], SHUT_RDWR);
  }
  client.join();
  return 0;
}
