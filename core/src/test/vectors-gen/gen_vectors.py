#!/usr/bin/env python3
"""Generates the envelope test vectors in core/src/test/resources/vectors/.

The vectors are written with Python's `msgpack` package, an encoder independent of the Java code under
test, plus a few hand-assembled byte sequences (non-minimal encodings, bombs, truncations). See
docs/test-vectors.md for the manifest format.

Re-run (from the repository root; the build itself never needs Python):

    python3 -m venv /tmp/vgen
    /tmp/vgen/bin/pip install msgpack==1.1.2          # or: pip install --no-index <path to msgpack-*.whl>
    /tmp/vgen/bin/python core/src/test/vectors-gen/gen_vectors.py

The script deletes the old *.msgpack files and manifest.json in the output directory and rewrites them; the
output is deterministic (same script and msgpack version -> same bytes), so `git diff` shows real changes only.
"""

import base64
import json
import os
import struct
import sys

import msgpack

OUT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "resources", "vectors"))

ID1 = "0190f5a2-7c41-7a3b-9d2e-4f1c8b6a0e57"
ID2 = "0190f5a2-7c42-7b00-8c11-2a3b4c5d6e7f"
ID3 = "0190f5a2-7c43-7c10-a000-000000000001"
TS = 1720000000000          # 2024-07-03T09:46:40Z
DEADLINE = 1720000030000
TRACEPARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"

ALL_BYTES = bytes(range(256))
BIG_BLOB = bytes((i * 7 + 3) % 256 for i in range(70000))   # > 65535: bin32


class Raw:
    """Bytes spliced verbatim into the output instead of being packed."""

    def __init__(self, data):
        self.data = data


def pack(value):
    if isinstance(value, Raw):
        return value.data
    return msgpack.packb(value, use_bin_type=True)


def pack_map(pairs):
    """A map from a list of (key, value) pairs, in that order; keys or values may be Raw."""
    p = msgpack.Packer(use_bin_type=True)
    out = bytearray(p.pack_map_header(len(pairs)))
    for k, v in pairs:
        out += pack(k)
        out += pack(v)
    return bytes(out)


def b64(data):
    return base64.b64encode(data).decode("ascii")


def jsonable(value):
    """Expected decoded value in manifest form: bytes -> {"$bin": base64}."""
    if isinstance(value, (bytes, bytearray)):
        return {"$bin": b64(value)}
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    return value


# ---------------------------------------------------------------------------------------------- base envelopes

def inbound_min():
    return [("v", 1), ("id", ID1), ("kind", "inbound"), ("correlation_id", ID1), ("platform", "web"),
            ("channel_id", "chan-1"), ("enqueued_at", TS), ("user_id", "user-1"), ("content", "hello")]


def outbound_min():
    return [("v", 1), ("id", ID2), ("kind", "outbound"), ("correlation_id", ID1), ("platform", "web"),
            ("channel_id", "chan-1"), ("enqueued_at", TS), ("type", "message"), ("in_reply_to", ID1),
            ("content", "hello back")]


def tool_request_min():
    return [("v", 1), ("id", ID3), ("kind", "tool_request"), ("correlation_id", ID3), ("enqueued_at", TS),
            ("tool", "search"), ("args", {}), ("reply_to", "sg:stream:tools:reply:worker-1")]


def tool_reply_min():
    return [("v", 1), ("id", ID2), ("kind", "tool_reply"), ("correlation_id", ID3), ("enqueued_at", TS),
            ("ok", True), ("result", None)]


def expect_of(pairs):
    """Expected decoded fields for an envelope built only from plain (non-Raw) known keys."""
    exp = {}
    for k, v in pairs:
        if isinstance(v, Raw):
            raise ValueError("expect_of cannot interpret Raw values")
        if v is None:
            continue    # nil reads as absent (valid vectors only use nil on optional keys)
        if k == "attachments":
            exp[k] = [{"name": a["name"], "mime": a["mime"], "data": b64(a["data"])} for a in v]
        elif k in ("metadata", "args", "result"):
            if k == "metadata" and v == {}:
                continue
            exp[k] = jsonable(v)
        elif k == "headers" and v == {}:
            continue
        else:
            exp[k] = v
    if exp.get("kind") == "outbound" and "message_key" not in exp:
        exp["message_key"] = exp["in_reply_to"]
    return exp


