#include "nbd-server/codec.h"

#include <fmt/format.h>

#include <cstring>

namespace fsfault::nbd {

void put_u16(Bytes& out, std::uint16_t v) {
  out.push_back(static_cast<std::uint8_t>(v >> 8));
  out.push_back(static_cast<std::uint8_t>(v));
}
void put_u32(Bytes& out, std::uint32_t v) {
  for (int s = 24; s >= 0; s -= 8) out.push_back(static_cast<std::uint8_t>(v >> s));
}
void put_u64(Bytes& out, std::uint64_t v) {
  for (int s = 56; s >= 0; s -= 8) out.push_back(static_cast<std::uint8_t>(v >> s));
}
void put_bytes(Bytes& out, std::string_view s) { out.insert(out.end(), s.begin(), s.end()); }

std::uint16_t get_u16(const std::uint8_t* p) {
  return static_cast<std::uint16_t>((p[0] << 8) | p[1]);
}
std::uint32_t get_u32(const std::uint8_t* p) {
  return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) |
         std::uint32_t{p[3]};
}
std::uint64_t get_u64(const std::uint8_t* p) {
  return (std::uint64_t{get_u32(p)} << 32) | get_u32(p + 4);
}

static void put_u16_at(std::uint8_t* p, std::uint16_t v) {
  p[0] = static_cast<std::uint8_t>(v >> 8);
  p[1] = static_cast<std::uint8_t>(v);
}
static void put_u32_at(std::uint8_t* p, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) p[i] = static_cast<std::uint8_t>(v >> (24 - 8 * i));
}
static void put_u64_at(std::uint8_t* p, std::uint64_t v) {
  put_u32_at(p, static_cast<std::uint32_t>(v >> 32));
  put_u32_at(p + 4, static_cast<std::uint32_t>(v));
}

void Reader::need(std::size_t n) const {
  if (remaining() < n) {
    throw CodecError(fmt::format("truncated message: need {} more bytes, have {}", n, remaining()));
  }
}
std::uint16_t Reader::u16() {
  need(2);
  auto v = get_u16(data_.data() + pos_);
  pos_ += 2;
  return v;
}
std::uint32_t Reader::u32() {
  need(4);
  auto v = get_u32(data_.data() + pos_);
  pos_ += 4;
  return v;
}
std::uint64_t Reader::u64() {
  need(8);
  auto v = get_u64(data_.data() + pos_);
  pos_ += 8;
  return v;
}
std::string Reader::string(std::size_t len) {
  need(len);
  std::string s(reinterpret_cast<const char*>(data_.data() + pos_), len);
  pos_ += len;
  return s;
}
void Reader::expect_end(const char* what) const {
  if (remaining() != 0) {
    throw CodecError(fmt::format("{}: {} trailing bytes", what, remaining()));
  }
}

static void expect_size(ByteView b, std::size_t n, const char* what) {
  if (b.size() != n) {
    throw CodecError(fmt::format("{}: expected {} bytes, got {}", what, n, b.size()));
  }
}

Bytes encode_greeting(std::uint16_t handshake_flags) {
  Bytes out;
  put_u64(out, kNbdMagic);
  put_u64(out, kOptionMagic);
  put_u16(out, handshake_flags);
  return out;
}

std::uint16_t decode_greeting(ByteView b) {
  expect_size(b, 18, "greeting");
  Reader r(b);
  if (r.u64() != kNbdMagic) throw CodecError("greeting: bad NBDMAGIC");
  if (r.u64() != kOptionMagic) throw CodecError("greeting: not a newstyle server");
  return r.u16();
}

Bytes encode_option_header(const OptionHeader& h) {
  Bytes out;
  put_u64(out, kOptionMagic);
  put_u32(out, h.option);
  put_u32(out, h.length);
  return out;
}

OptionHeader decode_option_header(ByteView b) {
  expect_size(b, kOptionHeaderSize, "option header");
  Reader r(b);
  if (r.u64() != kOptionMagic) throw CodecError("option header: bad IHAVEOPT magic");
  OptionHeader h;
  h.option = r.u32();
  h.length = r.u32();
  return h;
}

Bytes encode_option_reply(std::uint32_t option, std::uint32_t type, ByteView payload) {
  Bytes out;
  out.reserve(20 + payload.size());
  put_u64(out, kOptionReplyMagic);
  put_u32(out, option);
  put_u32(out, type);
  put_u32(out, static_cast<std::uint32_t>(payload.size()));
  out.insert(out.end(), payload.begin(), payload.end());
  return out;
}

