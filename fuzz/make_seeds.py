#!/usr/bin/env python3
"""Writes the binary seed inputs of negotiation_fuzzer and transmission_fuzzer
into fuzz/corpus/ (the text seeds of the other targets are committed as is).
Run from anywhere: python3 fuzz/make_seeds.py"""
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
IHAVEOPT = 0x49484156454F5054
REQ_MAGIC = 0x25609513
OPT = dict(EXPORT_NAME=1, ABORT=2, LIST=3, STARTTLS=5, INFO=6, GO=7, STRUCTURED_REPLY=8,
           LIST_META_CONTEXT=9, SET_META_CONTEXT=10)
CMD = dict(READ=0, WRITE=1, DISC=2, FLUSH=3, TRIM=4, CACHE=5, WRITE_ZEROES=6, BLOCK_STATUS=7)


def opt(code, payload=b""):
    return struct.pack(">QII", IHAVEOPT, code, len(payload)) + payload


def s32(s):
    b = s.encode()
    return struct.pack(">I", len(b)) + b


def info(name, types=()):
    return s32(name) + struct.pack(">H", len(types)) + b"".join(struct.pack(">H", t) for t in types)


def meta(name, queries):
    return s32(name) + struct.pack(">I", len(queries)) + b"".join(s32(q) for q in queries)


def req(cmd, offset=0, length=0, flags=0, cookie=1, payload=b""):
    return struct.pack(">IHHQQI", REQ_MAGIC, flags, CMD[cmd], cookie, offset, length) + payload


FLAGS = struct.pack(">I", 3)  # fixed newstyle + no zeroes

negotiation = {
    "go": FLAGS + opt(OPT["GO"], info("disk")),
    "export_name": FLAGS + opt(OPT["EXPORT_NAME"], b"disk"),
    "export_name_zeroes": struct.pack(">I", 1) + opt(OPT["EXPORT_NAME"], b""),
    "list_info_go": FLAGS + opt(OPT["LIST"]) + opt(OPT["INFO"], info("ro", (1, 2, 3)))
    + opt(OPT["GO"], info("", (0,))),
    "structured_meta": FLAGS + opt(OPT["STRUCTURED_REPLY"])
    + opt(OPT["LIST_META_CONTEXT"], meta("disk", []))
    + opt(OPT["LIST_META_CONTEXT"], meta("disk", ["base:"]))
    + opt(OPT["SET_META_CONTEXT"], meta("disk", ["base:allocation", "qemu:dirty-bitmap:x"]))
    + opt(OPT["GO"], info("disk")),
    "errors": FLAGS + opt(OPT["STARTTLS"]) + opt(OPT["LIST"], b"x") + opt(OPT["GO"], info("nope"))
    + opt(OPT["SET_META_CONTEXT"], meta("disk", ["base:allocation"])) + opt(99, b"abc")
    + opt(OPT["INFO"], b"\x00\x00\x00\x10short") + opt(OPT["ABORT"]),
    "oversized": FLAGS + struct.pack(">QII", IHAVEOPT, OPT["INFO"], 9000) + b"\0" * 9000
    + opt(OPT["ABORT"]),
}

# First byte = mode: bit0 structured, bit1 base:allocation, bit2 EXPORT_NAME,
# bit3 read-only export, bit4 three workers.
W = bytes(range(256)) * 16  # 4 KiB payload
transmission = {
    "simple_rw": b"\x00" + req("WRITE", 4096, 4096, payload=W) + req("READ", 4096, 4096, cookie=2)
    + req("FLUSH", cookie=3) + req("TRIM", 8192, 4096, cookie=4) + req("WRITE_ZEROES", 0, 512, 2, 5)
    + req("CACHE", 0, 65536, cookie=6) + req("DISC"),
    "structured_status": b"\x03" + req("BLOCK_STATUS", 0, 1 << 20) + req("BLOCK_STATUS", 0, 8192, 8, 2)
    + req("READ", 0, 512, 4, 3) + req("WRITE_ZEROES", 0, 4096, 16, 4) + req("DISC"),
    "faulted_ranges": b"\x11" + req("READ", 16 * 512, 4096) + req("READ", 100 * 512, 8192, cookie=2)
    + req("READ", 300 * 512, 512, cookie=3) + req("WRITE", 400 * 512, 1024, cookie=4, payload=W[:1024])
    + req("WRITE", 400 * 512, 1024, cookie=5, payload=W[:1024]) + req("READ", 600 * 512, 4096, cookie=6)
    + req("FLUSH", cookie=7) + req("FLUSH", cookie=8) + req("FLUSH", cookie=9),
    "edges": b"\x05" + req("READ", (1 << 20) - 512, 512) + req("READ", 1 << 20, 1, cookie=2)
    + req("WRITE", (1 << 20) - 1, 2, cookie=3, payload=b"ab") + req("READ", 0, 0, cookie=4)
    + req("READ", 0, 33554433, cookie=5) + req("WRITE", 0, 40000000, cookie=6) + req(
        "READ", 0, 512, 0xFFFF, 7) + req("BLOCK_STATUS", 0, 0, cookie=8) + req("READ", 2**64 - 512, 1024, cookie=9),
    "readonly": b"\x09" + req("WRITE", 0, 512, payload=W[:512]) + req("TRIM", 0, 512, cookie=2)
    + req("READ", 0, 4096, cookie=3) + req("READ", 2040 * 512, 512, cookie=4),
    "disconnect_fault": b"\x01" + req("READ", 2040 * 512, 512) + req("READ", 0, 512, cookie=2),
}


def write_all(target, seeds):
    d = os.path.join(HERE, "corpus", target)
    os.makedirs(d, exist_ok=True)
    for name, data in seeds.items():
        with open(os.path.join(d, name), "wb") as f:
            f.write(data)


write_all("negotiation_fuzzer", negotiation)
write_all("transmission_fuzzer", transmission)
