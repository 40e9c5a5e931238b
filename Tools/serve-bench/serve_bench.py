#!/usr/bin/env python3
"""Benchmarks `atlas serve`: API latency under concurrent clients (wrk) and SSE fan-out.

    python3 Tools/serve-bench/serve_bench.py --atlas .build/release/atlas \
        [--tenants 100] [--items 2000] [--missing 20] [--connections 16] [--seconds 10] \
        [--followers 100] [--writer-items 20000] [--dir DIR] [--store DIR|postgres://…]

Shape: shape (b) of docs/benchmarks.md scaled by --tenants: TENANTS tenants x ITEMS items with
random GUID ids, synced with `atlas sync --from-file`; tenant 0 then re-synced without MISSING
of its items, so its `missing` page lists them.

Prints, for `missing` (by selection hash) and `items` (a page of 100) of tenant 0:
p50/p99 latency and requests/s from `wrk --latency` with CONNECTIONS connections over SECONDS.
Then the SSE fan-out: FOLLOWERS clients follow /api/v1/events from the head while a writer
(`atlas sync` of a new tenant with WRITER_ITEMS items) appends: events/s per follower (each
follower's events over the time from its first to its last event) and the writer's
throughput (events appended per second of the sync), measured once without and once with
the followers connected, and the server's CPU while the followers wait with nothing to send.
--store serves a PostgreSQL database instead of an LMDB directory in the work folder.
"""
import argparse
import json
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid

SELECTION = '{"policy_types":["deviceConfiguration"]}'


def export(path, ids):
    with open(path, "w") as f:
        for i in ids:
            f.write('{"item":{"@odata.type":"#microsoft.graph.windows10GeneralConfiguration","displayName":"Policy %s","id":"%s"},'
                    '"policy_type":"deviceConfiguration"}\n' % (i[:8], i))
        f.write('{"enumerated":{"count":%d},"policy_type":"deviceConfiguration"}\n' % len(ids))
    return path


def wrk(url, token, connections, seconds):
    script = os.path.join(tempfile.mkdtemp(prefix="wrk-"), "auth.lua")
    with open(script, "w") as f:
        f.write('wrk.headers["Authorization"] = "Bearer %s"\n' % token)
    out = subprocess.run(["wrk", "-t", "2", "-c", str(connections), "-d", "%ds" % seconds, "--latency", "-s", script, url],
                         capture_output=True, text=True, check=True).stdout
    def latency(p):
        m = re.search(r"^\s+%s%%\s+([\d.]+)(us|ms|s)" % p, out, re.M)
        value, unit = float(m.group(1)), m.group(2)
        return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    return latency(50), latency(99), rps, int(non2xx.group(1)) if non2xx else 0


class Follower(threading.Thread):
    """Reads /api/v1/events over a raw socket, counting `id:` lines by arrival time."""

    def __init__(self, host, port, token, after):
        super().__init__(daemon=True)
        self.host, self.port, self.token, self.after = host, port, token, after
        self.times = []
        self.last_id = after
        self.ready = threading.Event()
        self.stop = False

    def run(self):
        s = socket.create_connection((self.host, self.port))
        s.sendall(("GET /api/v1/events?from=%d HTTP/1.1\r\nHost: %s\r\nAuthorization: Bearer %s\r\nAccept: text/event-stream\r\n\r\n"
                   % (self.after, self.host, self.token)).encode())
        s.settimeout(0.5)
        tail = b""
        while not self.stop:
            try:
                chunk = s.recv(1 << 18)
            except socket.timeout:
                continue
            if not chunk:
                break
            self.ready.set()
            # Count events in C (bytes.count), not line by line: the harness must not eat the
            # cores the server and the writer share with it.
            data = tail + chunk
            n = data.count(b"\nid: ") + (1 if data.startswith(b"id: ") and not tail else 0)
            if n:
                i = data.rfind(b"id: ")
                j = data.find(b"\n", i)
                if j > 0:
                    self.last_id = int(data[i + 4:j])
                self.times.append((time.monotonic(), n))
            tail = data[-8:]
        s.close()


