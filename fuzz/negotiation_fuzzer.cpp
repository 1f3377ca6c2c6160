// Fuzzes the fixed-newstyle handshake and option haggling: the input is
// everything a client sends after connecting; the real negotiate() answers
// over a socketpair. Checks that the server's output is a well-formed
// greeting followed by well-formed option replies (and, after EXPORT_NAME,
// the export-name reply), and that a returned session is consistent.
#include <sys/socket.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <memory>

#include "fuzz/fuzz_support.h"
#include "nbd-server/codec.h"
#include "nbd-server/log.h"
#include "nbd-server/negotiation.h"
#include "nbd-server/storage/overlay_store.h"
#include "nbd-server/storage/raw_store.h"

using namespace fsfault::nbd;

namespace {

const ExportTable& exports() {
  static ExportTable* table = [] {
    log::set_level(log::Level::Error);
    auto* t = new ExportTable;
    const auto& img = fsfault::fuzz::golden_image();
    t->add({"disk", "golden.img", std::make_shared<OverlayStore>(img, fsfault::fuzz::temp_dir()), false});
    t->add({"ro", "read-only", std::make_shared<RawStore>(img, RawStore::Mode::ReadOnly), true});
    return t;
  }();
  return *table;
}

void check(bool ok) {
  if (!ok) std::abort();
}

// The server's output: greeting, then option replies; after a successful
// EXPORT_NAME the 10- or 134-byte export reply ends it.
void check_output(const std::vector<std::uint8_t>& out, bool got_session) {
  check(out.size() >= 18);
  decode_greeting(ByteView(out.data(), 18));  // throws (= crash) when malformed
  std::size_t pos = 18;
  while (out.size() - pos >= 20 && get_u64(out.data() + pos) == kOptionReplyMagic) {
    OptionReplyHeader h = decode_option_reply_header(ByteView(out.data() + pos, 20));
    check(out.size() - pos - 20 >= h.length);
    pos += 20 + h.length;
  }
  const std::size_t rest = out.size() - pos;
  check(rest == 0 || (got_session && (rest == 10 || rest == 134)));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const ExportTable& table = exports();
  int fds[2];
  fsfault::fuzz::make_socketpair(fds);
  fsfault::fuzz::ClientPump client(fds[1], data, size);
  SocketReader in(fds[0]);
  NegotiationLimits limits;
  limits.max_options = 64;
  limits.max_option_length = 8192;
  std::string why;
  auto session = negotiate(fds[0], in, table, limits, why);
  if (session) {
    check(session->exp != nullptr);
    check(!session->base_allocation || session->structured);
  } else {
    check(!why.empty());
  }
  ::shutdown(fds[0], SHUT_RDWR);
  check_output(client.join(), session.has_value());
  ::close(fds[0]);
  return 0;
}