OptionReplyHeader decode_option_reply_header(ByteView b) {
  expect_size(b, 20, "option reply header");
  Reader r(b);
  if (r.u64() != kOptionReplyMagic) throw CodecError("option reply: bad magic");
  OptionReplyHeader h;
  h.option = r.u32();
  h.type = r.u32();
  h.length = r.u32();
  return h;
}

// Export names and queries are capped by the protocol at 4096 bytes.
inline constexpr std::uint32_t kMaxStringLength = 4096;

static std::string read_string32(Reader& r, const char* what) {
  std::uint32_t len = r.u32();
  if (len > kMaxStringLength) {
    throw CodecError(fmt::format("{}: length {} exceeds {}", what, len, kMaxStringLength));
  }
  return r.string(len);
}

Bytes encode_info_request(const InfoRequest& req) {
  Bytes out;
  put_u32(out, static_cast<std::uint32_t>(req.export_name.size()));
  put_bytes(out, req.export_name);
  put_u16(out, static_cast<std::uint16_t>(req.info_types.size()));
  for (auto t : req.info_types) put_u16(out, t);
  return out;
}

InfoRequest decode_info_request(ByteView payload) {
  Reader r(payload);
  InfoRequest req;
  req.export_name = read_string32(r, "export name");
  std::uint16_t n = r.u16();
  if (r.remaining() != std::size_t{n} * 2) {
    throw CodecError(fmt::format("info request: {} info types announced, {} bytes follow", n,
                                 r.remaining()));
  }
  for (std::uint16_t i = 0; i < n; ++i) req.info_types.push_back(r.u16());
  return req;
}

Bytes encode_meta_context_request(const MetaContextRequest& req) {
  Bytes out;
  put_u32(out, static_cast<std::uint32_t>(req.export_name.size()));
  put_bytes(out, req.export_name);
  put_u32(out, static_cast<std::uint32_t>(req.queries.size()));
  for (const auto& q : req.queries) {
    put_u32(out, static_cast<std::uint32_t>(q.size()));
    put_bytes(out, q);
  }
  return out;
}

MetaContextRequest decode_meta_context_request(ByteView payload) {
  Reader r(payload);
  MetaContextRequest req;
  req.export_name = read_string32(r, "export name");
  std::uint32_t n = r.u32();
  // Each query needs at least its 4-byte length: reject absurd counts early.
  if (std::size_t{n} * 4 > r.remaining()) {
    throw CodecError(fmt::format("meta context request: {} queries cannot fit in {} bytes", n,
                                 r.remaining()));
  }
  for (std::uint32_t i = 0; i < n; ++i) req.queries.push_back(read_string32(r, "query"));
  r.expect_end("meta context request");
  return req;
}

Bytes encode_rep_server(std::string_view name, std::string_view description) {
  Bytes out;
  put_u32(out, static_cast<std::uint32_t>(name.size()));
  put_bytes(out, name);
  put_bytes(out, description);
  return out;
}

Bytes encode_info_export(std::uint64_t size, std::uint16_t transmission_flags) {
  Bytes out;
  put_u16(out, kInfoExport);
  put_u64(out, size);
  put_u16(out, transmission_flags);
  return out;
}

Bytes encode_info_string(InfoType type, std::string_view s) {
  Bytes out;
  put_u16(out, type);
  put_bytes(out, s);
  return out;
}

Bytes encode_info_block_size(std::uint32_t minimum, std::uint32_t preferred,
                             std::uint32_t maximum) {
  Bytes out;
  put_u16(out, kInfoBlockSize);
  put_u32(out, minimum);
  put_u32(out, preferred);
  put_u32(out, maximum);
  return out;
}

Bytes encode_meta_context(std::uint32_t id, std::string_view name) {
  Bytes out;
  put_u32(out, id);
  put_bytes(out, name);
  return out;
}

Bytes encode_export_name_reply(std::uint64_t size, std::uint16_t flags, bool no_zeroes) {
  Bytes out;
  put_u64(out, size);
  put_u16(out, flags);
  if (!no_zeroes) out.resize(out.size() + 124, 0);
  return out;
}

Bytes encode_request(const RequestHeader& h) {
  Bytes out;
  put_u32(out, kRequestMagic);
  put_u16(out, h.flags);
  put_u16(out, h.type);
  put_u64(out, h.cookie);
  put_u64(out, h.offset);
  put_u32(out, h.length);
  return out;
}

RequestHeader decode_request(ByteView b) {
  expect_size(b, kRequestHeaderSize, "request header");
  const std::uint8_t* p = b.data();
  std::uint32_t magic = get_u32(p);
  if (magic != kRequestMagic) {
    throw CodecError(fmt::format("request: bad magic {:#010x}", magic));
  }
  RequestHeader h;
  h.flags = get_u16(p + 4);
  h.type = get_u16(p + 6);
  h.cookie = get_u64(p + 8);
  h.offset = get_u64(p + 16);
  h.length = get_u32(p + 24);
  return h;
}

