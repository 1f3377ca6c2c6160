// NBD message codec: bytes <-> structs, nothing else. No sockets, no storage,
// no faults. Every decoder validates lengths and magics and throws CodecError
// on malformed input, so a caller can close just that connection.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include "nbd-server/protocol.h"

namespace fsfault::nbd {

class CodecError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

using Bytes = std::vector<std::uint8_t>;
using ByteView = std::span<const std::uint8_t>;

// Big-endian primitives.
void put_u16(Bytes& out, std::uint16_t v);
void put_u32(Bytes& out, std::uint32_t v);
void put_u64(Bytes& out, std::uint64_t v);
void put_bytes(Bytes& out, std::string_view s);
std::uint16_t get_u16(const std::uint8_t* p);
std::uint32_t get_u32(const std::uint8_t* p);
std::uint64_t get_u64(const std::uint8_t* p);

// A cursor that reads big-endian fields and throws CodecError on underflow.
class Reader {
 public:
  explicit Reader(ByteView data) : data_(data) {}
  std::uint16_t u16();
  std::uint32_t u32();
  std::uint64_t u64();
  std::string string(std::size_t len);
  std::size_t remaining() const { return data_.size() - pos_; }
  void expect_end(const char* what) const;

 private:
  void need(std::size_t n) const;
  ByteView data_;
  std::size_t pos_ = 0;
};

// ---- Handshake -----------------------------------------------------------

// Server greeting: NBDMAGIC, IHAVEOPT, handshake flags.
Bytes encode_greeting(std::uint16_t handshake_flags);
std::uint16_t decode_greeting(ByteView b);  // for tests and clients

// Option header sent by the client: IHAVEOPT, option, length.
struct OptionHeader {
  std::uint32_t option = 0;
  std::uint32_t length = 0;
};
Bytes encode_option_header(const OptionHeader& h);
OptionHeader decode_option_header(ByteView b);  // exactly kOptionHeaderSize bytes

// Option reply: magic, option, type, length, payload.
struct OptionReplyHeader {
  std::uint32_t option = 0;
  std::uint32_t type = 0;
  std::uint32_t length = 0;
};
Bytes encode_option_reply(std::uint32_t option, std::uint32_t type, ByteView payload = {});
OptionReplyHeader decode_option_reply_header(ByteView b);  // 20 bytes

// NBD_OPT_INFO / NBD_OPT_GO payload.
struct InfoRequest {
  std::string export_name;
  std::vector<std::uint16_t> info_types;
};
Bytes encode_info_request(const InfoRequest& r);
InfoRequest decode_info_request(ByteView payload);

// NBD_OPT_LIST_META_CONTEXT / NBD_OPT_SET_META_CONTEXT payload.
struct MetaContextRequest {
  std::string export_name;
  std::vector<std::string> queries;
};
Bytes encode_meta_context_request(const MetaContextRequest& r);
MetaContextRequest decode_meta_context_request(ByteView payload);

// Reply payloads.
Bytes encode_rep_server(std::string_view name, std::string_view description);
Bytes encode_info_export(std::uint64_t size, std::uint16_t transmission_flags);
Bytes encode_info_string(InfoType type, std::string_view s);  // NAME, DESCRIPTION
Bytes encode_info_block_size(std::uint32_t minimum, std::uint32_t preferred, std::uint32_t maximum);
Bytes encode_meta_context(std::uint32_t id, std::string_view name);

// NBD_OPT_EXPORT_NAME's answer: size, flags, optional 124 zero bytes.
Bytes encode_export_name_reply(std::uint64_t size, std::uint16_t flags, bool no_zeroes);

// ---- Transmission --------------------------------------------------------

struct RequestHeader {
  std::uint16_t flags = 0;
  std::uint16_t type = 0;
  std::uint64_t cookie = 0;
  std::uint64_t offset = 0;
  std::uint32_t length = 0;
};
Bytes encode_request(const RequestHeader& r);
RequestHeader decode_request(ByteView b);  // exactly kRequestHeaderSize bytes; checks magic

struct SimpleReplyHeader {
  std::uint32_t error = 0;
  std::uint64_t cookie = 0;
};
void encode_simple_reply(std::uint8_t out[kSimpleReplySize], const SimpleReplyHeader& h);
SimpleReplyHeader decode_simple_reply(ByteView b);

struct ChunkHeader {
  std::uint16_t flags = 0;
  std::uint16_t type = 0;
  std::uint64_t cookie = 0;
  std::uint32_t length = 0;  // payload bytes after this header
};
void encode_chunk_header(std::uint8_t out[kStructuredReplyHeaderSize], const ChunkHeader& h);
ChunkHeader decode_chunk_header(ByteView b);

struct Extent {
  std::uint32_t length = 0;
  std::uint32_t flags = 0;
  bool operator==(const Extent&) const = default;
};
Bytes encode_block_status_payload(std::uint32_t context_id, std::span<const Extent> extents);
std::pair<std::uint32_t, std::vector<Extent>> decode_block_status_payload(ByteView payload);

Bytes encode_error_payload(std::uint32_t error, std::string_view message);
std::pair<std::uint32_t, std::string> decode_error_payload(ByteView payload);

const char* command_name(std::uint16_t type);
const char* error_name(std::uint32_t nbd_error);  // "EINVAL", ...; "E?" when not an NBD error
const char* option_name(std::uint32_t option);

}  // namespace fsfault::nbd
