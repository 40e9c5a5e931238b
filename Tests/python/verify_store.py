#!/usr/bin/env python3
"""Verify an Atlas event store with nothing but the standard library and `lmdb`.

Usage: verify_store.py STORE_DIR [--no-lock]

Walks the `events` database in position order and checks, for every event:
  * positions are 8-byte big-endian and gapless from 1;
  * chain(n) = SHA-256(chain(n-1) || key(n) || SHA-256(json(n))) (format 2; format 1 hashes
    json(n) itself), chain(0) = 32 zero bytes,
    equals the 32 bytes stored in front of the JSON;
  * the JSON is an object with exactly the envelope fields, of the right types;
  * `event_ids` maps the id back to the position and `tenant_events` holds the event.
Prints one line of JSON: {"events": N, "head": "<hex>", "tenants": {tenant: count}, ...}
Exits 1 with a message naming the position at the first problem, 2 on usage errors.
See docs/event-stream-format.md.
"""
import hashlib
import json
import re
import sys

try:
    import lmdb
except ImportError:
    sys.exit("verify_store.py: the python `lmdb` module is missing (Debian: apt-get install python3-lmdb)")

SUPPORTED_FORMAT = 2
UUID7 = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
TYPE = re.compile(r"^[a-z0-9._]{1,128}$")
RFC3339_MS_Z = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")
FIELDS = {"id", "type", "schema", "tenant", "recorded_at", "correlation_id", "data"}
REQUIRED = FIELDS - {"correlation_id"}


class Problem(Exception):
    pass


def reject_constant(name):
    raise ValueError("non-finite number %s" % name)


def check_envelope(pos, raw):
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise Problem("position %d: envelope is not UTF-8 (%s)" % (pos, e))
    try:
        env = json.loads(text, parse_constant=reject_constant)
    except ValueError as e:
        raise Problem("position %d: envelope is not JSON (%s)" % (pos, e))
    if not isinstance(env, dict):
        raise Problem("position %d: envelope is not a JSON object" % pos)
    missing = REQUIRED - env.keys()
    if missing:
        raise Problem("position %d: envelope lacks %s" % (pos, ", ".join(sorted(missing))))
    extra = env.keys() - FIELDS
    if extra:
        raise Problem("position %d: envelope has unknown fields %s" % (pos, ", ".join(sorted(extra))))

    def field(name, ok, what):
        if not ok(env[name]):
            raise Problem("position %d: %r must be %s, found %r" % (pos, name, what, env[name]))

    field("id", lambda v: isinstance(v, str) and UUID7.match(v), "a lowercase UUIDv7")
    field("type", lambda v: isinstance(v, str) and TYPE.match(v), "1-128 characters of a-z 0-9 . _")
    field("schema", lambda v: type(v) is int and v >= 1, "a positive integer")
    field("tenant", lambda v: isinstance(v, str) and v != "" and "\0" not in v, "a non-empty string without NUL")
    field("recorded_at", lambda v: isinstance(v, str) and RFC3339_MS_Z.match(v), "RFC 3339 UTC with milliseconds and Z")
    if "correlation_id" in env:
        field("correlation_id", lambda v: isinstance(v, str) and v != "", "a non-empty string")
    field("data", lambda v: isinstance(v, dict), "a JSON object")
    return env


def verify(path, lock=True):
    env = lmdb.open(path, readonly=True, lock=lock, max_dbs=256, subdir=True, create=False)
    try:
        with env.begin(buffers=False) as txn:
            def db(name):
                try:
                    return env.open_db(name.encode(), txn=txn, create=False)
                except lmdb.NotFoundError:
                    raise Problem("%s: no `%s` database: not an Atlas store" % (path, name))

            meta, events, event_ids, tenant_events = (db(n) for n in ("meta", "events", "event_ids", "tenant_events"))
            version = txn.get(b"format_version", db=meta)
            if version is None or not version.isdigit():
                raise Problem("%s: meta.format_version is missing or not a number" % path)
            if int(version) > SUPPORTED_FORMAT:
                raise Problem("%s: store format %s is newer than %d" % (path, version.decode(), SUPPORTED_FORMAT))

            chain = bytes(32)
            expected = 1
            tenants = {}
            cursor = txn.cursor(db=events)
            for key, value in cursor:
                if len(key) != 8:
                    raise Problem("position %d: key is %d bytes, not 8" % (expected, len(key)))
                pos = int.from_bytes(key, "big")
                if pos != expected:
                    raise Problem("position %d: missing (next stored position is %d)" % (expected, pos))
                if len(value) < 32:
                    raise Problem("position %d: value is shorter than its 32-byte chain hash" % pos)
                stored, raw = value[:32], value[32:]
                # Format 2 chains each event's digest; format 1 its JSON.
                chain = hashlib.sha256(chain + key + (hashlib.sha256(raw).digest() if int(version) >= 2 else raw)).digest()
                if chain != stored:
                    raise Problem("position %d: chain mismatch: stored %s, computed %s" % (pos, stored.hex(), chain.hex()))
                envelope = check_envelope(pos, raw)
                id_bytes = bytes.fromhex(envelope["id"].replace("-", ""))
                indexed = txn.get(id_bytes, db=event_ids)
                if indexed != key:
                    raise Problem("position %d: event_ids maps %s to %r" % (pos, envelope["id"], indexed))
                tenant = envelope["tenant"]
                if txn.get(tenant.encode() + b"\0" + key, db=tenant_events) is None:
                    raise Problem("position %d: missing from tenant_events" % pos)
                tenants[tenant] = tenants.get(tenant, 0) + 1
                expected += 1
            count = expected - 1
            for name, database in (("event_ids", event_ids), ("tenant_events", tenant_events)):
                entries = txn.stat(database)["entries"]
                if entries != count:
                    raise Problem("%s has %d entries for %d events" % (name, entries, count))
            return {"events": count, "head": chain.hex(), "tenants": tenants, "format_version": int(version)}
    finally:
        env.close()


def main(argv):
    args = [a for a in argv if a != "--no-lock"]
    if len(args) != 1 or args[0].startswith("-"):
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    try:
        summary = verify(args[0], lock="--no-lock" not in argv)
    except Problem as e:
        print("verify_store.py: %s" % e, file=sys.stderr)
        return 1
    except lmdb.Error as e:
        print("verify_store.py: %s: %s" % (args[0], e), file=sys.stderr)
        return 1
    print(json.dumps(summary, sort_keys=True, ensure_ascii=False, separators=(",", ":")))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
