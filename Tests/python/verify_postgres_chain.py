#!/usr/bin/env python3
"""Recompute the chain of an Atlas store on PostgreSQL from `atlas.events`, independently of Atlas.

Usage: psql URL -AtX -c "COPY (SELECT position, encode(chain,'hex'), encode(envelope,'hex')
                          FROM atlas.events ORDER BY position) TO STDOUT" | verify_postgres_chain.py

Reads `position<TAB>chain hex<TAB>envelope hex` lines and checks that positions are gapless from
1 and that chain(n) = SHA-256(chain(n-1) || 8-byte big-endian n || SHA-256(envelope(n))) with
chain(0) = 32 zero bytes (store format 2), equals the stored chain. Each envelope must be a JSON
object. Prints {"events": N, "head": "<hex>"}; exits 1 naming the first bad position.
See docs/event-stream-format.md.
"""
import hashlib
import json
import sys


def main():
    previous = bytes(32)
    expected = 1
    for line in sys.stdin:
        line = line.rstrip("\n")
        if not line:
            continue
        fields = line.split("\t")
        if len(fields) != 3:
            sys.exit("line %d: expected 3 tab-separated fields, found %d" % (expected, len(fields)))
        position, chain, envelope = int(fields[0]), bytes.fromhex(fields[1]), bytes.fromhex(fields[2])
        if position != expected:
            sys.exit("gap: position %d follows %d" % (position, expected - 1))
        if not isinstance(json.loads(envelope.decode("utf-8")), dict):
            sys.exit("position %d: envelope is not a JSON object" % position)
        computed = hashlib.sha256(previous + position.to_bytes(8, "big") + hashlib.sha256(envelope).digest()).digest()
        if computed != chain:
            sys.exit("position %d: stored chain %s, recomputed %s" % (position, chain.hex(), computed.hex()))
        previous = computed
        expected += 1
    print(json.dumps({"events": expected - 1, "head": previous.hex()}))


if __name__ == "__main__":
    main()
