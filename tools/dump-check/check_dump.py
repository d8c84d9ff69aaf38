#!/usr/bin/env python3
"""An independent reader of the dumps Tidemark writes with `restore --dump DIR` and `--archive FILE [--gzip]`.

It shares no code with Tidemark: it follows mongodump's layouts as docs/format.md ("Restore dumps") and mongo-tools
describe them, and decodes with pymongo's `bson` package (PyPI `pymongo`, Apache-2.0). For a directory it reads every
`<db>/<coll>.bson` and `<db>/<coll>.metadata.json`; for an archive (gzip or not, told by its first bytes) the magic
number, header, prelude, blocks, terminators and each namespace's CRC-64/ECMA. Every document is decoded.

Prints JSON: {"db.coll": {"documents": N, "sha256": hex of the raw documents concatenated in file order,
"indexes": [names], "options": {...canonical Extended JSON...}}}, and exits 0. On any framing or decode error it
prints the reason to stderr and exits 1; on bad usage, 2.

Usage: check_dump.py DIR_OR_ARCHIVE
"""
import gzip
import hashlib
import io
import json
import os
import struct
import sys
import urllib.parse

import bson
from bson import json_util
from bson.codec_options import CodecOptions, DatetimeConversion

MAGIC = 0x8199E26D
TERMINATOR = 0xFFFFFFFF
MAX_BSON = 16 * 1024 * 1024
CANONICAL = json_util.JSONOptions(
    json_mode=json_util.JSONMode.CANONICAL, datetime_conversion=DatetimeConversion.DATETIME_AUTO
)
# Any valid BSON date, even outside Python's datetime range (years 1 to 9999), decodes.
DECODE = CodecOptions(unicode_decode_error_handler="strict", datetime_conversion=DatetimeConversion.DATETIME_AUTO)


class DumpError(Exception):
    pass


def _crc64_table():
    poly = 0xC96C5795D7870F42  # ECMA-182, reflected (Go's crc64.ECMA)
    table = []
    for n in range(256):
        crc = n
        for _ in range(8):
            crc = (crc >> 1) ^ poly if crc & 1 else crc >> 1
        table.append(crc)
    return table


CRC_TABLE = _crc64_table()