def without(pairs, key):
    assert any(k == key for k, _ in pairs), key
    return [(k, v) for k, v in pairs if k != key]


def replaced(pairs, key, value):
    assert any(k == key for k, _ in pairs), key
    return [(k, value if k == key else v) for k, v in pairs]


# ---------------------------------------------------------------------------------------------- vector list

vectors = []   # (name, bytes, manifest entry)


def valid(name, description, data_or_pairs, kind, expect=None, extra=None, canonical=False):
    if isinstance(data_or_pairs, list):
        data = pack_map(data_or_pairs)
        if expect is None:
            expect = expect_of(data_or_pairs)
    else:
        data = data_or_pairs
    entry = {"file": name + ".msgpack", "description": description, "valid": True, "kind": kind,
             "canonical": canonical, "expect": expect}
    if extra:
        entry["extra"] = {k: v.hex() for k, v in extra.items()}
    vectors.append((name, data, entry))


def invalid(name, description, data_or_pairs, error="malformed", key=None, max_bytes=None):
    data = pack_map(data_or_pairs) if isinstance(data_or_pairs, list) else data_or_pairs
    entry = {"file": name + ".msgpack", "description": description, "valid": False, "error": error}
    if key is not None:
        entry["offending_key"] = key
    if max_bytes is not None:
        entry["max_bytes"] = max_bytes
    vectors.append((name, data, entry))


# --- valid: each kind, minimal and full

valid("inbound_minimal", "inbound with only the required keys", inbound_min(), "inbound", canonical=True)

metadata_nested = {
    "locale": "en-GB",
    "retries": 3,
    "score": 0.25,
    "flags": [True, False, None],
    "nested": {"level2": {"level3": [1, "two", {"four": 4}], "empty_map": {}, "empty_list": []}},
    "negative": -42,
    "blob": b"\x00\x01\xfe\xff",
}
inbound_full_pairs = [
    ("v", 1), ("id", ID1), ("kind", "inbound"), ("correlation_id", "client-corr-7"), ("platform", "webhook"),
    ("channel_id", "chan-42"), ("enqueued_at", TS), ("deadline", DEADLINE),
    ("headers", {"traceparent": TRACEPARENT, "x-tenant": "acme"}),
    ("user_id", "user-9"), ("content", "see attached"),
    ("attachments", [{"name": "all-bytes.bin", "mime": "application/octet-stream", "data": ALL_BYTES},
                     {"name": "empty.txt", "mime": "text/plain", "data": b""}]),
    ("reply_to", "sg:sync:reply:abc"),
    ("metadata", metadata_nested),
]
valid("inbound_full", "inbound with every optional key: deadline, headers, binary attachments, reply_to, "
      "nested metadata", inbound_full_pairs, "inbound", canonical=True)

valid("outbound_minimal", "outbound without message_key (decoders default it to in_reply_to)", outbound_min(),
      "outbound")
outbound_full_pairs = [
    ("v", 1), ("id", ID2), ("kind", "outbound"), ("correlation_id", ID1), ("platform", "web"),
    ("channel_id", "chan-1"), ("enqueued_at", TS), ("deadline", DEADLINE),
    ("headers", {"traceparent": TRACEPARENT}),
    ("type", "message"), ("in_reply_to", ID1), ("content", "here is the file"),
    ("attachments", [{"name": "big.bin", "mime": "application/octet-stream", "data": BIG_BLOB}]),
    ("message_key", ID1 + ":message"),
]
valid("outbound_full", "outbound with deadline, headers, a 70000-byte (bin32) attachment and message_key",
      outbound_full_pairs, "outbound", canonical=True)

valid("tool_request_minimal", "tool_request with empty args and no platform/channel", tool_request_min(),
      "tool_request", canonical=True)
tool_request_full_pairs = [
    ("v", 1), ("id", ID3), ("kind", "tool_request"), ("correlation_id", ID1), ("platform", "web"),
    ("channel_id", "chan-1"), ("enqueued_at", TS), ("deadline", DEADLINE),
    ("headers", {"traceparent": TRACEPARENT}),
    ("tool", "search"),
    ("args", {"query": "redis streams", "limit": 10, "threshold": 0.5, "filters": {"lang": ["en", "de"]},
              "cursor": None, "raw": b"\x00\xff", "offset": -5}),
    ("reply_to", "sg:stream:tools:reply:worker-1"),
]
valid("tool_request_full", "tool_request with platform, channel, deadline, headers and nested args",
      tool_request_full_pairs, "tool_request", canonical=True)