def cpu_seconds(pid):
    """User and system CPU seconds of process `pid` so far (/proc/PID/stat)."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def head(base, token):
    import urllib.request
    r = urllib.request.Request(base + "/api/v1/head", headers={"Authorization": "Bearer " + token})
    return json.load(urllib.request.urlopen(r))["position"]


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--atlas", required=True)
    p.add_argument("--tenants", type=int, default=100)
    p.add_argument("--items", type=int, default=2000)
    p.add_argument("--missing", type=int, default=20)
    p.add_argument("--connections", type=int, default=16)
    p.add_argument("--seconds", type=int, default=10)
    p.add_argument("--followers", type=int, default=100)
    p.add_argument("--writer-items", type=int, default=20000)
    p.add_argument("--dir")
    p.add_argument("--store", help="the store to build and serve: an LMDB directory (default: one in the work folder) "
                                   "or a postgres:// URL of a database with no Atlas store in it yet")
    a = p.parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk is missing (apt-get install wrk)")
    work = a.dir or tempfile.mkdtemp(prefix="atlas-serve-bench-")
    store = a.store or os.path.join(work, "store")
    rng = random.Random(1)

    def atlas(*args):
        subprocess.run([a.atlas] + list(args) + ["--store", store], check=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE)

    def guid():
        return str(uuid.UUID(int=rng.getrandbits(128), version=4))

    print("shape: %d tenants x %d random GUIDs (shape (b) at %d%%); tenant 0 re-synced without %d items"
          % (a.tenants, a.items, round(100 * a.tenants / 500), a.missing))
    started = time.monotonic()
    first = None
    for t in range(a.tenants):
        ids = [guid() for _ in range(a.items)]
        if t == 0:
            first = ids
        atlas("sync", "--tenant", "t%03d.example" % t, "--selection", SELECTION, "--from-file", export(os.path.join(work, "e.ndjson"), ids))
    atlas("sync", "--tenant", "t000.example", "--selection", SELECTION, "--from-file",
          export(os.path.join(work, "e.ndjson"), first[a.missing:]))
    print("store built in %.1f s" % (time.monotonic() - started))
    token = subprocess.run([a.atlas, "token", "create", "--name", "bench", "--store", store], check=True,
                           capture_output=True, text=True).stdout.strip()

    server = subprocess.Popen([a.atlas, "serve", "--store", store, "--port", "0", "--log-level", "warning"],
                              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        base = server.stdout.readline().strip()[len("listening on "):]
        host, port = base[len("http://"):].split(":")
        import urllib.request
        runs = json.load(urllib.request.urlopen(urllib.request.Request(
            base + "/api/v1/tenants/t000.example/runs", headers={"Authorization": "Bearer " + token})))
        selection_hash = runs[0]["selection_hash"]
        for name, path in [("missing (%d of %d items missing)" % (a.missing, a.items),
                            "/api/v1/tenants/t000.example/missing?selection_hash=" + selection_hash),
                           ("items (a page of 100)", "/api/v1/tenants/t000.example/items?limit=100")]:
            p50, p99, rps, bad = wrk(base + path, token, a.connections, a.seconds)
            print("%-34s %d connections: p50 %.2f ms, p99 %.2f ms, %.0f requests/s%s"
                  % (name, a.connections, p50, p99, rps, "" if bad == 0 else " (%d non-2xx!)" % bad))

        def write(tenant):
            ids = [guid() for _ in range(a.writer_items)]
            path = export(os.path.join(work, "w.ndjson"), ids)
            before = head(base, token)
            t0 = time.monotonic()
            atlas("sync", "--tenant", tenant, "--selection", SELECTION, "--from-file", path)
            elapsed = time.monotonic() - t0
            after = head(base, token)
            return after - before, elapsed, after, t0

        events, elapsed, _, _ = write("writer-alone.example")
        print("writer without followers: %d events in %.2f s = %.0f events/s" % (events, elapsed, events / elapsed))

        start = head(base, token)
        followers = [Follower(host, int(port), token, start) for _ in range(a.followers)]
        for f in followers:
            f.start()
        for f in followers:
            f.ready.wait(10)
        busy = cpu_seconds(server.pid)
        time.sleep(5)
        print("%d followers waiting for events: the server busy %.0f %% of a core over 5 s"
              % (a.followers, 100 * (cpu_seconds(server.pid) - busy) / 5))
        events, elapsed, end, began = write("writer-followed.example")
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and any(f.last_id < end for f in followers):
            time.sleep(0.05)
        for f in followers:
            f.stop = True
        caught_up = sum(1 for f in followers if f.last_id >= end)
        rates = sorted(sum(n for _, n in f.times) / max(f.times[-1][0] - f.times[0][0], 1e-3) for f in followers if len(f.times) > 1)
        lags = sorted(f.times[-1][0] - began for f in followers if f.times)
        print("writer with %d followers: %d events in %.2f s = %.0f events/s" % (a.followers, events, elapsed, events / elapsed))
        if rates:
            print("followers: %d of %d received all %d events; events/s per follower: min %.0f, median %.0f, max %.0f; "
                  "last event reached the slowest follower %.2f s after the writer began"
                  % (caught_up, a.followers, end - start, rates[0], rates[len(rates) // 2], rates[-1], lags[-1]))
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
        if not a.dir:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
