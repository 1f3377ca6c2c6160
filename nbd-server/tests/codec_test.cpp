// Codec unit tests: every message type round-trips through encode/decode, and
// truncated, oversized, bad-magic and garbage inputs throw CodecError with a
// message that says what was wrong.
#include "nbd-server/codec.h"

#include <gtest/gtest.h>

#include <random>
#include <string>

#include "nbd-server/protocol.h"

namespace fsfault::nbd {
namespace {

ByteView view(const Bytes& b) { return ByteView(b.data(), b.size()); }

// Expects fn() to throw CodecError whose message contains `needle`.
template <typename Fn>
void expect_codec_error(Fn fn, const std::string& needle) {
  try {
    fn();
    FAIL() << "expected CodecError containing '" << needle << "'";
  } catch (const CodecError& e) {
    EXPECT_NE(std::string(e.what()).find(needle), std::string::npos)
        << "message was: " << e.what();
    EXPECT_GT(std::string(e.what()).size(), 8u) << "message should explain the problem";
  }
}

TEST(CodecPrimitives, BigEndian) {
  Bytes b;
  put_u16(b, 0x1234);
  put_u32(b, 0x89abcdef);
  put_u64(b, 0x0102030405060708ULL);
  ASSERT_EQ(b.size(), 14u);
  EXPECT_EQ(b[0], 0x12);
  EXPECT_EQ(b[1], 0x34);
  EXPECT_EQ(b[2], 0x89);
  EXPECT_EQ(b[5], 0xef);
  EXPECT_EQ(b[6], 0x01);
  EXPECT_EQ(b[13], 0x08);
  EXPECT_EQ(get_u16(b.data()), 0x1234);
  EXPECT_EQ(get_u32(b.data() + 2), 0x89abcdefu);
  EXPECT_EQ(get_u64(b.data() + 6), 0x0102030405060708ULL);
}

TEST(CodecPrimitives, ReaderUnderflowThrows) {
  Bytes b = {1, 2, 3};
  Reader r(view(b));
  EXPECT_EQ(r.u16(), 0x0102);
  expect_codec_error([&] { r.u16(); }, "truncated");
  expect_codec_error([&] { r.u32(); }, "truncated");
  expect_codec_error([&] { r.u64(); }, "truncated");
  expect_codec_error([&] { r.string(2); }, "truncated");
  EXPECT_EQ(r.string(1), "\x03");
  EXPECT_NO_THROW(r.expect_end("x"));
  Reader r2(view(b));
  expect_codec_error([&] { r2.expect_end("thing"); }, "trailing");
}

TEST(CodecGreeting, RoundTrip) {
  Bytes g = encode_greeting(kFlagFixedNewstyle | kFlagNoZeroes);
  ASSERT_EQ(g.size(), 18u);
  EXPECT_EQ(std::string(g.begin(), g.begin() + 8), "NBDMAGIC");
  EXPECT_EQ(std::string(g.begin() + 8, g.begin() + 16), "IHAVEOPT");
  EXPECT_EQ(decode_greeting(view(g)), kFlagFixedNewstyle | kFlagNoZeroes);
}

TEST(CodecGreeting, Rejects) {
  Bytes g = encode_greeting(1);
  Bytes shortg(g.begin(), g.end() - 1);
  expect_codec_error([&] { decode_greeting(view(shortg)); }, "greeting: expected 18 bytes, got 17");
  Bytes bad = g;
  bad[0] ^= 0xff;
  expect_codec_error([&] { decode_greeting(view(bad)); }, "NBDMAGIC");
  Bytes oldstyle = g;
  // Oldstyle servers send 0x00420281861253 instead of IHAVEOPT.
  for (int i = 8; i < 16; ++i) oldstyle[i] = 0;
  expect_codec_error([&] { decode_greeting(view(oldstyle)); }, "newstyle");
  Bytes longer = g;
  longer.push_back(0);
  expect_codec_error([&] { decode_greeting(view(longer)); }, "expected 18 bytes");
}

TEST(CodecOptionHeader, RoundTrip) {
  OptionHeader h{kOptGo, 1234};
  Bytes b = encode_option_header(h);
  ASSERT_EQ(b.size(), kOptionHeaderSize);
  OptionHeader d = decode_option_header(view(b));
  EXPECT_EQ(d.option, kOptGo);
  EXPECT_EQ(d.length, 1234u);
}

TEST(CodecOptionHeader, Rejects) {
  Bytes b = encode_option_header({kOptList, 0});
  Bytes trunc(b.begin(), b.begin() + 10);
  expect_codec_error([&] { decode_option_header(view(trunc)); }, "option header: expected 16");
  Bytes bad = b;
  bad[3] = 'X';
  expect_codec_error([&] { decode_option_header(view(bad)); }, "IHAVEOPT");
}

TEST(CodecOptionReply, RoundTrip) {
  Bytes payload = {9, 8, 7};
  Bytes b = encode_option_reply(kOptInfo, kRepInfo, view(payload));
  ASSERT_EQ(b.size(), 23u);
  OptionReplyHeader h = decode_option_reply_header(ByteView(b.data(), 20));
  EXPECT_EQ(h.option, kOptInfo);
  EXPECT_EQ(h.type, kRepInfo);
  EXPECT_EQ(h.length, 3u);
  EXPECT_EQ(Bytes(b.begin() + 20, b.end()), payload);

  Bytes err = encode_option_reply(kOptGo, kRepErrUnknown);
  OptionReplyHeader he = decode_option_reply_header(view(err));
  EXPECT_EQ(he.type, kRepErrUnknown);
  EXPECT_EQ(he.length, 0u);
  EXPECT_TRUE(he.type & kRepErrBit);
}

TEST(CodecOptionReply, Rejects) {
  Bytes b = encode_option_reply(kOptGo, kRepAck);
  Bytes bad = b;
  bad[7] ^= 1;
  expect_codec_error([&] { decode_option_reply_header(view(bad)); }, "bad magic");
  Bytes trunc(b.begin(), b.begin() + 19);
  expect_codec_error([&] { decode_option_reply_header(view(trunc)); }, "expected 20 bytes");
}

TEST(CodecInfoRequest, RoundTrip) {
  InfoRequest r{"disk-one", {kInfoName, kInfoDescription, kInfoBlockSize}};
  Bytes b = encode_info_request(r);
  EXPECT_EQ(b.size(), 4u + 8 + 2 + 6);
  InfoRequest d = decode_info_request(view(b));
  EXPECT_EQ(d.export_name, "disk-one");
  EXPECT_EQ(d.info_types, r.info_types);

  InfoRequest empty{"", {}};
  InfoRequest de = decode_info_request(view(encode_info_request(empty)));
  EXPECT_EQ(de.export_name, "");
  EXPECT_TRUE(de.info_types.empty());

  // The longest legal name (4096 bytes) still decodes.
  InfoRequest big{std::string(4096, 'n'), {kInfoExport}};
  EXPECT_EQ(decode_info_request(view(encode_info_request(big))).export_name.size(), 4096u);
}

TEST(CodecInfoRequest, Rejects) {
  Bytes b = encode_info_request({"disk", {kInfoName}});
  // Every strict prefix is truncated.
  for (std::size_t n = 0; n < b.size(); ++n) {
    Bytes p(b.begin(), b.begin() + static_cast<long>(n));
    EXPECT_THROW(decode_info_request(view(p)), CodecError) << "prefix " << n;
  }
  expect_codec_error([&] { decode_info_request(ByteView(b.data(), 2)); }, "truncated");
  // Name length beyond the message.
  Bytes lying = b;
  lying[3] = 200;
  expect_codec_error([&] { decode_info_request(view(lying)); }, "truncated");
  // A 4097-byte name is over the protocol's limit.
  Bytes over = encode_info_request({std::string(4097, 'x'), {}});
  expect_codec_error([&] { decode_info_request(view(over)); }, "length 4097 exceeds 4096");
  // Info count disagreeing with the bytes that follow.
  Bytes extra = b;
  extra.push_back(0);
  expect_codec_error([&] { decode_info_request(view(extra)); }, "info types announced");
  Bytes many = encode_info_request({"d", {}});
  many[many.size() - 1] = 0xff;  // 255 types announced, none follow
  expect_codec_error([&] { decode_info_request(view(many)); }, "255 info types");
}

TEST(CodecMetaContextRequest, RoundTrip) {
  MetaContextRequest r{"exp", {"base:allocation", "qemu:dirty-bitmap:x", ""}};
  Bytes b = encode_meta_context_request(r);
  MetaContextRequest d = decode_meta_context_request(view(b));
  EXPECT_EQ(d.export_name, "exp");
  EXPECT_EQ(d.queries, r.queries);

  MetaContextRequest none{"", {}};
  MetaContextRequest dn = decode_meta_context_request(view(encode_meta_context_request(none)));
  EXPECT_EQ(dn.export_name, "");
  EXPECT_TRUE(dn.queries.empty());
}

TEST(CodecMetaContextRequest, Rejects) {
  Bytes b = encode_meta_context_request({"exp", {"base:allocation"}});
  for (std::size_t n = 0; n < b.size(); ++n) {
    Bytes p(b.begin(), b.begin() + static_cast<long>(n));
    EXPECT_THROW(decode_meta_context_request(view(p)), CodecError) << "prefix " << n;
  }
  Bytes trailing = b;
  trailing.push_back(7);
  expect_codec_error([&] { decode_meta_context_request(view(trailing)); }, "trailing");
  // An absurd query count is rejected before any allocation.
  Bytes absurd;
  put_u32(absurd, 0);
  put_u32(absurd, 0xffffffff);
  expect_codec_error([&] { decode_meta_context_request(view(absurd)); }, "cannot fit");
  // Oversized query and export name.
  Bytes bigq = encode_meta_context_request({"e", {std::string(4097, 'q')}});
  expect_codec_error([&] { decode_meta_context_request(view(bigq)); }, "query: length 4097");
  Bytes bign = encode_meta_context_request({std::string(4097, 'e'), {}});
  expect_codec_error([&] { decode_meta_context_request(view(bign)); },
                     "export name: length 4097");
}

TEST(CodecReplyPayloads, Encodings) {
  Bytes s = encode_rep_server("name", "desc");
  Reader rs(view(s));
  EXPECT_EQ(rs.u32(), 4u);
  EXPECT_EQ(rs.string(4), "name");
  EXPECT_EQ(rs.string(4), "desc");
  EXPECT_EQ(rs.remaining(), 0u);

  Bytes e = encode_info_export(0x123456789aULL, kTxHasFlags | kTxSendFlush);
  Reader re(view(e));
  EXPECT_EQ(re.u16(), kInfoExport);
  EXPECT_EQ(re.u64(), 0x123456789aULL);
  EXPECT_EQ(re.u16(), kTxHasFlags | kTxSendFlush);
  EXPECT_EQ(re.remaining(), 0u);

  Bytes n = encode_info_string(kInfoDescription, "hello");
  Reader rn(view(n));
  EXPECT_EQ(rn.u16(), kInfoDescription);
  EXPECT_EQ(rn.string(5), "hello");
  EXPECT_EQ(rn.remaining(), 0u);

  Bytes bs = encode_info_block_size(1, 4096, 32 << 20);
  Reader rb(view(bs));
  EXPECT_EQ(rb.u16(), kInfoBlockSize);
  EXPECT_EQ(rb.u32(), 1u);
  EXPECT_EQ(rb.u32(), 4096u);
  EXPECT_EQ(rb.u32(), 32u << 20);
  EXPECT_EQ(rb.remaining(), 0u);

  Bytes mc = encode_meta_context(7, "base:allocation");
  Reader rm(view(mc));
  EXPECT_EQ(rm.u32(), 7u);
  EXPECT_EQ(rm.string(15), "base:allocation");
  EXPECT_EQ(rm.remaining(), 0u);

  Bytes en = encode_export_name_reply(1 << 20, kTxHasFlags, false);
  EXPECT_EQ(en.size(), 8u + 2 + 124);
  Reader ren(view(en));
  EXPECT_EQ(ren.u64(), 1u << 20);
  EXPECT_EQ(ren.u16(), kTxHasFlags);
  for (std::size_t i = 10; i < en.size(); ++i) EXPECT_EQ(en[i], 0);
  EXPECT_EQ(encode_export_name_reply(1 << 20, kTxHasFlags, true).size(), 10u);
}

TEST(CodecRequest, RoundTrip) {
  RequestHeader h{kCmdFlagFua | kCmdFlagNoHole, kCmdWriteZeroes, 0xdeadbeefcafef00dULL,
                  0xfffffffffffff000ULL, 0xffffffffu};
  Bytes b = encode_request(h);
  ASSERT_EQ(b.size(), kRequestHeaderSize);
  EXPECT_EQ(get_u32(b.data()), kRequestMagic);
  RequestHeader d = decode_request(view(b));
  EXPECT_EQ(d.flags, h.flags);
  EXPECT_EQ(d.type, h.type);
  EXPECT_EQ(d.cookie, h.cookie);
  EXPECT_EQ(d.offset, h.offset);
  EXPECT_EQ(d.length, h.length);
}

TEST(CodecRequest, Rejects) {
  Bytes b = encode_request({0, kCmdRead, 1, 0, 512});
  Bytes bad = b;
  bad[0] = 0x67;  // a reply magic's first byte
  expect_codec_error([&] { decode_request(view(bad)); }, "request: bad magic 0x67609513");
  Bytes trunc(b.begin(), b.end() - 1);
  expect_codec_error([&] { decode_request(view(trunc)); }, "request header: expected 28 bytes, got 27");
  Bytes longer = b;
  longer.push_back(0);
  expect_codec_error([&] { decode_request(view(longer)); }, "got 29");
}

TEST(CodecSimpleReply, RoundTrip) {
  std::uint8_t out[kSimpleReplySize];
  encode_simple_reply(out, {kErrNoSpc, 0x1122334455667788ULL});
  EXPECT_EQ(get_u32(out), kSimpleReplyMagic);
  SimpleReplyHeader d = decode_simple_reply(ByteView(out, sizeof out));
  EXPECT_EQ(d.error, kErrNoSpc);
  EXPECT_EQ(d.cookie, 0x1122334455667788ULL);
  out[0] ^= 1;
  expect_codec_error([&] { decode_simple_reply(ByteView(out, sizeof out)); }, "simple reply: bad magic");
  expect_codec_error([&] { decode_simple_reply(ByteView(out, 15)); }, "expected 16");
}

TEST(CodecChunkHeader, RoundTrip) {
  std::uint8_t out[kStructuredReplyHeaderSize];
  ChunkHeader h{kReplyFlagDone, kReplyBlockStatus, 42, 1234567};
  encode_chunk_header(out, h);
  EXPECT_EQ(get_u32(out), kStructuredReplyMagic);
  ChunkHeader d = decode_chunk_header(ByteView(out, sizeof out));
  EXPECT_EQ(d.flags, h.flags);
  EXPECT_EQ(d.type, h.type);
  EXPECT_EQ(d.cookie, h.cookie);
  EXPECT_EQ(d.length, h.length);
  out[2] ^= 0x40;
  expect_codec_error([&] { decode_chunk_header(ByteView(out, sizeof out)); }, "structured reply: bad magic");
  expect_codec_error([&] { decode_chunk_header(ByteView(out, 4)); }, "expected 20 bytes, got 4");
}

TEST(CodecBlockStatus, RoundTrip) {
  std::vector<Extent> ex = {{4096, kStateHole | kStateZero}, {512, 0}, {0xfffffe00u, kStateZero}};
  Bytes b = encode_block_status_payload(3, ex);
  EXPECT_EQ(b.size(), 4u + 3 * 8);
  auto [id, d] = decode_block_status_payload(view(b));
  EXPECT_EQ(id, 3u);
  EXPECT_EQ(d, ex);
}

TEST(CodecBlockStatus, Rejects) {
  std::vector<Extent> ex = {{4096, 0}};
  Bytes b = encode_block_status_payload(1, ex);
  Bytes onlyid(b.begin(), b.begin() + 4);
  expect_codec_error([&] { decode_block_status_payload(view(onlyid)); }, "non-empty multiple of 8");
  Bytes ragged = b;
  ragged.push_back(0);
  expect_codec_error([&] { decode_block_status_payload(view(ragged)); }, "multiple of 8");
  expect_codec_error([&] { decode_block_status_payload(ByteView(b.data(), 3)); }, "truncated");
}

TEST(CodecErrorPayload, RoundTrip) {
  Bytes b = encode_error_payload(kErrInval, "offset past end");
  auto [err, msg] = decode_error_payload(view(b));
  EXPECT_EQ(err, kErrInval);
  EXPECT_EQ(msg, "offset past end");
  auto [err2, msg2] = decode_error_payload(view(encode_error_payload(kErrIo, "")));
  EXPECT_EQ(err2, kErrIo);
  EXPECT_EQ(msg2, "");
  // Messages are capped, never wrapped around the 16-bit length.
  Bytes huge = encode_error_payload(kErrIo, std::string(70000, 'm'));
  auto [err3, msg3] = decode_error_payload(view(huge));
  EXPECT_EQ(err3, kErrIo);
  EXPECT_EQ(msg3.size(), 4096u);
  EXPECT_EQ(huge.size(), 6u + 4096);
}

TEST(CodecErrorPayload, Rejects) {
  Bytes b = encode_error_payload(kErrInval, "abc");
  Bytes trunc(b.begin(), b.end() - 1);
  expect_codec_error([&] { decode_error_payload(view(trunc)); }, "truncated");
  expect_codec_error([&] { decode_error_payload(ByteView(b.data(), 5)); }, "truncated");
}

TEST(CodecNames, KnownAndUnknown) {
  EXPECT_STREQ(command_name(kCmdRead), "READ");
  EXPECT_STREQ(command_name(kCmdBlockStatus), "BLOCK_STATUS");
  EXPECT_STREQ(command_name(999), "UNKNOWN");
  EXPECT_STREQ(option_name(kOptGo), "GO");
  EXPECT_STREQ(option_name(kOptSetMetaContext), "SET_META_CONTEXT");
  EXPECT_STREQ(option_name(12345), "UNKNOWN");
}

// Random garbage must never crash a decoder or make it read out of bounds:
// each decoder either throws CodecError or returns a value.
TEST(CodecGarbage, DecodersSurviveRandomInput) {
  std::mt19937 rng(12345);
  for (int iter = 0; iter < 3000; ++iter) {
    std::size_t n = rng() % 64;
    Bytes b(n);
    for (auto& c : b) c = static_cast<std::uint8_t>(rng());
    // Sometimes make the length prefixes small so decoding goes deeper.
    if (n >= 4 && (iter & 1)) b[0] = b[1] = b[2] = 0, b[3] %= 8;
    auto v = view(b);
    auto tolerate = [&](auto fn) {
      try {
        fn();
      } catch (const CodecError&) {
      }
    };
    tolerate([&] { decode_greeting(v); });
    tolerate([&] { decode_option_header(v); });
    tolerate([&] { decode_option_reply_header(v); });
    tolerate([&] { decode_info_request(v); });
    tolerate([&] { decode_meta_context_request(v); });
    tolerate([&] { decode_request(v); });
    tolerate([&] { decode_simple_reply(v); });
    tolerate([&] { decode_chunk_header(v); });
    tolerate([&] { decode_block_status_payload(v); });
    tolerate([&] { decode_error_payload(v); });
  }
  // Exact-size garbage fails on magic, with a message naming it.
  Bytes g28(28, 0xa5);
  expect_codec_error([&] { decode_request(view(g28)); }, "bad magic 0xa5a5a5a5");
  Bytes g16(16, 0);
  expect_codec_error([&] { decode_option_header(view(g16)); }, "IHAVEOPT");
}

}  // namespace
}  // namespace fsfault::nbd