tool_reply_ok_pairs = [
    ("v", 1), ("id", ID2), ("kind", "tool_reply"), ("correlation_id", ID1), ("platform", "web"),
    ("channel_id", "chan-1"), ("enqueued_at", TS), ("deadline", DEADLINE),
    ("headers", {"traceparent": TRACEPARENT}),
    ("ok", True), ("result", {"hits": [{"title": "Redis", "score": 0.9}], "total": 1, "next": None}),
]
valid("tool_reply_ok", "successful tool_reply with a map result", tool_reply_ok_pairs, "tool_reply",
      canonical=True)
valid("tool_reply_ok_nil_result", "successful tool_reply whose result is nil", tool_reply_min(), "tool_reply",
      canonical=True)
valid("tool_reply_ok_no_result", "successful tool_reply without a result key (decodes like a nil result)",
      without(tool_reply_min(), "result"), "tool_reply")
valid("tool_reply_list_result", "tool_reply whose result is an array holding bin, float, str and nil",
      replaced(tool_reply_min(), "result", [b"\x01\x02", 1.5, "x", None]), "tool_reply", canonical=True)
valid("tool_reply_str_result", "tool_reply whose result is a plain str",
      replaced(tool_reply_min(), "result", "done"), "tool_reply", canonical=True)
valid("tool_reply_error", "failed tool_reply with error {code, message}",
      [("v", 1), ("id", ID2), ("kind", "tool_reply"), ("correlation_id", ID3), ("enqueued_at", TS),
       ("ok", False), ("error", {"code": "timeout", "message": "search backend did not answer in 5s"})],
      "tool_reply", canonical=True)

# --- valid: unknown keys, preserved byte for byte

unknown = {
    "x_trace": pack({"a": [1, 2, {"b": None}], "c": "d"}),
    "x_float32": b"\xca\x3f\xc0\x00\x00",                 # float32 1.5
    "x_int32_small": b"\xd2\x00\x00\x00\x05",             # 5 written as int32 (non-minimal)
    "x_timestamp": b"\xd6\xff\x66\x85\x1e\x80",           # timestamp32 extension (type -1)
    "x_ext": b"\xd5\x05\x01\x02",                         # fixext2, application type 5
    "x_bin": pack(b"\x00\x10\x20"),
    "x_str": pack("future value"),
    "x_nil": pack(None),
}
valid("unknown_keys", "inbound with unknown keys of many types, some in non-minimal encodings; decoders keep "
      "them and re-encode each value byte for byte (extra: key -> hex of the value's bytes)",
      inbound_min() + [(k, Raw(v)) for k, v in unknown.items()], "inbound",
      expect=expect_of(inbound_min()), extra=unknown, canonical=True)

interleaved = [("x_first", Raw(pack(1)))] + inbound_min()[:4] + [("x_middle", Raw(pack([True])))] \
    + inbound_min()[4:] + [("x_last", Raw(pack({"k": "v"})))]
valid("unknown_keys_interleaved", "unknown keys before, between and after the known ones", interleaved,
      "inbound", expect=expect_of(inbound_min()),
      extra={"x_first": pack(1), "x_middle": pack([True]), "x_last": pack({"k": "v"})})

other_kind = {"tool": pack(42), "ok": pack("yes"), "args": pack([1, 2]), "result": pack({"r": 1})}
valid("other_kind_keys", "inbound carrying keys that only other kinds define, with values of types those kinds "
      "would reject: for an inbound envelope they are unknown keys, preserved, not errors",
      inbound_min() + [(k, Raw(v)) for k, v in other_kind.items()], "inbound",
      expect=expect_of(inbound_min()), extra=other_kind, canonical=True)

# --- valid: integers, unicode, empty strings, key order, encodings