def crc64_update(crc, data):
    """Go's crc64.Update: the register is inverted on entry and exit."""
    crc ^= 0xFFFFFFFFFFFFFFFF
    table = CRC_TABLE
    for b in data:
        crc = table[(crc ^ b) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFFFFFFFFFF


def read_exact(stream, n, where, what):
    data = stream.read(n)
    if len(data) != n:
        raise DumpError(f"{where}: truncated: {what} runs past the end")
    return data


def read_doc_or_terminator(stream, where, terminator_allowed):
    """The next raw document, "terminator", or None at a clean end of the stream."""
    head = stream.read(4)
    if len(head) == 0:
        return None
    if len(head) < 4:
        raise DumpError(f"{where}: truncated document length")
    (length,) = struct.unpack("<I", head)
    if length == TERMINATOR and terminator_allowed:
        return "terminator"
    if length < 5 or length > MAX_BSON:
        raise DumpError(f"{where}: {length} is not a BSON document length")
    raw = head + read_exact(stream, length - 4, where, f"a document of {length} bytes")
    if raw[-1] != 0:
        raise DumpError(f"{where}: a document of {length} bytes does not end with a zero byte")
    return raw


def decode(raw, where):
    try:
        return bson.decode(raw, codec_options=DECODE)
    except Exception as err:  # bson raises InvalidBSON and others
        raise DumpError(f"{where}: a document does not decode as BSON: {err}") from err


def parse_metadata(text, where):
    try:
        meta = json_util.loads(text, json_options=CANONICAL)
    except Exception as err:
        raise DumpError(f"{where}: metadata is not Extended JSON: {err}") from err
    if not isinstance(meta, dict):
        raise DumpError(f"{where}: metadata is not an object")
    indexes = meta.get("indexes")
    if not isinstance(indexes, list) or not all(isinstance(i, dict) and isinstance(i.get("name"), str) for i in indexes):
        raise DumpError(f"{where}: metadata indexes are not a list of named indexes")
    options = meta.get("options", {})
    if not isinstance(options, dict):
        raise DumpError(f"{where}: metadata options are not an object")
    uuid = meta.get("uuid")
    if uuid is not None and (not isinstance(uuid, str) or len(uuid) != 32 or any(c not in "0123456789abcdef" for c in uuid)):
        raise DumpError(f"{where}: metadata uuid is not 32 hex digits")
    return meta


def summary(meta, documents, hasher):
    return {
        "documents": documents,
        "sha256": hasher.hexdigest(),
        "indexes": [i["name"] for i in meta.get("indexes", [])] if meta else [],
        "options": json.loads(json_util.dumps(meta.get("options", {}) if meta else {}, json_options=CANONICAL)),
    }


def check_directory(root):
    out = {}
    for db in sorted(os.listdir(root)):
        db_dir = os.path.join(root, db)
        if not os.path.isdir(db_dir):
            continue
        names = os.listdir(db_dir)
        bases = set()
        for name in names:
            if name.endswith(".metadata.json"):
                bases.add(name[: -len(".metadata.json")])
            elif name.endswith(".bson"):
                bases.add(name[: -len(".bson")])
        for base in sorted(bases):
            meta_path = os.path.join(db_dir, base + ".metadata.json")
            bson_path = os.path.join(db_dir, base + ".bson")
            meta = None
            if os.path.exists(meta_path):
                with open(meta_path, "rb") as f:
                    try:
                        text = f.read().decode("utf-8")
                    except UnicodeDecodeError as err:
                        raise DumpError(f"{meta_path}: not UTF-8") from err
                meta = parse_metadata(text, meta_path)
            coll = urllib.parse.unquote_plus(base, errors="strict")
            if meta and "collectionName" in meta:
                if "%24" in base and len(base) == 238:
                    coll = meta["collectionName"]
                elif meta["collectionName"] != coll:
                    raise DumpError(f"{meta_path}: collectionName {meta['collectionName']!r} is not {coll!r}")
            documents = 0
            hasher = hashlib.sha256()
            if os.path.exists(bson_path):
                with open(bson_path, "rb") as f:
                    stream = io.BufferedReader(f, 1 << 20)
                    while True:
                        raw = read_doc_or_terminator(stream, bson_path, False)
                        if raw is None:
                            break
                        decode(raw, f"{bson_path} document {documents}")
                        hasher.update(raw)
                        documents += 1
            out[f"{db}.{coll}"] = summary(meta, documents, hasher)
    return out


def check_archive(path):
    with open(path, "rb") as f:
        first = f.read(2)
    raw_stream = open(path, "rb")
    stream = gzip.GzipFile(fileobj=raw_stream) if first == b"\x1f\x8b" else io.BufferedReader(raw_stream, 1 << 20)
    try:
        return read_archive(stream, path)
    except (OSError, EOFError, gzip.BadGzipFile) as err:
        raise DumpError(f"{path}: cannot be read: {err}") from err
    finally:
        stream.close()


def read_archive(stream, path):
    magic = read_exact(stream, 4, path, "the magic number")
    if struct.unpack("<I", magic)[0] != MAGIC:
        raise DumpError(f"{path}: not a mongodump archive (wrong magic number)")
    header = read_doc_or_terminator(stream, path, False)
    if header is None:
        raise DumpError(f"{path}: the header is missing")
    version = decode(header, f"{path} header").get("version")
    if version != "0.1":
        raise DumpError(f"{path}: archive format version {version!r} is not 0.1")
    state = {}
    order = []
    while True:
        raw = read_doc_or_terminator(stream, path, True)
        if raw == "terminator":
            break
        if raw is None:
            raise DumpError(f"{path}: the archive ends inside its prelude")
        cm = decode(raw, f"{path} prelude")
        db, coll, text = cm.get("db"), cm.get("collection"), cm.get("metadata")
        if not isinstance(db, str) or not isinstance(coll, str) or not coll:
            raise DumpError(f"{path}: a prelude entry lacks db or collection")
        ns = f"{db}.{coll}"
        if ns in state:
            raise DumpError(f"{path}: {ns} is in the prelude twice")
        meta = parse_metadata(text, f"{path} prelude of {ns}") if text else None
        state[ns] = {"meta": meta, "documents": 0, "hash": hashlib.sha256(), "crc": 0, "closed": False}
        order.append(ns)
    while True:
        raw = read_doc_or_terminator(stream, path, True)
        if raw is None:
            break
        if raw == "terminator":
            raise DumpError(f"{path}: a terminator where a namespace header belongs")
        h = decode(raw, f"{path} namespace header")
        if not isinstance(h.get("db"), str) or not isinstance(h.get("collection"), str) or not isinstance(h.get("EOF"), bool):
            raise DumpError(f"{path}: a namespace header lacks db, collection or EOF")
        ns = f"{h['db']}.{h['collection']}"
        s = state.get(ns)
        if s is None:
            raise DumpError(f"{path}: a block of {ns}, which the prelude does not list")
        if s["closed"]:
            raise DumpError(f"{path}: a block of {ns} after its end")
        if h["EOF"]:
            crc = h.get("CRC")
            if not isinstance(crc, int):
                raise DumpError(f"{path}: the end of {ns} has no CRC")
            if crc & 0xFFFFFFFFFFFFFFFF != s["crc"]:
                raise DumpError(f"{path}: CRC mismatch for {ns}: documents give {s['crc']}, archive says {crc & 0xFFFFFFFFFFFFFFFF}")
            if read_doc_or_terminator(stream, path, True) != "terminator":
                raise DumpError(f"{path}: the end of {ns} is not terminated")
            s["closed"] = True
            continue
        while True:
            doc = read_doc_or_terminator(stream, path, True)
            if doc == "terminator":
                break
            if doc is None:
                raise DumpError(f"{path}: the archive ends inside a block of {ns}")
            decode(doc, f"{path} document of {ns}")
            s["hash"].update(doc)
            s["crc"] = crc64_update(s["crc"], doc)
            s["documents"] += 1
    unclosed = [ns for ns in order if not state[ns]["closed"]]
    if unclosed:
        raise DumpError(f"{path}: the archive ends before the end of {', '.join(unclosed)}")
    return {ns: summary(state[ns]["meta"], state[ns]["documents"], state[ns]["hash"]) for ns in order}


def main(argv):
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    target = argv[1]
    try:
        if os.path.isdir(target):
            result = check_directory(target)
        elif os.path.isfile(target):
            result = check_archive(target)
        else:
            raise DumpError(f"{target}: no such directory or file")
    except DumpError as err:
        print(f"check_dump: {err}", file=sys.stderr)
        return 1
    json.dump(result, sys.stdout, sort_keys=True)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
