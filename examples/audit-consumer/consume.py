#!/usr/bin/env python3
"""Reads Tidemark's event topics with nothing but the .avsc files in schemas/ and the wire encoding of
docs/topics.md ("Encoding"), and prints one JSON object per event.

Each value is Avro single-object encoded: the marker C3 01, the 8-byte CRC-64-AVRO fingerprint of the writer
schema's Parsing Canonical Form (little-endian), then the record in Avro binary encoding. The reader looks the
fingerprint up among every version of every record (schemas/<area>/<Record>.avsc and
schemas/<area>/history/<Record>.v<N>.avsc) and resolves the value to the current version.

Output, one line per message (values in the JSON form of the golden fixtures: a long as a decimal string, a
timestamp as ISO-8601 with milliseconds, bytes as base64):
  {"topic", "partition", "offset", "key", "record", "writerVersion", "value"}
  {"topic", "partition", "offset", "key", "error"}      for a message that does not decode

It joins no consumer group and commits nothing: it assigns itself every partition of the topics and reads them
from the beginning (or the end), so it cannot disturb Tidemark's stages.
"""
import argparse
import base64
import datetime
import io
import json
import os
import signal
import sys

import fastavro
from fastavro.schema import fingerprint, parse_schema, to_parsing_canonical_form
from kafka import KafkaConsumer, TopicPartition

# What each topic carries (docs/topics.md, "Topics"). There is no audit topic yet.
TOPIC_RECORDS = {
    "tidemark.phases": "tidemark.phases.PhaseChanged",
    "tidemark.commands": "tidemark.commands.JobCommand",
    "tidemark.alerts": "tidemark.alerts.AlertRaised",
    "tidemark.snapshots": "tidemark.snapshots.SnapshotEvent",
    "tidemark.restores": "tidemark.restores.RestoreEvent",
}
MARKER = b"\xc3\x01"
HEADER_BYTES = 10
DEFAULT_SCHEMAS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "schemas")


class Undecodable(Exception):
    pass


def load_schemas(schemas_dir):
    """Every version of every record: {fingerprint hex: (record, version, writer)} and {record: current}."""
    by_fingerprint, current = {}, {}
    for area in sorted(os.listdir(schemas_dir)):
        area_dir = os.path.join(schemas_dir, area)
        if not os.path.isdir(area_dir):
            continue
        history_dir = os.path.join(area_dir, "history")
        history = sorted(os.listdir(history_dir)) if os.path.isdir(history_dir) else []
        for name in sorted(os.listdir(area_dir)):
            if not name.endswith(".avsc"):
                continue
            record_name = name[: -len(".avsc")]
            full_name = "tidemark.%s.%s" % (area, record_name)
            versions = []
            for h in history:  # <Record>.v<N>.avsc
                stem, _, rest = h.partition(".v")
                if stem == record_name and rest.endswith(".avsc"):
                    versions.append((int(rest[: -len(".avsc")]), os.path.join(history_dir, h)))
            versions.sort()
            versions.append((len(versions) + 1, os.path.join(area_dir, name)))
            for version, path in versions:
                with open(path, encoding="utf-8") as f:
                    parsed = parse_schema(json.load(f), _write_hint=False)
                fp = fingerprint(to_parsing_canonical_form(parsed), "CRC-64-AVRO")  # hex, little-endian bytes
                by_fingerprint[fp] = (full_name, version, parsed)
                current[full_name] = parsed
    return by_fingerprint, current


def decode(value, schemas, expected_record):
    by_fingerprint, current = schemas
    if value is None or len(value) < HEADER_BYTES:
        raise Undecodable("%s bytes, a single-object encoded message has at least %d" % (0 if value is None else len(value), HEADER_BYTES))
    if value[:2] != MARKER:
        raise Undecodable("marker %s, expected c301 (not Avro single-object encoding)" % value[:2].hex())
    fp = value[2:HEADER_BYTES].hex()
    if fp not in by_fingerprint:
        raise Undecodable("unknown fingerprint %s" % fp)
    record, version, writer = by_fingerprint[fp]
    if expected_record is not None and record != expected_record:
        raise Undecodable("expected %s, found %s" % (expected_record, record))
    body = io.BytesIO(value[HEADER_BYTES:])
    try:
        decoded = fastavro.schemaless_reader(body, writer, current[record])
    except Exception as err:  # a corrupt body: say why, never crash
        raise Undecodable("cannot read the body as %s v%d: %s" % (record, version, err))
    if body.tell() != len(value) - HEADER_BYTES:
        raise Undecodable("%d trailing bytes after the record" % (len(value) - HEADER_BYTES - body.tell()))
    return record, version, to_json(current[record], decoded, {})