I64_MAX = 2 ** 63 - 1
ints_pairs = replaced(inbound_min(), "enqueued_at", I64_MAX) + [
    ("metadata", {"u64_max": 2 ** 64 - 1, "i64_min": -2 ** 63, "i64_max": I64_MAX, "u32": 2 ** 32,
                  "i32_min": -2 ** 31, "neg_fix": -1, "zero": 0})]
ints_pairs.insert(7, ("deadline", I64_MAX - 1))
valid("ints_64bit", "64-bit integers: enqueued_at = 2^63-1 (uint64 on the wire), deadline = 2^63-2, metadata "
      "with 2^64-1 (decoded beyond int64), -2^63, 2^63-1, 2^32, -2^31", ints_pairs, "inbound", canonical=True)

noncanon = [("v", Raw(b"\xd0\x01")), ("id", ID1), ("kind", "inbound"), ("correlation_id", ID1),
            ("platform", "web"), ("channel_id", "chan-1"),
            ("enqueued_at", Raw(b"\xcf" + struct.pack(">Q", 5))), ("deadline", Raw(b"\xd2" + struct.pack(">i", 7))),
            ("user_id", Raw(b"\xda\x00\x06user-1")), ("content", "hi"),
            ("metadata", {"f32": Raw(b"\xca\x3f\xc0\x00\x00")})]
noncanon_bytes = pack_map(noncanon[:-1] + [("metadata", Raw(b"\x81" + pack("f32") + b"\xca\x3f\xc0\x00\x00"))])
valid("noncanonical_encodings", "valid but non-minimal encodings: v as int8, enqueued_at as uint64, deadline as "
      "int32, user_id as str16, a float32 in metadata (decoded as 1.5)", noncanon_bytes, "inbound",
      expect={"v": 1, "id": ID1, "kind": "inbound", "correlation_id": ID1, "platform": "web",
              "channel_id": "chan-1", "enqueued_at": 5, "deadline": 7, "user_id": "user-1", "content": "hi",
              "metadata": {"f32": 1.5}})

unicode_pairs = replaced(replaced(inbound_min(), "content", "héllo wörld — 你好 🌍 ✓ e\u0301 \u0000 end"),
                         "user_id", "пользователь-1")
unicode_pairs.insert(7, ("headers", {"x-name": "Zoë 😀"}))
unicode_pairs.append(("metadata", {"ключ": "値", "emoji🎉": ["ü", "\U0001F600"]}))
valid("unicode", "non-ASCII text (2-, 3- and 4-byte UTF-8, a combining mark, a NUL) in content, user_id, header "
      "values and metadata keys/values", unicode_pairs, "inbound", canonical=True)

empty_pairs = replaced(replaced(inbound_min(), "content", ""), "user_id", "")
empty_pairs.insert(7, ("headers", {"x-empty": ""}))
empty_pairs += [("attachments", [{"name": "", "mime": "", "data": b""}]), ("metadata", {"": ""})]
valid("inbound_empty_strings", "empty strings where they are allowed: user_id, content, a header value, "
      "attachment name/mime/data, a metadata key and value", empty_pairs, "inbound", canonical=True)
valid("outbound_empty_content", "outbound with empty content (e.g. attachment-only or typing indicator)",
      replaced(outbound_min(), "content", "") + [("message_key", ID1 + ":message")], "outbound", canonical=True)
valid("tool_request_empty_context", "tool_request with empty platform and channel_id (allowed on tool kinds)",
      tool_request_min()[:4] + [("platform", ""), ("channel_id", "")] + tool_request_min()[4:],
      "tool_request", canonical=True)

valid("optional_nil", "inbound whose optional keys are all nil: read as if absent (encoders should omit them)",
      inbound_min()[:7] + [("deadline", None), ("headers", None)] + inbound_min()[7:]
      + [("attachments", None), ("reply_to", None), ("metadata", None)], "inbound")
valid("outbound_message_key_nil", "outbound with message_key nil: defaulted to in_reply_to like an absent one",
      outbound_min() + [("message_key", None)], "outbound")
valid("tool_reply_ok_error_nil", "successful tool_reply with error nil", tool_reply_min() + [("error", None)],
      "tool_reply")

reordered = list(reversed(inbound_min()))
valid("keys_reordered", "inbound with its keys in reverse order (kind and v last)", reordered, "inbound")

