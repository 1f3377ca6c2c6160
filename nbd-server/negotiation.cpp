#include "nbd-server/negotiation.h"

#include <fmt/format.h>

#include "nbd-server/codec.h"
#include "nbd-server/log.h"
#include "nbd-server/protocol.h"

namespace fsfault::nbd {

namespace {

class Negotiator {
 public:
  Negotiator(int fd, SocketReader& in, const ExportTable& exports, const NegotiationLimits& limits,
             std::string& why)
      : fd_(fd), in_(in), exports_(exports), limits_(limits), why_(why) {}

  std::optional<Session> run();

 private:
  bool reply(std::uint32_t option, std::uint32_t type, ByteView payload = {}) {
    Bytes b = encode_option_reply(option, type, payload);
    if (!write_all(fd_, b.data(), b.size())) return fail("client went away while we replied");
    return true;
  }
  bool reply_error(std::uint32_t option, std::uint32_t type, std::string_view msg) {
    log::debug("option {} refused: {}", option_name(option), msg);
    return reply(option, type, ByteView(reinterpret_cast<const std::uint8_t*>(msg.data()), msg.size()));
  }
  bool fail(std::string msg) {
    why_ = std::move(msg);
    return false;
  }

  // The client chose e: base:allocation holds only if it was selected for e.
  void select_export(const Export* e) {
    session_.exp = e;
    session_.base_allocation = meta_selected_ && meta_export_ == e->name && session_.structured;
  }

  // Each returns false when the connection must close; sets done_ to enter
  // transmission.
  bool handle(std::uint32_t option, const Bytes& payload);
  bool handle_info_go(std::uint32_t option, const Bytes& payload);
  bool handle_meta_context(std::uint32_t option, const Bytes& payload);
  bool handle_export_name(const Bytes& payload);

