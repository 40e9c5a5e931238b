#!/usr/bin/env python3
"""Forge an Atlas store consistently, as an attacker who can write its files would.

Usage: rewrite_store.py STORE_DIR

Prefixes "FORGED " to the first `display_name` in the `events` table (the JSON stays in
canonical form), then recomputes every chain hash from that event to the head with the rule of
docs/event-stream-format.md, so that the log is internally consistent again. Prints the
rewritten position. Used by the tests to show that only a checkpoint kept outside the store
catches such a rewrite.
"""
import hashlib
import sys

try:
    import lmdb
except ImportError:
    sys.exit("rewrite_store.py: the python `lmdb` module is missing (Debian: apt-get install python3-lmdb)")

NEEDLE = b'"display_name":"'


def rewrite(path):
    env = lmdb.open(path, max_dbs=256, subdir=True, create=False)
    try:
        with env.begin(write=True, buffers=False) as txn:
            meta = env.open_db(b"meta", txn=txn, create=False)
            events = env.open_db(b"events", txn=txn, create=False)
            version = int(txn.get(b"format_version", db=meta))
            chain = bytes(32)
            rewritten = None
            for key, value in list(txn.cursor(db=events)):
                raw = value[32:]
                if rewritten is None and NEEDLE in raw:
                    at = raw.index(NEEDLE) + len(NEEDLE)
                    raw = raw[:at] + b"FORGED " + raw[at:]
                    rewritten = int.from_bytes(key, "big")
                if rewritten is not None:
                    chain = hashlib.sha256(chain + key + (hashlib.sha256(raw).digest() if version >= 2 else raw)).digest()
                    txn.put(key, chain + raw, db=events)
                else:
                    chain = value[:32]
            if rewritten is None:
                raise SystemExit("rewrite_store.py: no event has a display_name")
            return rewritten
    finally:
        env.close()


if __name__ == "__main__":
    if len(sys.argv) != 2:
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        sys.exit(2)
    print(rewrite(sys.argv[1]))