long_content = "x" * 300 + "é" * 40000      # str32 on the wire: 80300 bytes
valid("long_content", "inbound whose content needs a str32 header", replaced(inbound_min(), "content",
      long_content), "inbound", canonical=True)

# --- invalid: version

v2_full = replaced(inbound_full_pairs, "v", 2)
invalid("v2_full", "a complete envelope of version 2", v2_full, "unsupported_version")
invalid("v2_only", "{v: 2} and nothing else: the version is judged before missing keys", [("v", 2)],
        "unsupported_version")
invalid("v2_odd", "version 2 with an int id and an unknown kind: still unsupported_version, not malformed",
        [("kind", "bogus"), ("id", 5), ("v", 2)], "unsupported_version")
invalid("v_huge", "v = 2^64-1", replaced(inbound_min(), "v", 2 ** 64 - 1), "unsupported_version")
invalid("v0", "v = 0", replaced(inbound_min(), "v", 0), key="v")
invalid("v_negative", "v = -1", replaced(inbound_min(), "v", -1), key="v")
invalid("v_string", "v as the str \"1\"", replaced(inbound_min(), "v", "1"), key="v")
invalid("v_float", "v as the float 1.0", replaced(inbound_min(), "v", 1.0), key="v")
invalid("v_missing", "no v key", without(inbound_min(), "v"), key="v")

# --- invalid: missing required keys

for k in ("id", "kind", "correlation_id", "enqueued_at", "platform", "channel_id", "user_id", "content"):
    invalid("inbound_missing_" + k, "inbound without " + k, without(inbound_min(), k), key=k)
for k in ("platform", "channel_id", "type", "in_reply_to", "content"):
    invalid("outbound_missing_" + k, "outbound without " + k, without(outbound_min(), k), key=k)
for k in ("tool", "args", "reply_to", "id", "enqueued_at"):
    invalid("tool_request_missing_" + k, "tool_request without " + k, without(tool_request_min(), k), key=k)
invalid("tool_reply_missing_ok", "tool_reply without ok", without(tool_reply_min(), "ok"), key="ok")
invalid("tool_reply_error_missing", "tool_reply with ok false and no error",
        replaced(without(tool_reply_min(), "result"), "ok", False), key="error")

# --- valid: tenant_id (issue 10: set by the gateway from the caller's key, copied to replies)

def with_tenant(pairs, tenant):
    """pairs with ("tenant_id", tenant) right after channel_id, where this project's encoder writes it."""
    out = []
    for k, v in pairs:
        out.append((k, v))
        if k == "channel_id":
            out.append(("tenant_id", tenant))
    return out


valid("inbound_tenant", "inbound owned by tenant 'acme' (tenant_id after channel_id)",
      with_tenant(inbound_min(), "acme"), "inbound", canonical=True)
valid("outbound_tenant", "outbound reply to tenant 'acme' with every optional key",
      with_tenant(outbound_full_pairs, "acme"), "outbound", canonical=True)
valid("inbound_tenant_nil", "tenant_id nil: read as absent (the default tenant)",
      with_tenant(inbound_min(), None), "inbound")

# --- valid: streamed answers and error replies (issue 11)

delta_pairs = with_tenant(outbound_min(), "acme")[:-3] + [
    ("type", "delta"), ("in_reply_to", ID1), ("content", "Hel"),
    ("message_key", ID1 + ":delta:1:0"), ("seq", 0), ("attempt", 1)]
valid("outbound_delta", "a delta: seq 0 of delivery attempt 1, content = the text since the previous delta",
      delta_pairs, "outbound", canonical=True)
error_pairs = outbound_min()[:-3] + [
    ("type", "error"), ("in_reply_to", ID1), ("content", "the assistant is unavailable"),
    ("message_key", ID1 + ":error"),
    ("error", {"code": "upstream_unavailable", "message": "the assistant is unavailable"})]
valid("outbound_error", "an error reply with error {code, message}", error_pairs, "outbound", canonical=True)

# --- invalid: wrong types and values

def wrong(name, description, base, key, value, err_key=None):
    invalid(name, description, replaced(base, key, value), key=err_key or key)


