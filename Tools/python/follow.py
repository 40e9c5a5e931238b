#!/usr/bin/env python3
"""Follow an Atlas event store from another language, read-only.

Reads the store's `events` database with python-lmdb (Debian: python3-lmdb), verifies the
hash chain as it goes, prints each event as an NDJSON line

    {"position":N,"chain":"<hex>","envelope":{...}}

and keeps its own checkpoint in a small JSON file ({"position": N, "chain": "<hex>"}),
written atomically after each batch of printed lines. It never writes to the store.

    chain(n) = SHA-256(chain(n-1) || 8-byte big-endian n || SHA-256(envelope JSON))   (store format 2)
    chain(n) = SHA-256(chain(n-1) || 8-byte big-endian n || envelope JSON)            (store format 1)
    chain(0) = 32 zero bytes

Usage: follow.py STORE [--checkpoint FILE] [--until N] [--interval SECONDS] [--batch N] [--quiet]

Exit codes: 0 done (--until reached or interrupted), 1 chain or gap error, 2 usage error
(including a store in a format newer than this script reads).
"""
import argparse
import hashlib
import json
import os
import signal
import struct
import sys
import time

SUPPORTED_FORMAT = 2

try:
    import lmdb
except ImportError:  # pragma: no cover
    sys.stderr.write("follow.py needs python-lmdb (Debian: apt install python3-lmdb; use /usr/bin/python3)\n")
    sys.exit(2)


def load_checkpoint(path):
    if not path or not os.path.exists(path):
        return 0, bytes(32)
    with open(path) as f:
        c = json.load(f)
    return int(c["position"]), bytes.fromhex(c["chain"])


def save_checkpoint(path, position, chain):
    if not path:
        return
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump({"position": position, "chain": chain.hex()}, f)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def open_env(store):
    # lock=True registers our read transactions in the lock table, so the writer does not
    # reuse pages we are reading.
    return lmdb.open(store, readonly=True, lock=True, max_dbs=256, subdir=True, create=False)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("store")
    ap.add_argument("--checkpoint", help="JSON file holding this follower's position")
    ap.add_argument("--until", type=int, default=0, help="exit after this position")
    ap.add_argument("--interval", type=float, default=0.2, help="sleep between polls when caught up")
    ap.add_argument("--batch", type=int, default=1024, help="events per read transaction")
    ap.add_argument("--quiet", action="store_true", help="print only a summary line at the end")
    args = ap.parse_args()

    stop = []
    signal.signal(signal.SIGINT, lambda *_: stop.append(1))
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))

    position, chain = load_checkpoint(args.checkpoint)
    env = open_env(args.store)
    meta = env.open_db(b"meta", create=False)
    with env.begin(db=meta) as txn:
        version = txn.get(b"format_version")
    if version is None or not version.isdigit() or not 1 <= int(version) <= SUPPORTED_FORMAT:
        sys.stderr.write(f"{args.store}: store format {version!r} is not one this script reads (1…{SUPPORTED_FORMAT})\n")
        return 2
    chain_digests = int(version) >= 2
    events = env.open_db(b"events", create=False)
    out = sys.stdout.buffer
    count = 0

    if position > 0:
        # The checkpoint's chain must match the store's: the follower resumes on the same log.
        with env.begin(db=events) as txn:
            stored = txn.get(struct.pack(">Q", position))
        if stored is None or stored[:32] != chain:
            sys.stderr.write(f"checkpoint at {position} does not match the store\n")
            return 1

    while not stop and not (args.until and position >= args.until):
        try:
            txn = env.begin(db=events)
        except lmdb.MapResizedError:
            env.set_mapsize(0)  # adopt the size another process grew the map to
            continue
        batch = []
        with txn:
            cursor = txn.cursor()
            if cursor.set_range(struct.pack(">Q", position + 1)):
                for key, value in cursor:
                    batch.append((struct.unpack(">Q", key)[0], bytes(value)))
                    if len(batch) >= args.batch:
                        break
        if not batch:
            time.sleep(args.interval)
            continue
        lines = []
        for p, value in batch:
            if p != position + 1:
                sys.stderr.write(f"gap: expected position {position + 1}, found {p}\n")
                return 1
            stored_chain, body = value[:32], value[32:]
            h = hashlib.sha256()
            h.update(chain)
            h.update(struct.pack(">Q", p))
            h.update(hashlib.sha256(body).digest() if chain_digests else body)
            computed = h.digest()
            if computed != stored_chain:
                sys.stderr.write(f"chain mismatch at position {p}\n")
                return 1
            if not args.quiet:
                lines.append(b'{"position":%d,"chain":"%s","envelope":%s}\n' % (p, computed.hex().encode(), body))
            position, chain = p, computed
            count += 1
            if args.until and position >= args.until:
                break
        if lines:
            out.write(b"".join(lines))
            out.flush()
        save_checkpoint(args.checkpoint, position, chain)

    save_checkpoint(args.checkpoint, position, chain)
    sys.stderr.write(f"done {count} {position} {chain.hex()}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