void encode_simple_reply(std::uint8_t out[kSimpleReplySize], const SimpleReplyHeader& h) {
  put_u32_at(out, kSimpleReplyMagic);
  put_u32_at(out + 4, h.error);
  put_u64_at(out + 8, h.cookie);
}

SimpleReplyHeader decode_simple_reply(ByteView b) {
  expect_size(b, kSimpleReplySize, "simple reply");
  if (get_u32(b.data()) != kSimpleReplyMagic) throw CodecError("simple reply: bad magic");
  return {get_u32(b.data() + 4), get_u64(b.data() + 8)};
}

void encode_chunk_header(std::uint8_t out[kStructuredReplyHeaderSize], const ChunkHeader& h) {
  put_u32_at(out, kStructuredReplyMagic);
  put_u16_at(out + 4, h.flags);
  put_u16_at(out + 6, h.type);
  put_u64_at(out + 8, h.cookie);
  put_u32_at(out + 16, h.length);
}

ChunkHeader decode_chunk_header(ByteView b) {
  expect_size(b, kStructuredReplyHeaderSize, "structured reply header");
  if (get_u32(b.data()) != kStructuredReplyMagic) throw CodecError("structured reply: bad magic");
  return {get_u16(b.data() + 4), get_u16(b.data() + 6), get_u64(b.data() + 8),
          get_u32(b.data() + 16)};
}

Bytes encode_block_status_payload(std::uint32_t context_id, std::span<const Extent> extents) {
  Bytes out;
  out.reserve(4 + extents.size() * 8);
  put_u32(out, context_id);
  for (const auto& e : extents) {
    put_u32(out, e.length);
    put_u32(out, e.flags);
  }
  return out;
}

std::pair<std::uint32_t, std::vector<Extent>> decode_block_status_payload(ByteView payload) {
  Reader r(payload);
  std::uint32_t id = r.u32();
  if (r.remaining() == 0 || r.remaining() % 8 != 0) {
    throw CodecError("block status: descriptors must be a non-empty multiple of 8 bytes");
  }
  std::vector<Extent> extents;
  while (r.remaining() > 0) {
    Extent e;
    e.length = r.u32();
    e.flags = r.u32();
    extents.push_back(e);
  }
  return {id, std::move(extents)};
}

Bytes encode_error_payload(std::uint32_t error, std::string_view message) {
  Bytes out;
  put_u32(out, error);
  put_u16(out, static_cast<std::uint16_t>(std::min<std::size_t>(message.size(), 4096)));
  put_bytes(out, message.substr(0, 4096));
  return out;
}

std::pair<std::uint32_t, std::string> decode_error_payload(ByteView payload) {
  Reader r(payload);
  std::uint32_t err = r.u32();
  std::uint16_t len = r.u16();
  std::string msg = r.string(len);
  return {err, std::move(msg)};
}

const char* command_name(std::uint16_t type) {
  switch (type) {
    case kCmdRead: return "READ";
    case kCmdWrite: return "WRITE";
    case kCmdDisc: return "DISC";
    case kCmdFlush: return "FLUSH";
    case kCmdTrim: return "TRIM";
    case kCmdCache: return "CACHE";
    case kCmdWriteZeroes: return "WRITE_ZEROES";
    case kCmdBlockStatus: return "BLOCK_STATUS";
    default: return "UNKNOWN";
  }
}

const char* error_name(std::uint32_t nbd_error) {
  switch (nbd_error) {
    case kErrPerm: return "EPERM";
    case kErrIo: return "EIO";
    case kErrNoMem: return "ENOMEM";
    case kErrInval: return "EINVAL";
    case kErrNoSpc: return "ENOSPC";
    case kErrOverflow: return "EOVERFLOW";
    case kErrNotSup: return "ENOTSUP";
    case kErrShutdown: return "ESHUTDOWN";
    default: return "E?";
  }
}

const char* option_name(std::uint32_t option) {
  switch (option) {
    case kOptExportName: return "EXPORT_NAME";
    case kOptAbort: return "ABORT";
    case kOptList: return "LIST";
    case kOptStartTls: return "STARTTLS";
    case kOptInfo: return "INFO";
    case kOptGo: return "GO";
    case kOptStructuredReply: return "STRUCTURED_REPLY";
    case kOptListMetaContext: return "LIST_META_CONTEXT";
    case kOptSetMetaContext: return "SET_META_CONTEXT";
    default: return "UNKNOWN";
  }
}

}  // namespace fsfault::nbd