wrong("id_int", "id as int", inbound_min(), "id", 7)
wrong("id_empty", "id as the empty str", inbound_min(), "id", "")
wrong("kind_int", "kind as int", inbound_min(), "kind", 1)
wrong("kind_unknown", "kind 'broadcast' (unknown)", inbound_min(), "kind", "broadcast")
wrong("correlation_id_nil", "correlation_id as nil", inbound_min(), "correlation_id", None)
wrong("platform_empty", "inbound with empty platform", inbound_min(), "platform", "")
wrong("platform_nil", "inbound with platform nil (required on inbound, so nil is not absent but wrong)",
      inbound_min(), "platform", None)
wrong("channel_id_bin", "channel_id as bin instead of str", inbound_min(), "channel_id", b"chan-1")
wrong("enqueued_at_str", "enqueued_at as str", inbound_min(), "enqueued_at", str(TS))
wrong("enqueued_at_float", "enqueued_at as float", inbound_min(), "enqueued_at", float(TS))
wrong("enqueued_at_u64_overflow", "enqueued_at = 2^64-1, beyond int64", inbound_min(), "enqueued_at", 2 ** 64 - 1)
wrong("content_bin", "content as bin (str only)", inbound_min(), "content", b"hello")
wrong("user_id_int", "user_id as int", inbound_min(), "user_id", 9)
wrong("tenant_id_int", "tenant_id as int", with_tenant(inbound_min(), "acme"), "tenant_id", 7)
wrong("seq_negative", "a delta with seq -1", delta_pairs, "seq", -1)
wrong("attempt_str", "a delta with attempt as str", delta_pairs, "attempt", "1")
wrong("tenant_id_empty", "outbound with empty tenant_id", with_tenant(outbound_min(), "acme"), "tenant_id", "")
invalid("deadline_str", "deadline as str", inbound_min() + [("deadline", "soon")], key="deadline")
invalid("headers_not_map", "headers as array", inbound_min() + [("headers", ["traceparent"])], key="headers")
invalid("headers_value_int", "a header value as int", inbound_min() + [("headers", {"x-retry": 3})],
        key="headers")
invalid("attachments_not_array", "attachments as map",
        inbound_min() + [("attachments", {"name": "a", "mime": "b", "data": b""})], key="attachments")
invalid("attachment_data_str", "attachment data as str (bin only)",
        inbound_min() + [("attachments", [{"name": "a.txt", "mime": "text/plain", "data": "abc"}])],
        key="attachments")
invalid("attachment_missing_data", "attachment without data",
        inbound_min() + [("attachments", [{"name": "a.txt", "mime": "text/plain"}])], key="attachments")
invalid("metadata_not_map", "metadata as str", inbound_min() + [("metadata", "x")], key="metadata")
invalid("metadata_int_key", "metadata map with an int key",
        inbound_min() + [("metadata", Raw(b"\x81\x01\xa1x"))], key="metadata")
invalid("metadata_ext_value", "metadata holding an extension value (not supported in free-form values)",
        inbound_min() + [("metadata", Raw(b"\x81" + pack("t") + b"\xd6\xff\x66\x85\x1e\x80"))], key="metadata")
invalid("outbound_type_empty", "outbound with empty type", replaced(outbound_min(), "type", ""), key="type")
invalid("outbound_message_key_int", "outbound with message_key as int", outbound_min() + [("message_key", 1)],
        key="message_key")
invalid("tool_request_args_array", "tool_request with args as array", replaced(tool_request_min(), "args", [1]),
        key="args")
invalid("tool_request_reply_to_empty", "tool_request with empty reply_to",
        replaced(tool_request_min(), "reply_to", ""), key="reply_to")
invalid("tool_reply_ok_int", "tool_reply with ok as int 1", replaced(tool_reply_min(), "ok", 1), key="ok")
invalid("tool_reply_error_missing_code", "tool_reply error without code",
        [("v", 1), ("id", ID2), ("kind", "tool_reply"), ("correlation_id", ID3), ("enqueued_at", TS),
         ("ok", False), ("error", {"message": "boom"})], key="error")
invalid("tool_reply_error_nil", "tool_reply with ok false and error nil",
        [("v", 1), ("id", ID2), ("kind", "tool_reply"), ("correlation_id", ID3), ("enqueued_at", TS),
         ("ok", False), ("error", None)], key="error")
