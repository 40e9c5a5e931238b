#!/usr/bin/env python3
"""Check an Atlas signed checkpoint with nothing but the standard library, `cryptography` and `lmdb`.

Usage: check_checkpoint.py CHECKPOINT_JSON STORE_DIR [--public-key HEX]

  * the checkpoint is a JSON object with exactly the fields store_id, format_version, position,
    chain, recorded_at, created_at, public_key, signature;
  * signature is a valid Ed25519 signature by public_key (or by --public-key, when given) over
    the RFC 8785 bytes of the object without "signature". For these fields (ASCII strings and
    integers below 2^53) `json.dumps(obj, sort_keys=True, separators=(",", ":"),
    ensure_ascii=False)` produces exactly the RFC 8785 bytes; it does not in general (floats,
    non-BMP key ordering), so do not reuse it for other JSON;
  * meta.store_id and meta.format_version of the store equal the checkpoint's;
  * the whole log verifies (verify_store.py) and the chain recomputed at the checkpoint's position
    equals the checkpoint's chain.
Prints "ok <position>"; exits 1 naming the problem, 2 on usage errors or a malformed checkpoint.
See docs/event-stream-format.md, "Signed checkpoints".
"""
import hashlib
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import verify_store  # noqa: E402  (also checks that `lmdb` is importable)

try:
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
except ImportError:
    sys.exit("check_checkpoint.py: the python `cryptography` module is missing (Debian: apt-get install python3-cryptography)")

FIELDS = {"store_id", "format_version", "position", "chain", "recorded_at", "created_at", "public_key", "signature"}


class Malformed(Exception):
    pass


def hex_field(obj, name, size):
    value = obj[name]
    if not isinstance(value, str) or len(value) != 2 * size or value.strip("0123456789abcdef"):
        raise Malformed("field %r must be %d lowercase hex characters" % (name, 2 * size))
    return bytes.fromhex(value)


def load(path):
    try:
        with open(path, "rb") as f:
            obj = json.loads(f.read().decode("utf-8"))
    except (OSError, ValueError) as e:
        raise Malformed("cannot read a JSON object: %s" % e)
    if not isinstance(obj, dict):
        raise Malformed("not a JSON object")
    if set(obj) != FIELDS:
        raise Malformed("fields %s, expected %s" % (sorted(obj), sorted(FIELDS)))
    for name in ("position", "format_version"):
        if not isinstance(obj[name], int) or isinstance(obj[name], bool) or obj[name] < 0:
            raise Malformed("field %r must be a non-negative integer" % name)
    return obj


def signing_bytes(obj):
    unsigned = {k: v for k, v in obj.items() if k != "signature"}
    return json.dumps(unsigned, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def chain_at(store, position, version):
    """The chain recomputed from position 1 through `position` (None when the log is shorter)."""
    env = verify_store.lmdb.open(store, readonly=True, max_dbs=256, subdir=True, create=False)
    try:
        with env.begin(buffers=False) as txn:
            events = env.open_db(b"events", txn=txn, create=False)
            chain = bytes(32)
            for key, value in txn.cursor(db=events):
                pos = int.from_bytes(key, "big")
                raw = value[32:]
                chain = hashlib.sha256(chain + key + (hashlib.sha256(raw).digest() if version >= 2 else raw)).digest()
                if pos == position:
                    return chain
            return None
    finally:
        env.close()


def check(path, store, pinned=None):
    obj = load(path)
    key = hex_field(obj, "public_key", 32)
    signature = hex_field(obj, "signature", 64)
    chain = hex_field(obj, "chain", 32)
    try:
        Ed25519PublicKey.from_public_bytes(pinned or key).verify(signature, signing_bytes(obj))
    except InvalidSignature:
        raise verify_store.Problem("signature does not verify" + (" with the given public key" if pinned else ""))
    summary = verify_store.verify(store)
    env = verify_store.lmdb.open(store, readonly=True, max_dbs=256, subdir=True, create=False)
    try:
        with env.begin() as txn:
            meta = env.open_db(b"meta", txn=txn, create=False)
            store_id = bytes(txn.get(b"store_id", db=meta) or b"").decode()
    finally:
        env.close()
    if store_id != obj["store_id"]:
        raise verify_store.Problem("belongs to store %s, not this store %s" % (obj["store_id"], store_id))
    if summary["format_version"] != obj["format_version"]:
        raise verify_store.Problem("format %d, not this store's %d" % (obj["format_version"], summary["format_version"]))
    if summary["events"] < obj["position"]:
        raise verify_store.Problem("log ends at %d before checkpoint position %d" % (summary["events"], obj["position"]))
    if chain_at(store, obj["position"], summary["format_version"]) != chain:
        raise verify_store.Problem("chain at %d differs from the checkpoint" % obj["position"])
    return obj["position"]


def main(argv):
    pinned = None
    if "--public-key" in argv:
        i = argv.index("--public-key")
        if i + 1 >= len(argv):
            print(__doc__.strip().splitlines()[2], file=sys.stderr)
            return 2
        try:
            pinned = bytes.fromhex(argv[i + 1])
        except ValueError:
            pinned = b""
        if len(pinned) != 32:
            print("check_checkpoint.py: --public-key must be 64 hex characters", file=sys.stderr)
            return 2
        argv = argv[:i] + argv[i + 2:]
    if len(argv) != 2:
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    try:
        position = check(argv[0], argv[1], pinned)
    except Malformed as e:
        print("check_checkpoint.py: %s: %s" % (argv[0], e), file=sys.stderr)
        return 2
    except verify_store.Problem as e:
        print("check_checkpoint.py: %s: %s" % (argv[0], e), file=sys.stderr)
        return 1
    except verify_store.lmdb.Error as e:
        print("check_checkpoint.py: %s: %s" % (argv[1], e), file=sys.stderr)
        return 1
    print("ok %d" % position)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