  int fd_;
  SocketReader& in_;
  const ExportTable& exports_;
  const NegotiationLimits& limits_;
  std::string& why_;
  bool no_zeroes_ = false;
  bool done_ = false;
  Session session_;
  // base:allocation selection applies to the export named with SET_META_CONTEXT.
  std::string meta_export_;
  bool meta_selected_ = false;
};

std::optional<Session> Negotiator::run() {
  Bytes greeting = encode_greeting(kFlagFixedNewstyle | kFlagNoZeroes);
  if (!write_all(fd_, greeting.data(), greeting.size())) {
    why_ = "client went away before the greeting";
    return std::nullopt;
  }
  std::uint8_t cf[4];
  if (!in_.read_exact(cf, 4)) {
    why_ = "client sent no flags";
    return std::nullopt;
  }
  std::uint32_t client_flags = get_u32(cf);
  if (!(client_flags & kClientFixedNewstyle)) {
    // Non-fixed newstyle cannot receive option errors: refuse it outright.
    why_ = "client does not speak fixed newstyle";
    return std::nullopt;
  }
  if (client_flags & ~(kClientFixedNewstyle | kClientNoZeroes)) {
    why_ = fmt::format("unknown client flags {:#x}", client_flags);
    return std::nullopt;
  }
  no_zeroes_ = client_flags & kClientNoZeroes;

  for (std::uint32_t count = 0; !done_; ++count) {
    if (count >= limits_.max_options) {
      why_ = fmt::format("more than {} options without GO", limits_.max_options);
      return std::nullopt;
    }
    std::uint8_t hb[kOptionHeaderSize];
    if (!in_.read_exact(hb, sizeof hb)) {
      why_ = "client left during negotiation";
      return std::nullopt;
    }
    OptionHeader h;
    try {
      h = decode_option_header(ByteView(hb, sizeof hb));
    } catch (const CodecError& e) {
      why_ = e.what();
      return std::nullopt;
    }
    if (h.length > limits_.max_option_length) {
      if (!in_.discard(h.length)) {
        why_ = "client left during an oversized option";
        return std::nullopt;
      }
      if (!reply_error(h.option, kRepErrTooBig, "option payload too large")) return std::nullopt;
      continue;
    }
    Bytes payload(h.length);
    if (!in_.read_exact(payload.data(), payload.size())) {
      why_ = "client left mid-option";
      return std::nullopt;
    }
    if (!handle(h.option, payload)) return std::nullopt;
  }
  return session_;
}

bool Negotiator::handle(std::uint32_t option, const Bytes& payload) {
  log::debug("option {} ({} bytes)", option_name(option), payload.size());
  switch (option) {
    case kOptExportName: return handle_export_name(payload);
    case kOptAbort:
      // The spec lets the client close without waiting; reply best-effort.
      (void)reply(option, kRepAck);
      return fail("client aborted negotiation");
    case kOptList: {
      if (!payload.empty()) return reply_error(option, kRepErrInvalid, "LIST takes no payload");
      for (const auto& e : exports_.all()) {
        Bytes b = encode_rep_server(e.name, e.description);
        if (!reply(option, kRepServer, b)) return false;
      }
      return reply(option, kRepAck);
    }
    case kOptStructuredReply:
      if (!payload.empty()) {
        return reply_error(option, kRepErrInvalid, "STRUCTURED_REPLY takes no payload");
      }
      session_.structured = true;
      return reply(option, kRepAck);
    case kOptInfo:
    case kOptGo: return handle_info_go(option, payload);
    case kOptListMetaContext:
    case kOptSetMetaContext: return handle_meta_context(option, payload);
    default:
      // STARTTLS included: this server has no TLS.
      return reply_error(option, kRepErrUnsup,
                         fmt::format("option {} not supported", option));
  }
}

bool Negotiator::handle_export_name(const Bytes& payload) {
  std::string name(payload.begin(), payload.end());
  const Export* e = exports_.find(name);
  if (!e) return fail(fmt::format("unknown export '{}' (EXPORT_NAME cannot be refused politely)", name));
  // EXPORT_NAME cannot carry meta contexts selected for another export.
  select_export(e);
  Bytes b = encode_export_name_reply(e->device->size(), transmission_flags(*e, session_.structured),
                                     no_zeroes_);
  if (!write_all(fd_, b.data(), b.size())) return fail("client went away");
  done_ = true;
  return true;
}

bool Negotiator::handle_info_go(std::uint32_t option, const Bytes& payload) {
  InfoRequest req;
  try {
    req = decode_info_request(payload);
  } catch (const CodecError& e) {
    return reply_error(option, kRepErrInvalid, e.what());
  }
  const Export* e = exports_.find(req.export_name);
  if (!e) {
    return reply_error(option, kRepErrUnknown, fmt::format("no export named '{}'", req.export_name));
  }
  bool want_name = false, want_description = false;
  for (auto t : req.info_types) {
    if (t == kInfoName) want_name = true;
    if (t == kInfoDescription) want_description = true;
  }
  Bytes info = encode_info_export(e->device->size(), transmission_flags(*e, session_.structured));
  if (!reply(option, kRepInfo, info)) return false;
  if (want_name && !reply(option, kRepInfo, encode_info_string(kInfoName, e->name))) return false;
  if (want_description && !e->description.empty() &&
      !reply(option, kRepInfo, encode_info_string(kInfoDescription, e->description))) {
    return false;
  }
  // Always sent: clients that did not ask may still honour it.
  if (!reply(option, kRepInfo,
             encode_info_block_size(kMinBlockSize, kPreferredBlockSize, kMaxBlockSize))) {
    return false;
  }
  if (!reply(option, kRepAck)) return false;
  if (option == kOptGo) {
    select_export(e);
    done_ = true;
  }
  return true;
}

bool Negotiator::handle_meta_context(std::uint32_t option, const Bytes& payload) {
  if (!session_.structured) {
    return reply_error(option, kRepErrInvalid, "meta contexts need structured replies first");
  }
  MetaContextRequest req;
  try {
    req = decode_meta_context_request(payload);
  } catch (const CodecError& e) {
    return reply_error(option, kRepErrInvalid, e.what());
  }
  const Export* e = exports_.find(req.export_name);
  if (!e) {
    return reply_error(option, kRepErrUnknown, fmt::format("no export named '{}'", req.export_name));
  }
  const bool set = option == kOptSetMetaContext;
  bool match = false;
  if (req.queries.empty()) {
    match = !set;  // LIST with no queries lists everything; SET with none selects nothing
  }
  for (const auto& q : req.queries) {
    if (q == kMetaBaseAllocation || (!set && (q == "base:" || q == "base"))) match = true;
  }
  if (set) {
    meta_selected_ = match;
    meta_export_ = e->name;
  }
  if (match) {
    // Context ids are ours to choose; 0 is never used so a stray zero stands out.
    session_.base_allocation_id = 1;
    if (!reply(option, kRepMetaContext, encode_meta_context(set ? 1 : 0, kMetaBaseAllocation))) {
      return false;
    }
  }
  return reply(option, kRepAck);
}

}  // namespace

std::optional<Session> negotiate(int fd, SocketReader& in, const ExportTable& exports,
                                 const NegotiationLimits& limits, std::string& why) {
  return Negotiator(fd, in, exports, limits, why).run();
}

}  // namespace fsfault::nbd