def to_json(schema, value, named):
    """A decoded value in the golden fixtures' JSON form, directed by the (parsed) reader schema."""
    if isinstance(schema, list):  # union: ["null", T]
        if value is None:
            return None
        branch = [s for s in schema if s != "null"][0]
        return to_json(branch, value, named)
    if isinstance(schema, str):
        if schema in named:
            return to_json(named[schema], value, named)
        if schema == "long":
            return str(value)
        if schema == "bytes":
            return base64.b64encode(value).decode("ascii")
        return value
    kind = schema["type"]
    if "name" in schema:
        named[schema["name"]] = schema
    if schema.get("logicalType") == "timestamp-millis":
        if isinstance(value, datetime.datetime):
            utc = value.astimezone(datetime.timezone.utc)
            return utc.strftime("%Y-%m-%dT%H:%M:%S.") + "%03dZ" % (utc.microsecond // 1000)
        return str(value)
    if kind == "record":
        return {f["name"]: to_json(f["type"], value[f["name"]], named) for f in schema["fields"]}
    if kind == "array":
        return [to_json(schema["items"], v, named) for v in value]
    if kind == "map":
        return {k: to_json(schema["values"], v, named) for k, v in value.items()}
    if kind == "enum":
        return value
    return to_json(kind, value, named)


def job_of(key, value):
    if isinstance(value, dict) and value.get("jobId") is not None:
        return value["jobId"]
    return None if key is None else key.split("/", 1)[0]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--bootstrap-servers", default=os.environ.get("KAFKA_BROKERS", "127.0.0.1:9092"))
    parser.add_argument("--topic", action="append", help="full topic name without prefix, repeatable (default: %s)" % ", ".join(TOPIC_RECORDS))
    parser.add_argument("--prefix", default=os.environ.get("TIDEMARK_TOPIC_PREFIX", ""), help="topic prefix (TIDEMARK_TOPIC_PREFIX)")
    parser.add_argument("--schemas", default=DEFAULT_SCHEMAS, help="the schemas/ folder")
    parser.add_argument("--job", help="only this job's events")
    parser.add_argument("--from", dest="start", choices=["earliest", "latest"], default="earliest")
    parser.add_argument("--max", type=int, help="stop after this many events")
    parser.add_argument("--idle-ms", type=int, default=5000, help="stop after this long without a message")
    args = parser.parse_args()

    schemas = load_schemas(args.schemas)
    bases = args.topic or list(TOPIC_RECORDS)
    names = {("%s.%s" % (args.prefix, b) if args.prefix else b): b for b in bases}
    consumer = KafkaConsumer(
        bootstrap_servers=args.bootstrap_servers.split(","),
        group_id=None,
        enable_auto_commit=False,
        consumer_timeout_ms=args.idle_ms,
        client_id="tidemark-audit-consumer-example",
    )
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    partitions = []
    for name in names:
        found = consumer.partitions_for_topic(name)
        if not found:
            sys.exit("no topic %s on %s" % (name, args.bootstrap_servers))
        partitions += [TopicPartition(name, p) for p in sorted(found)]
    consumer.assign(partitions)
    if args.start == "earliest":
        consumer.seek_to_beginning(*partitions)
    else:
        consumer.seek_to_end(*partitions)
    print("reading %d partitions of %s" % (len(partitions), ", ".join(names)), file=sys.stderr, flush=True)

    shown = 0
    try:
        for message in consumer:  # ends after --idle-ms without a message
            key = None if message.key is None else message.key.decode("utf-8", "replace")
            where = {"topic": message.topic, "partition": message.partition, "offset": message.offset, "key": key}
            try:
                record, version, value = decode(message.value, schemas, TOPIC_RECORDS.get(names[message.topic]))
                line = dict(where, record=record, writerVersion=version, value=value)
            except Undecodable as err:
                value, line = None, dict(where, error=str(err))
            if args.job is not None and job_of(key, value) != args.job:
                continue
            print(json.dumps(line, sort_keys=False), flush=True)
            shown += 1
            if args.max is not None and shown >= args.max:
                break
    finally:
        consumer.close()
    print("%d events" % shown, file=sys.stderr)


if __name__ == "__main__":
    main()