invalid("tool_reply_error_not_map", "tool_reply error as str",
        [("v", 1), ("id", ID2), ("kind", "tool_reply"), ("correlation_id", ID3), ("enqueued_at", TS),
         ("ok", False), ("error", "boom")], key="error")

# --- invalid: MessagePack structure

good = pack_map(inbound_min())
invalid("truncated_half", "a valid inbound envelope cut in half", good[: len(good) // 2])
invalid("truncated_last_byte", "a valid inbound envelope without its last byte", good[:-1])
invalid("empty", "zero bytes", b"")
invalid("not_a_map_array", "an array instead of a map", pack([1, "inbound"]))
invalid("not_a_map_int", "a bare int", pack(1))
invalid("not_a_map_str", "a bare str", pack("inbound"))
invalid("not_a_map_nil", "a bare nil", pack(None))
invalid("trailing_byte", "a valid envelope followed by one nil byte", good + b"\xc0")
invalid("two_envelopes", "two valid envelopes back to back", good + good)
invalid("duplicate_key", "the id key twice", inbound_min() + [("id", ID2)], key="id")
invalid("non_str_top_key", "a top-level int key", inbound_min() + [(Raw(b"\x07"), "seven")])
invalid("invalid_utf8", "content holding invalid UTF-8", inbound_min()[:-1] + [("content", Raw(b"\xa2\xc3\x28"))],
        key="content")
invalid("reserved_byte_c1", "the never-used type byte 0xc1 as a metadata value",
        inbound_min() + [("metadata", Raw(b"\x81" + pack("x") + b"\xc1"))])

bomb = b""
for _ in range(100):
    bomb = b"\x81" + pack("a") + bomb if bomb else b"\x81" + pack("a") + pack(1)
invalid("nesting_bomb", "metadata nested 100 maps deep (limit: 64 levels)", inbound_min() + [("metadata", Raw(bomb))])
invalid("nesting_bomb_arrays", "10000 nested one-element arrays as an unknown key",
        inbound_min() + [("x", Raw(b"\x91" * 10000 + b"\xc0"))])
invalid("length_bomb_array", "metadata holding an array32 header that claims 2^31-1 elements",
        inbound_min() + [("metadata", Raw(b"\x81" + pack("a") + b"\xdd\x7f\xff\xff\xff\x01"))])
invalid("length_bomb_map", "a map32 header claiming 2^32-1 entries and nothing else", b"\xdf\xff\xff\xff\xff")
invalid("length_bomb_str", "content with a str32 header claiming 2^31 bytes",
        inbound_min()[:-1] + [("content", Raw(b"\xdb\x80\x00\x00\x00abc"))])
invalid("length_bomb_bin", "an unknown key whose bin32 header claims 2^31-1 bytes",
        inbound_min() + [("x", Raw(b"\xc6\x7f\xff\xff\xff\x00"))])

# --- invalid: size

invalid("too_large", "a valid envelope of more than 128 bytes, to be decoded with max_bytes = 128",
        replaced(inbound_min(), "content", "y" * 200), "too_large", max_bytes=128)


# ---------------------------------------------------------------------------------------------- write out

def main():
    os.makedirs(OUT, exist_ok=True)
    for f in os.listdir(OUT):
        if f.endswith(".msgpack") or f == "manifest.json":
            os.remove(os.path.join(OUT, f))
    names = set()
    for name, data, _ in vectors:
        if name in names:
            sys.exit("duplicate vector name " + name)
        names.add(name)
        with open(os.path.join(OUT, name + ".msgpack"), "wb") as fh:
            fh.write(data)
    manifest = {
        "format": 1,
        "description": "sg-streams envelope test vectors; see docs/test-vectors.md",
        "generator": "core/src/test/vectors-gen/gen_vectors.py (Python msgpack %s)"
                     % ".".join(map(str, msgpack.version)),
        "default_max_bytes": 1048576,
        "vectors": [entry for _, _, entry in vectors],
    }
    with open(os.path.join(OUT, "manifest.json"), "w", encoding="utf-8") as fh:
        json.dump(manifest, fh, indent=2, ensure_ascii=False)
        fh.write("\n")
    print("wrote %d vectors to %s" % (len(vectors), OUT))


if __name__ == "__main__":
    main()
