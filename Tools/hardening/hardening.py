#!/usr/bin/python3
"""Atlas hardening suite: faults, hostile input and secrets.

Run through Tools/hardening/run (which builds first). Prints one table
`case | tried | survived | lost events | leaked secrets` and `N passed, M failed`.
"""
import argparse, json, os, random, shutil, signal, stat, subprocess, sys, tempfile, time, urllib.request

P = argparse.ArgumentParser()
P.add_argument("--bin", required=True)
P.add_argument("--quick", action="store_true")
P.add_argument("--seed", type=int, default=20261128)
P.add_argument("--only", default="")
P.add_argument("--keep", action="store_true")
A = P.parse_args()
BIN = A.bin
RNG = random.Random(A.seed)
WORK = tempfile.mkdtemp(prefix="atlas-hard-")
SEL = '{"policy_types":["deviceConfiguration","deviceCompliancePolicy"]}'
PATHS = ["/beta/deviceManagement/deviceConfigurations", "/v1.0/deviceManagement/deviceCompliancePolicies"]
TOKENS = set()          # every bearer token any simulator issued
SECRETS = set()         # every client secret in use
LOGSEQ = [0]


def log(msg):
    print(msg, file=sys.stderr, flush=True)


class Case:
    def __init__(self, name):
        self.name, self.tried, self.survived, self.lost, self.leaked = name, 0, 0, 0, 0
        self.notes, self.skipped, self.files, self.stores = [], None, [], []

    def trial(self, ok, note=None):
        self.tried += 1
        if ok:
            self.survived += 1
        elif note:
            self.notes.append(note)
        if not ok:
            log(f"  [{self.name}] FAILED: {note}")

    @property
    def passed(self):
        return self.skipped is not None or (self.tried > 0 and self.survived == self.tried and self.lost == 0 and self.leaked == 0)


def run(case, argv, timeout=120, env=None, stdin=None):
    """Runs a tool; stdout/stderr captured to files (scanned for secrets). Returns (rc, out, err)."""
    LOGSEQ[0] += 1
    base = os.path.join(WORK, "logs", f"{LOGSEQ[0]:05d}-{os.path.basename(argv[0])}")
    os.makedirs(os.path.dirname(base), exist_ok=True)
    e = dict(os.environ)
    e.update(env or {})
    with open(base + ".out", "wb") as o, open(base + ".err", "wb") as r:
        try:
            p = subprocess.run(argv, stdout=o, stderr=r, env=e, timeout=timeout, stdin=stdin or subprocess.DEVNULL)
            rc = p.returncode
        except subprocess.TimeoutExpired:
            rc = "timeout"
    case.files += [base + ".out", base + ".err"]
    return rc, open(base + ".out", "rb").read(), open(base + ".err", "rb").read()


def spawn(case, argv, env=None):
    LOGSEQ[0] += 1
    base = os.path.join(WORK, "logs", f"{LOGSEQ[0]:05d}-{os.path.basename(argv[0])}")
    os.makedirs(os.path.dirname(base), exist_ok=True)
    e = dict(os.environ)
    e.update(env or {})
    o, r = open(base + ".out", "wb"), open(base + ".err", "wb")
    p = subprocess.Popen(argv, stdout=o, stderr=r, env=e, stdin=subprocess.DEVNULL)
    p.outpath, p.errpath = base + ".out", base + ".err"
    case.files += [base + ".out", base + ".err"]
    return p


def signalled(rc):
    return isinstance(rc, int) and (rc < 0 or rc >= 128)


def tool(name):
    return os.path.join(BIN, name)


class Simulator:
    def __init__(self, case, items=50, page_size=10, seed=1, tenants="contoso"):
        self.dumped = os.path.join(WORK, f"seed-{LOGSEQ[0]}-{seed}.json")
        self.p = subprocess.Popen([tool("graph-simulator"), "--port", "0", "--generate-tenants", tenants,
                                   "--items-per-collection", str(items), "--page-size", str(page_size),
                                   "--seed-value", str(seed), "--dump-seed", self.dumped],
                                  stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        line = self.p.stdout.readline().decode().strip()
        assert line.startswith("listening on "), line
        self.base = line[len("listening on "):]
        t = json.load(open(self.dumped))["tenants"][0]
        self.client_id, self.secret = t["client_id"], t["client_secret"]
        SECRETS.add(self.secret)
        self.env = {"ATLAS_CLIENT_ID": self.client_id, "ATLAS_CLIENT_SECRET": self.secret}

    def call(self, method, path, body=None):
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.base + path, data=data, method=method, headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=10) as r:
            return json.loads(r.read())

    def fault(self, path, fault, tenant="contoso"):
        return self.call("POST", "/_sim/faults", {"tenant": tenant, "path": path, "fault": fault})

    def clear_faults(self):
        self.call("DELETE", "/_sim/faults")

    def harvest_tokens(self):
        for r in self.call("GET", "/_sim/requests")["value"]:
            a = r.get("authorization")
            if a and a.lower().startswith("bearer "):
                TOKENS.add(a[7:].strip())

    def stop(self):
        try:
            self.harvest_tokens()
        except Exception as e:
            log(f"  could not read the simulator's request log: {e}")
        self.p.send_signal(signal.SIGTERM)
        try:
            self.p.wait(10)
        except subprocess.TimeoutExpired:
            self.p.kill()


def atlas(case, sim, store, args, timeout=120):
    return run(case, [tool("atlas")] + args + ["--store", store, "--graph-base-url", sim.base, "--login-base-url", sim.base],
               timeout=timeout, env=sim.env)


def export(case, store):
    rc, out, err = run(case, [tool("atlas-replay"), "export", "--store", store])
    lines = {}
    for l in out.splitlines():
        if l.strip():
            lines[json.loads(l)["position"]] = l
    return rc, lines


def verify(case, store, extra=()):
    return run(case, [tool("atlas-replay"), "verify", "--store", store, *extra], timeout=180)


def last_json(out):
    for l in reversed(out.decode(errors="replace").splitlines()):
        l = l.strip()
        if l.startswith("{"):
            return json.loads(l)
    return None


def scan_and_perms(case):
    """Counts occurrences of secrets/tokens, and of fragments of them, in captured output and store
    files; checks modes. Every 8-byte piece of a client secret is a needle (so any fragment of 8 or
    more bytes is found); of a token, its 8-byte pieces at every 8th offset (so any fragment of 16
    or more bytes is found: a token is long, and every piece of it would make the scan slow)."""
    needles = []  # per secret or token, its pieces
    for s in SECRETS | TOKENS:
        b = s.encode()
        step = 1 if s in SECRETS else 8
        needles.append({b[i:i + 8] for i in range(0, len(b) - 7, step)})
    files = list(case.files)
    for s in case.stores:
        for f in ("data.mdb", "lock.mdb"):
            if os.path.exists(os.path.join(s, f)):
                files.append(os.path.join(s, f))
        if os.path.isdir(s):
            m = stat.S_IMODE(os.stat(s).st_mode)
            if m & 0o077:
                case.notes.append(f"store dir {s} mode {oct(m)} (want 0700)")
                case.leaked += 1
            for f in os.listdir(s):
                fm = stat.S_IMODE(os.stat(os.path.join(s, f)).st_mode)
                if fm & 0o077:
                    case.notes.append(f"{f} mode {oct(fm)} (want 0600)")
                    case.leaked += 1
    for f in files:
        try:
            data = open(f, "rb").read()
        except OSError:
            continue
        for pieces in needles:
            # One leak per secret or token found (whole or in part) in a file.
            hit = next((n for n in pieces if n in data), None)
            if hit is not None:
                at = data.find(hit)
                case.leaked += 1
                case.notes.append(f"secret/token (or a piece of one) found in {f}: {hit!r} at byte {at}, "
                                  f"in {data[max(0, at - 24):at + 32]!r}")


# ---------------------------------------------------------------------------------------- cases

def case_crash():
    c = Case("crash")
    trials = 4 if A.quick else 22
    sim = Simulator(c, items=300, page_size=5, seed=7)
    store = os.path.join(WORK, "crash-store")
    c.stores.append(store)
    victims_with_run = 0
    prev_runs = 0
    try:
        for t in range(trials):
            r = random.Random(A.seed * 1000 + t)
            for p in PATHS:
                sim.fault(p, {"kind": "slow", "seconds": round(r.uniform(0.06, 0.15), 3), "times": None})
            victim = spawn(c, [tool("atlas"), "sync", "--tenant", "contoso", "--selection", SEL, "--json", "--store", store,
                               "--graph-base-url", sim.base, "--login-base-url", sim.base], env=sim.env)
            time.sleep(r.uniform(0.3, 2.5))
            _, before = export(c, store) if os.path.exists(os.path.join(store, "data.mdb")) else (0, {})
            in_flight = victim.poll() is None
            victim.kill()
            victim.wait()
            sim.clear_faults()
            problems = []
            if not in_flight:
                problems.append("victim finished before the kill (not in flight)")
            vrc, vout, verr = verify(c, store) if before or os.path.exists(os.path.join(store, "data.mdb")) else (0, b"", b"")
            if vrc != 0:
                problems.append(f"verify exit {vrc}: {verr[-300:]!r}")
            _, after = export(c, store)
            lost = sum(1 for pos, l in before.items() if after.get(pos) != l)
            c.lost += lost
            nrc, nout, nerr = atlas(c, sim, store, ["sync", "--tenant", "contoso", "--selection", SEL, "--json"])
            s = last_json(nout)
            if nrc != 0 or not s or s.get("status") != "success":
                problems.append(f"next run: exit {nrc} {nout[-200:]!r} {nerr[-200:]!r}")
            rrc, rout, _ = run(c, [tool("atlas"), "runs", "--tenant", "contoso", "--json", "--store", store])
            runs = json.loads(rout) if rout.strip().startswith(b"[") else [json.loads(l) for l in rout.splitlines() if l.strip()]
            if isinstance(runs, dict):
                runs = runs.get("runs", [])
            if any(x.get("status") == "running" for x in runs):
                problems.append("a run is still 'running' after the next run")
            abandoned = sum(1 for x in runs if x.get("status") == "failed" and x.get("error_codes") == ["abandoned"])
            # A victim killed before it recorded its run leaves no run; then there are fewer runs.
            if in_flight and len(runs) - prev_runs == 2:
                victims_with_run += 1
            prev_runs = len(runs)
            if abandoned != victims_with_run:
                problems.append(f"{abandoned} abandoned runs, {victims_with_run} victims had started one")
            if lost:
                problems.append(f"{lost} acknowledged events lost")
            c.trial(not problems, "; ".join(problems) if problems else None)
            log(f"  crash trial {t + 1}/{trials}: seen {len(before)} before kill, head {len(after)}, "
                f"runs {len(runs)} (abandoned {abandoned}) {'ok' if not problems else problems}")
        c.notes.append(f"{victims_with_run} of {trials} victims were killed after recording their run")
    finally:
        sim.stop()
    return c


def case_mapfull():
    c = Case("map-full/resize")
    trials = 1 if A.quick else 2
    for t in range(trials):
        store = os.path.join(WORK, f"map-store-{t}")
        c.stores.append(store)
        total = 3000 if A.quick else 6000
        rc, out, err = run(c, [tool("atlas-testkit"), "sub-append", "--store", store, "--create", "--total", "1", "--map-size", "65536"])
        if rc != 0:
            c.trial(False, f"create: exit {rc} {err[-200:]!r}")
            continue
        follower = spawn(c, [tool("atlas-testkit"), "sub-follow", "--store", store, "--until", str(total), "--quiet"])
        tail = spawn(c, [tool("atlas-replay"), "tail", "--store", store, "--from", "1"])
        time.sleep(0.5)
        arc, aout, aerr = run(c, [tool("atlas-testkit"), "sub-append", "--store", store, "--total", str(total - 1),
                                  "--batch", str(25 + 25 * t), "--burst", "200", "--pause-ms", "5", "--map-size", "65536"])
        problems = []
        if arc != 0:
            problems.append(f"append exit {arc}: {aerr[-300:]!r}")
        try:
            follower.wait(60)
        except subprocess.TimeoutExpired:
            follower.kill()
            problems.append("reader did not reach the head within 60 s")
        fout = open(follower.outpath).read()
        if "done" not in fout or f" {total} " not in fout.split("done", 1)[1] + " ":
            problems.append(f"reader: {fout[-200:]!r} rc {follower.returncode}")
        deadline = time.time() + 30
        while time.time() < deadline:
            with open(tail.outpath, "rb") as f:
                n = sum(1 for _ in f)
            if n >= total:
                break
            time.sleep(0.2)
        tail.send_signal(signal.SIGTERM)
        try:
            tail.wait(10)
        except subprocess.TimeoutExpired:
            tail.kill()
        positions = [json.loads(l)["position"] for l in open(tail.outpath, "rb") if l.strip()]
        if positions != list(range(1, total + 1)):
            missing = total - len(set(positions))
            c.lost += max(0, missing)
            problems.append(f"tail delivered {len(positions)} of {total} events (first positions {positions[:3]})")
        if signalled(tail.returncode):
            problems.append(f"tail exit {tail.returncode}")
        vrc, vout, verr = verify(c, store, ["--log-only"])
        if vrc != 0:
            problems.append(f"verify exit {vrc}: {verr[-300:]!r}")
        c.trial(not problems, "; ".join(problems) if problems else None)
    return c


def write_export(path, n, pad=2000, name_pad=0):
    with open(path, "w") as f:
        for i in range(n):
            f.write(json.dumps({"policy_type": "deviceConfiguration",
                                "item": {"id": f"dc-{i:06d}", "displayName": f"Policy {i} " + "n" * name_pad, "blob": "x" * pad}}) + "\n")
        # Coverage markers: each type of SEL was exported completely.
        f.write(json.dumps({"policy_type": "deviceConfiguration", "enumerated": {"count": n}}) + "\n")
        f.write(json.dumps({"policy_type": "deviceCompliancePolicy", "enumerated": {"count": 0}}) + "\n")


def case_diskfull():
    c = Case("disk-full")
    if os.geteuid() != 0:
        c.skipped = "not root: cannot mount a tmpfs"
        return c
    mnt = os.path.join(WORK, "tmpfs")
    os.makedirs(mnt)
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", mnt], capture_output=True)
    if r.returncode != 0:
        c.skipped = "mount not permitted: " + r.stderr.decode(errors="replace").strip()[:80]
        return c
    sim_env = {"ATLAS_CLIENT_ID": "x", "ATLAS_CLIENT_SECRET": next(iter(SECRETS)) if SECRETS else "unused-secret-1234"}
    try:
        store = os.path.join(mnt, "store")
        exp = os.path.join(WORK, "big-export.ndjson")
        write_export(exp, 12000, pad=10, name_pad=900)
        problems = []
        rc, out, err = run(c, [tool("atlas"), "sync", "--tenant", "contoso", "--selection", SEL, "--from-file", exp,
                               "--json", "--store", store], env=sim_env, timeout=180)
        text = (out + err).decode(errors="replace")
        if signalled(rc) or rc == "timeout":
            problems.append(f"sync crashed or hung: {rc}")
        elif rc != 1:
            problems.append(f"sync into a full disk exited {rc}, not 1: {text[-300:]!r}")
        elif "store_full" not in text:
            problems.append(f"no store_full error code: {text[-300:]!r}")
        copy = os.path.join(WORK, "diskfull-copy")
        if os.path.exists(os.path.join(store, "data.mdb")):
            shutil.copytree(store, copy)
            c.stores.append(copy)
            vrc, vout, verr = verify(c, copy)
            if vrc != 0:
                problems.append(f"verify of the full store exit {vrc}: {(vout + verr)[-300:]!r}")
            _, lines = export(c, copy)
            if any(json.loads(l)["envelope"]["type"].endswith("item_observed") for l in lines.values()) and \
                    not any(json.loads(l)["envelope"]["type"].endswith("run_finished") for l in lines.values()):
                pass  # observations of an unfinished run are never taken as complete (the run is abandoned later)
        c.trial(not problems, "; ".join(problems) if problems else None)
        # Free space (bigger tmpfs) and re-run: succeeds, the dead run is finished as abandoned.
        subprocess.run(["mount", "-o", "remount,size=256m", mnt], check=True)
        rc, out, err = run(c, [tool("atlas"), "sync", "--tenant", "contoso", "--selection", SEL, "--from-file", exp,
                               "--json", "--store", store], env=sim_env, timeout=180)
        s = last_json(out)
        problems = []
        if rc != 0 or not s or s.get("status") != "success":
            problems.append(f"re-run after freeing space: exit {rc} {(out + err)[-300:]!r}")
        vrc, vout, verr = verify(c, store)
        if vrc != 0:
            problems.append(f"verify after re-run exit {vrc}: {(vout + verr)[-300:]!r}")
        c.trial(not problems, "; ".join(problems) if problems else None)
        c.stores.append(store)
        scan_and_perms(c)
        c.stores.remove(store)
    finally:
        subprocess.run(["umount", "-l", mnt])
    return c


def offline_store(c, name, n=300):
    store = os.path.join(WORK, name)
    exp = os.path.join(WORK, name + ".ndjson")
    write_export(exp, n, pad=50)
    rc, out, err = run(c, [tool("atlas"), "sync", "--tenant", "contoso", "--selection", SEL, "--from-file", exp, "--store", store])
    assert rc == 0, (rc, err)
    return store


def case_corruption():
    c = Case("corruption")
    import lmdb
    base = offline_store(c, "corrupt-base")
    _, lines = export(c, base)
    head = max(lines)
    flips = 4 if A.quick else 12
    for t in range(flips):
        r = random.Random(A.seed + 77 * t)
        store = os.path.join(WORK, f"corrupt-flip-{t}")
        shutil.copytree(base, store)
        c.stores.append(store)
        pos = r.randint(1, head)
        env = lmdb.open(store, max_dbs=64, subdir=True)
        db = env.open_db(b"events", create=False)
        with env.begin(write=True, db=db) as txn:
            v = bytearray(txn.get(pos.to_bytes(8, "big")))
            i = r.randrange(len(v))
            v[i] ^= 1 << r.randrange(8)
            txn.put(pos.to_bytes(8, "big"), bytes(v))
        env.close()
        rc, out, err = verify(c, store)
        text = (out + err).decode(errors="replace")
        ok = rc == 1 and str(pos) in text
        c.trial(ok, None if ok else f"flip at position {pos} byte {i}: verify exit {rc}: {text[-300:]!r}")
        for cmd in (["stats"], ["export"], ["audit", "selections"]):
            rc2, _, e2 = run(c, [tool("atlas-replay"), *cmd, "--store", store])
            c.trial(not signalled(rc2) and rc2 != "timeout", f"{cmd[0]} on a flipped store: exit {rc2} {e2[-200:]!r}")
    # Truncations of data.mdb: a clear error, never a signal.
    size = os.path.getsize(os.path.join(base, "data.mdb"))
    for frac in ([0.5] if A.quick else [0.0, 0.01, 0.3, 0.5, 0.9]):
        store = os.path.join(WORK, f"corrupt-trunc-{frac}")
        shutil.copytree(base, store)
        c.stores.append(store)
        os.truncate(os.path.join(store, "data.mdb"), int(size * frac))
        for argv in ([tool("atlas-replay"), "verify", "--store", store], [tool("atlas-replay"), "stats", "--store", store],
                     [tool("atlas"), "items", "--tenant", "contoso", "--store", store]):
            rc, out, err = run(c, argv, timeout=60)
            ok = rc in (1, 2) and len(err.strip()) > 0
            c.trial(ok, None if ok else f"truncated to {int(size * frac)} bytes: {os.path.basename(argv[0])} {argv[1]} exit {rc} {err[-200:]!r}")
    # Deleting lock.mdb is harmless: the store opens and verifies; readers open it without a
    # lock file and create none.
    store = os.path.join(WORK, "corrupt-nolock")
    shutil.copytree(base, store)
    c.stores.append(store)
    os.remove(os.path.join(store, "lock.mdb"))
    rc, out, err = verify(c, store)
    rc2, _, err2 = run(c, [tool("atlas"), "items", "--tenant", "contoso", "--store", store])
    ok = rc == 0 and rc2 == 0 and not os.path.exists(os.path.join(store, "lock.mdb"))
    c.trial(ok, None if ok else f"without lock.mdb: verify {rc} items {rc2} {err[-200:]!r}{err2[-200:]!r}")
    return c


def mutate(r, b):
    b = bytearray(b)
    for _ in range(r.randint(1, 4)):
        at = r.randint(0, len(b))
        k = r.randrange(8)
        if k == 0 and b:
            b[min(at, len(b) - 1)] ^= 1 << r.randrange(8)
        elif k == 1:
            del b[at:]
        elif k == 2:
            b[at:at] = b"\x00"
        elif k == 3:
            b[at:at] = r.choice([b"\xff", b"\xc3", b"\xed\xa0\x80", b"\xc0\xaf"])
        elif k == 4:
            b[at:at] = b"[" * r.randint(1, 3000)
        elif k == 5:
            b[at:at] = r.choice([b"{", b"}", b'"', b",", b":", b"\\u0000", b"\\ud800"])
        elif k == 6:
            b[at:at] = b"\n"
        else:
            b[at:at] = r.choice([b"1e99999", b"null", b"-0", b"true"])
    return bytes(b)


def case_hostile():
    c = Case("hostile input")
    n_sel = 20 if A.quick else 60
    r = random.Random(A.seed + 5)
    base_sel = b'{"policy_types":["deviceConfiguration","deviceCompliancePolicy"],"categories":["compliance"],"include_foundations":true}'
    for i in range(n_sel):
        sel = mutate(r, base_sel)
        path = os.path.join(WORK, f"sel-{i}.json")
        open(path, "wb").write(sel)
        rc, out, err = run(c, [tool("atlas"), "selection", "hash", "--selection", "@" + path], timeout=30)
        ok = rc in (0, 2) and (rc == 0 or len(err.strip()) > 0) and len(err) < 20000
        c.trial(ok, None if ok else f"selection {sel[:60]!r}: exit {rc} {err[-200:]!r}")
    for sel in [b"[" * 200000, b'{"policy_types":["' + b"x" * (10 << 20) + b'"]}', b'{"policy_types":["device\x00Configuration"]}', b"\xff\xfe{}"]:
        path = os.path.join(WORK, "sel-special.json")
        open(path, "wb").write(sel)
        rc, out, err = run(c, [tool("atlas"), "selection", "hash", "--selection", "@" + path], timeout=30)
        ok = rc in (0, 2) and (rc == 0 or len(err.strip()) > 0) and len(err) < 20000
        c.trial(ok, None if ok else f"selection {sel[:40]!r}…: exit {rc} {len(err)} bytes of stderr {err[:200]!r}")
    # Export files with mutated lines: the run ends partial (or success/failed), never crashes.
    good = [json.dumps({"policy_type": "deviceConfiguration", "item": {"id": f"dc-{i}", "displayName": f"P {i}"}}).encode()
            for i in range(20)]
    good += [json.dumps({"policy_type": "deviceCompliancePolicy", "item": {"id": f"cp-{i}", "displayName": f"C {i}"}}).encode()
             for i in range(10)]
    good += [json.dumps({"policy_type": t, "enumerated": {"count": n}}).encode()
             for t, n in (("deviceConfiguration", 20), ("deviceCompliancePolicy", 10))]
    n_exp = 6 if A.quick else 25
    store = os.path.join(WORK, "hostile-store")
    c.stores.append(store)
    specials = [
        b'{"policy_type":"deviceConfiguration","item":{"id":"huge","displayName":"' + b"x" * (10 << 20) + b'"}}',
        b'{"policy_type":"deviceConfiguration","item":{"id":"deep","v":' + b"[" * 100000 + b"]" * 100000 + b"}}",
        b'{"policy_type":"deviceConfiguration","item":{"id":"bad\xff\xfeutf8","displayName":"x"}}',
        b'{"policy_type":"deviceConfiguration","item":{"id":"nul\x00","displayName":"x"}}',
        b'{"policy_type":"deviceConfiguration","item":{"id":"esc\\u0000","displayName":"\\ud800"}}',
        b"\x00" * 1000,
        b'{"policy_type":"' + b"y" * 100000 + b'","item":{"id":"z"}}',
    ]
    for i in range(n_exp + len(specials)):
        lines = list(good)
        if i < n_exp:
            for _ in range(r.randint(1, 5)):
                j = r.randrange(len(lines))
                lines[j] = mutate(r, lines[j])
        else:
            lines.insert(r.randrange(len(lines)), specials[i - n_exp])
        path = os.path.join(WORK, f"exp-{i}.ndjson")
        open(path, "wb").write(b"\n".join(lines) + b"\n")
        rc, out, err = run(c, [tool("atlas"), "sync", "--tenant", "contoso", "--selection", SEL, "--from-file", path, "--json",
                               "--store", store], timeout=120)
        s = last_json(out) if rc in (0, 1) else None
        ok = rc in (0, 1) and s is not None and s.get("status") in ("success", "partial", "failed") and len(err) < 100000
        if ok and s.get("status") != "success":
            ok = bool(s.get("error_codes"))
        c.trial(ok, None if ok else f"export {i}: exit {rc} {out[-200:]!r} {err[-200:]!r}")
    vrc, vout, verr = verify(c, store)
    c.trial(vrc == 0, f"verify after hostile exports: exit {vrc} {verr[-200:]!r}")
    return c


def case_graph():
    c = Case("graph misbehaviour")
    sim = Simulator(c, items=30, page_size=5, seed=11)
    dc, cp = PATHS
    # fault, extra graph-sync options, wanted status, wanted error code, time bound (s)
    cases = [
        ("endless nextLink", {"kind": "endless_next_link", "times": None}, ["--max-pages", "200"], "partial", "graph_paging_loop", 60),
        ("slow-loris", {"kind": "slow", "seconds": 8, "times": None}, ["--request-timeout", "1", "--max-attempts", "2", "--budget", "3"], "partial", "graph_transport", 30),
        ("huge Retry-After", {"kind": "status", "status": 429, "retry_after": "86400", "times": None}, ["--max-wait", "1", "--max-attempts", "3", "--budget", "5"], "partial", "graph_throttled", 30),
        ("huge Retry-After once", {"kind": "status", "status": 429, "retry_after": "86400"}, ["--max-wait", "1"], "success", None, 15),
        ("503 Retry-After", {"kind": "status", "status": 503, "retry_after": "86400", "times": None}, ["--max-wait", "1", "--max-attempts", "3", "--budget", "5"], "partial", "graph_unavailable", 30),
        ("200 error body", {"kind": "error_body_200", "times": None}, [], "partial", None, 30),
        ("reset connection", {"kind": "reset_connection", "times": None}, ["--max-attempts", "3", "--max-wait", "0.2"], "partial", "graph_transport", 30),
        ("non-JSON 200", {"kind": "non_json", "times": None}, [], "partial", "graph_bad_response", 30),
        ("missing value", {"kind": "missing_value", "times": None}, [], "partial", "graph_bad_response", 30),
    ]
    if A.quick:
        cases = cases[:3]
    try:
        for i, (name, fault, opts, want_status, want_code, bound) in enumerate(cases):
            store = os.path.join(WORK, f"graph-store-{i}")
            c.stores.append(store)
            sim.clear_faults()
            sim.fault(dc, fault)
            t0 = time.time()
            rc, out, err = run(c, [tool("atlas-testkit"), "graph-sync", "--store", store, "--tenant", "contoso", "--selection", SEL,
                                   "--graph-base-url", sim.base, *opts], timeout=bound, env=sim.env)
            took = time.time() - t0
            s = last_json(out)
            problems = []
            if rc == "timeout" or signalled(rc):
                problems.append(f"did not end within {bound} s or crashed ({rc})")
            elif not s:
                problems.append(f"no summary: exit {rc} {err[-300:]!r}")
            else:
                if s["status"] != want_status:
                    problems.append(f"status {s['status']}, want {want_status} ({s.get('error_codes')})")
                if want_code and want_code not in s.get("error_codes", []):
                    problems.append(f"codes {s.get('error_codes')}, want {want_code}")
                if want_status != "success" and not s.get("error_codes"):
                    problems.append("no error code")
                if want_status == "success" and took > 10:
                    problems.append(f"took {took:.1f} s: Retry-After was not capped")
            c.trial(not problems, f"{name}: " + "; ".join(problems) if problems else None)
            log(f"  graph {name}: {s and s.get('status')} {s and s.get('error_codes')} in {took:.1f} s")
        # The real CLI with the production limits on a fault that ends quickly: a 200 error body.
        sim.clear_faults()
        sim.fault(dc, {"kind": "error_body_200", "times": None})
        store = os.path.join(WORK, "graph-store-cli")
        c.stores.append(store)
        rc, out, err = atlas(c, sim, store, ["sync", "--tenant", "contoso", "--selection", SEL, "--json"], timeout=60)
        s = last_json(out)
        ok = rc == 0 and s and s["status"] == "partial" and s.get("error_codes")
        c.trial(bool(ok), None if ok else f"atlas sync with a 200 error body: exit {rc} {out[-200:]!r} {err[-200:]!r}")
        # The real CLI with the production limits on an endless nextLink loop: detected, bounded.
        sim.clear_faults()
        sim.fault(dc, {"kind": "endless_next_link", "times": None})
        t0 = time.time()
        rc, out, err = atlas(c, sim, store, ["sync", "--tenant", "contoso", "--selection", SEL, "--json"], timeout=90)
        s = last_json(out)
        ok = rc == 0 and s and s["status"] == "partial" and "graph_paging_loop" in s.get("error_codes", [])
        c.trial(bool(ok), None if ok else f"atlas sync with an endless nextLink: exit {rc} {out[-200:]!r} {err[-200:]!r}")
        log(f"  graph endless nextLink via atlas sync: {s and s.get('status')} {s and s.get('error_codes')} in {time.time() - t0:.1f} s")
        # Credentials that are wrong: auth_failed, the secret never echoed.
        env = dict(sim.env)
        env["ATLAS_CLIENT_SECRET"] = sim.secret + "-wrong"
        SECRETS.add(env["ATLAS_CLIENT_SECRET"])
        rc, out, err = run(c, [tool("atlas"), "sync", "--tenant", "contoso", "--selection", SEL, "--json", "--store", store,
                               "--graph-base-url", sim.base, "--login-base-url", sim.base], env=env, timeout=60)
        s = last_json(out)
        ok = rc == 1 and s and "auth_failed" in s.get("error_codes", [])
        c.trial(bool(ok), None if ok else f"wrong secret: exit {rc} {out[-200:]!r} {err[-200:]!r}")
    finally:
        sim.stop()
    return c


# ------------------------------------------------------------------ storage mutation

def write_items(path, items, complete=True):
    """An offline export of deviceConfiguration items (id, display name) with both types' markers."""
    with open(path, "w") as f:
        for i, name in items:
            f.write(json.dumps({"policy_type": "deviceConfiguration", "item": {"id": i, "displayName": name}}) + "\n")
        if complete:
            f.write(json.dumps({"policy_type": "deviceConfiguration", "enumerated": {"count": len(items)}}) + "\n")
            f.write(json.dumps({"policy_type": "deviceCompliancePolicy", "enumerated": {"count": 0}}) + "\n")


def read_answers(c, store):
    """What the read commands say about a store: (name, rc, stdout, stderr) for `atlas items`,
    `atlas missing` and `atlas-replay export`."""
    out = []
    for name, argv in (("items", [tool("atlas"), "items", "--tenant", "contoso", "--json", "--store", store]),
                       ("missing", [tool("atlas"), "missing", "--tenant", "contoso", "--selection", SEL, "--json", "--store", store]),
                       ("export", [tool("atlas-replay"), "export", "--store", store])):
        rc, o, e = run(c, argv, timeout=60)
        out.append((name, rc, o, e))
    return out


def judge_mutant(c, label, store, baseline, want=None, raw=False):
    """One trial: verify and the read commands on a mutated store. Detected (verify exit 1 naming
    `want` when given, or a read command refusing with a message) or harmless (the same answers);
    never a hang, or a changed answer that verify does not report; never a signal, except that on
    a raw byte flip (`raw`) a read command other than verify may die of one when verify, which
    reads in an isolated child, reports the damage: LMDB 0.9 has no page checksums, so a damaged
    page header can crash any process that reads it (each such death is noted)."""
    vrc, vout, verr = run(c, [tool("atlas-replay"), "verify", "--store", store, "--step-timeout", "20"], timeout=90)
    vtext = (vout + verr).decode(errors="replace")
    reads = read_answers(c, store)
    problems = []
    if vrc == "timeout" or signalled(vrc):
        problems.append(f"verify {vrc}")
    elif vrc not in (0, 1, 2) or (vrc != 0 and not verr.strip()):
        problems.append(f"verify exit {vrc} without a message")
    detected = vrc in (1, 2) and bool(verr.strip())
    if detected and want and not any(w in vtext for w in want):
        problems.append(f"verify exit {vrc} without naming {want}: {vtext[-300:]!r}")
    changed = []
    for (name, rc, o, e), (_, brc, bo, _) in zip(reads, baseline):
        if raw and detected and signalled(rc):
            c.notes.append(f"{label}: {name} died ({rc}); verify reported the damage")
        elif rc == "timeout" or signalled(rc):
            problems.append(f"{name} {rc}: {e[-200:]!r}")
        elif rc in (1, 2) and e.strip():
            pass  # refused with a message
        elif rc != brc or o != bo:
            changed.append(f"{name} exit {rc}")
    if changed and not detected:
        problems.append("silent wrong answer (verify passes): " + ", ".join(changed))
    kind = "detected by verify" if detected else ("refused" if any(r[1] in (1, 2) for r in reads) else "harmless")
    log(f"  mutation {label}: verify {vrc}, {kind}{'; changed: ' + ', '.join(changed) if changed else ''}"
        f"{' PROBLEM ' + '; '.join(problems) if problems else ''}")
    c.trial(not problems, f"{label}: " + "; ".join(problems) if problems else None)


def lmdb_mutation(store, fn):
    import lmdb
    env = lmdb.open(store, max_dbs=64, subdir=True, create=False)
    try:
        with env.begin(write=True) as txn:
            dbs = {n: env.open_db(n, txn=txn, create=False) for n, _ in txn.cursor()}
            fn(txn, dbs)
    finally:
        env.close()


def case_mutation():
    c = Case("storage mutation")
    try:
        import lmdb  # noqa: F401
    except ImportError:
        c.skipped = "python3-lmdb is missing"
        return c
    base = os.path.join(WORK, "mutation-base")
    c.stores.append(base)
    exp = os.path.join(WORK, "mutation-1.ndjson")
    write_items(exp, [(f"dc-{i:03d}", f"Policy {i}") for i in range(40)])
    rc1, _, e1 = run(c, [tool("atlas"), "sync", "--tenant", "contoso", "--selection", SEL, "--from-file", exp, "--store", base])
    write_items(exp, [(f"dc-{i:03d}", f"Policy {i}" + (" v2" if i % 7 == 0 else "")) for i in range(5, 40)])
    rc2, _, e2 = run(c, [tool("atlas"), "sync", "--tenant", "contoso", "--selection", SEL, "--from-file", exp, "--store", base])
    if rc1 != 0 or rc2 != 0:
        c.trial(False, f"base store: sync exit {rc1}/{rc2} {e1[-200:]!r}{e2[-200:]!r}")
        return c
    baseline = read_answers(c, base)
    if any(rc != 0 for _, rc, _, _ in baseline):
        c.trial(False, f"base store reads: {[(n, rc, e[-100:]) for n, rc, _, e in baseline]}")
        return c
    head = len([l for l in baseline[2][2].splitlines() if l.strip()])
    r = random.Random(A.seed + 9)
    K = lambda p: p.to_bytes(8, "big")
    INV, RUNS, DONE, OBS = b"p/inventory_items/1/items", b"p/sync_runs/1/runs", b"p/sync_runs/1/completed", b"p/selection_observations/1/observations"

    def nth(txn, db, i=None):
        rows = list(txn.cursor(db=db))
        return rows[r.randrange(len(rows)) if i is None else i]

    def flip(b):
        b = bytearray(b)
        b[r.randrange(len(b))] ^= 1 << r.randrange(8)
        return bytes(b)

    P = r.randint(2, head - 1)
    Q = r.choice([q for q in range(2, head) if q != P])
    # name, mutation, what verify must name
    logical = [
        ("events: value bit flip", lambda t, d: t.put(K(P), flip(t.get(K(P), db=d[b"events"])), db=d[b"events"]), [str(P)]),
        ("events: event deleted (gap)", lambda t, d: t.delete(K(P), db=d[b"events"]), [str(P)]),
        ("events: head event deleted", lambda t, d: t.delete(K(head), db=d[b"events"]), [str(head), "event_ids", "tenant"]),
        ("events: two values swapped", lambda t, d: (lambda a, b: (t.put(K(P), b, db=d[b"events"]), t.put(K(Q), a, db=d[b"events"])))(
            t.get(K(P), db=d[b"events"]), t.get(K(Q), db=d[b"events"])), [str(min(P, Q))]),
        ("events: key renumbered past the head", lambda t, d: (t.put(K(head + 5), t.get(K(head), db=d[b"events"]), db=d[b"events"]),
                                                               t.delete(K(head), db=d[b"events"])), [str(head)]),
        ("events: chain bytes changed", lambda t, d: t.put(K(P), flip(t.get(K(P), db=d[b"events"])[:32]) + t.get(K(P), db=d[b"events"])[32:],
                                                            db=d[b"events"]), [str(P)]),
        ("event_ids: entry deleted", lambda t, d: t.delete(nth(t, d[b"event_ids"])[0], db=d[b"event_ids"]), ["event_ids"]),
        ("event_ids: points elsewhere", lambda t, d: (lambda k: t.put(k, K(P if t.get(k, db=d[b"event_ids"]) != K(P) else Q), db=d[b"event_ids"]))(
            nth(t, d[b"event_ids"])[0]), ["event_ids"]),
        ("event_ids: extra entry", lambda t, d: t.put(os.urandom(16), K(P), db=d[b"event_ids"]), ["event_ids"]),
        ("tenant_events: entry deleted", lambda t, d: t.delete(b"contoso\x00" + K(P), db=d[b"tenant_events"]), ["tenant"]),
        ("tenant_events: extra entry", lambda t, d: t.put(b"contoso\x00" + K(head + 3), b"", db=d[b"tenant_events"]), ["tenant"]),
        ("tenant_events: moved to another tenant", lambda t, d: (t.delete(b"contoso\x00" + K(P), db=d[b"tenant_events"]),
                                                                 t.put(b"fabrikam\x00" + K(P), b"", db=d[b"tenant_events"])), ["tenant"]),
        ("inventory_items: row value changed", lambda t, d: (lambda k, v: t.put(k, flip(v), db=d[INV]))(*nth(t, d[INV])), ["inventory_items"]),
        ("inventory_items: row deleted", lambda t, d: t.delete(nth(t, d[INV])[0], db=d[INV]), ["inventory_items"]),
        ("inventory_items: row added", lambda t, d: (lambda k, v: t.put(k[:-3] + b"zzz", v, db=d[INV]))(*nth(t, d[INV])), ["inventory_items"]),
        ("sync_runs: record status changed", lambda t, d: (lambda k, v: t.put(k, v.replace(b'"status":"success"', b'"status":"failed"'), db=d[RUNS]))(
            *nth(t, d[RUNS], 0)), ["sync_runs"]),
        ("sync_runs: completed row deleted", lambda t, d: t.delete(nth(t, d[DONE], -1)[0], db=d[DONE]), ["sync_runs"]),
        ("selection_observations: row deleted", lambda t, d: t.delete(nth(t, d[OBS])[0], db=d[OBS]), ["selection_observations"]),
        ("projections: checkpoint behind", lambda t, d: t.put(b"inventory_items", t.get(b"inventory_items", db=d[b"projections"]).replace(
            b'"checkpoint":%d' % head, b'"checkpoint":%d' % P), db=d[b"projections"]), None),
        ("projections: checkpoint past the head", lambda t, d: t.put(b"sync_runs", t.get(b"sync_runs", db=d[b"projections"]).replace(
            b'"checkpoint":%d' % head, b'"checkpoint":%d' % (head + 100)), db=d[b"projections"]), None),
        ("meta: format version 99", lambda t, d: t.put(b"format_version", b"99", db=d[b"meta"]), None),
    ]
    if A.quick:
        logical = [logical[i] for i in (0, 3, 7, 11, 12, 15)]
    for i, (label, fn, want) in enumerate(logical):
        store = os.path.join(WORK, f"mutant-{i}")
        shutil.copytree(base, store)
        c.stores.append(store)
        try:
            lmdb_mutation(store, fn)
        except Exception as e:
            c.trial(False, f"{label}: could not mutate: {e!r}")
            continue
        judge_mutant(c, label, store, baseline, want)
    # Raw byte flips in data.mdb copies: meta pages, page headers, anywhere.
    size = os.path.getsize(os.path.join(base, "data.mdb"))
    pages = size // 4096
    flips = 4 if A.quick else 24
    for t in range(flips):
        where = ["meta", "header", "anywhere"][t % 3]
        store = os.path.join(WORK, f"rawflip-{t}")
        shutil.copytree(base, store)
        c.stores.append(store)
        if where == "meta":
            off = r.choice([0, 4096]) + r.randrange(16, 136)
        elif where == "header":
            off = r.randrange(2, pages) * 4096 + r.randrange(16)
        else:
            off = r.randrange(2 * 4096, size)
        with open(os.path.join(store, "data.mdb"), "r+b") as f:
            f.seek(off)
            b = f.read(1)
            f.seek(off)
            f.write(bytes([b[0] ^ (1 << r.randrange(8))]))
        judge_mutant(c, f"raw flip ({where}) at byte {off}", store, baseline, raw=True)
    return c


# ------------------------------------------------------------------ crash images

def build_shim():
    out = os.path.join(WORK, "writelog.so")
    src = os.path.join(os.path.dirname(os.path.abspath(__file__)), "writelog.c")
    for cc in ("cc", "clang", "/opt/swift/usr/bin/clang"):
        if shutil.which(cc):
            r = subprocess.run([cc, "-shared", "-fPIC", "-O2", "-o", out, src, "-ldl", "-lpthread"], capture_output=True)
            if r.returncode == 0:
                return out, None
            err = r.stderr.decode(errors="replace")[-200:]
    return None, "no C compiler could build writelog.c" + (f": {err}" if "err" in dir() else "")


def read_writelog(path):
    """The shim's records: (type, file, offset, length, data)."""
    import struct
    d = open(path, "rb").read()
    recs, i = [], 0
    while i + 21 <= len(d):
        t = chr(d[i])
        f, off, n = struct.unpack("<IQQ", d[i + 1:i + 21])
        body = d[i + 21:i + 21 + n] if t in "WO" else b""
        i += 21 + len(body)
        recs.append((t, f, off, n, body))
    return recs


def append_marker(path, kind, value):
    import struct
    with open(path, "ab") as f:
        f.write(kind.encode() + struct.pack("<IQQ", 0, value, 0))


def crash_image(recs, k, data_id, r):
    """data.mdb as a crash after record k would leave it: every write a completed fsync/fdatasync
    covered and every completed O_DSYNC write, and a random subset of the others' 512-byte sectors."""
    synced_upto = -1
    for j in range(k - 1, -1, -1):
        if recs[j][0] == "S" and recs[j][1] == data_id:
            synced_upto = j
            break
    img = bytearray()
    exists = False
    for j in range(k):
        t, f, off, n, body = recs[j]
        if f != data_id:
            continue
        if t == "O":
            exists = True
        elif t == "T":
            del img[off:]
            img.extend(bytes(max(0, off - len(img))))
        elif t == "W":
            durable = j < synced_upto or (j + 1 < k and recs[j + 1][0] == "D" and recs[j + 1][1] == f)
            pieces = [(off, body)] if durable else \
                [(s, body[s - off:s - off + 512]) for s in [off] + list(range((off // 512 + 1) * 512, off + n, 512)) if r.random() < 0.5]
            for s, b in pieces:
                if len(img) < s:
                    img.extend(bytes(s - len(img)))
                img[s:s + len(b)] = b
    return (bytes(img) if exists else None)


def case_crash_images():
    c = Case("crash images")
    shim, why = build_shim()
    if shim is None:
        c.skipped = why
        return c
    for mode in ("default", "relaxed"):
        logpath = os.path.join(WORK, f"writelog-{mode}.bin")
        top = os.path.join(WORK, f"ci-{mode}")
        store = os.path.join(top, "store")
        os.makedirs(top)
        env = {"LD_PRELOAD": shim, "ATLAS_WRITELOG": logpath, "ATLAS_WRITELOG_DIR": top + "/"}
        acks = []  # (record index placeholder, tenant, run_id, head)
        nruns = 3 if A.quick else 5
        for i in range(nruns):
            tenant = ["contoso", "fabrikam"][i % 2]
            exp = os.path.join(WORK, f"ci-{mode}-{i}.ndjson")
            write_items(exp, [(f"dc-{j:03d}", f"P {j} r{i}") for j in range(10 + 7 * i)])
            rc, out, err = run(c, [tool("atlas"), "sync", "--tenant", tenant, "--selection", SEL, "--from-file", exp, "--json",
                                   "--store", store] + (["--relaxed"] if mode == "relaxed" else []), env=env)
            s = last_json(out)
            if rc != 0 or not s or s.get("status") != "success":
                c.trial(False, f"{mode} sync {i} under the shim: exit {rc} {err[-200:]!r}")
                continue
            append_marker(logpath, "A", i)
            acks.append((tenant, s["run_id"], s["head"]))
        c.stores.append(store)
        recs = read_writelog(logpath)
        names = {f: body.decode() for t, f, _, _, body in recs if t == "O"}
        data_id = next((f for f, n in names.items() if n.endswith("/data.mdb")), None)
        writes = sum(1 for x in recs if x[0] == "W" and x[1] == data_id)
        syncs = sum(1 for x in recs if x[0] == "S" and x[1] == data_id)
        if data_id is None or writes == 0 or syncs == 0:
            c.trial(False, f"{mode}: the shim logged no writes or syncs of data.mdb ({len(recs)} records)")
            continue
        ack_at = [j for j, x in enumerate(recs) if x[0] == "A"]
        r = random.Random(A.seed + (1 if mode == "default" else 2))
        npoints = (5 if mode == "default" else 3) if A.quick else (16 if mode == "default" else 10)
        # Crash points: right before an acknowledgement, right after a sync, and anywhere.
        after_sync = [j + 1 for j, x in enumerate(recs) if x[0] == "S" and x[1] == data_id]
        points = sorted({r.choice(ack_at) if t % 3 == 0 else r.choice(after_sync) if t % 3 == 1 else r.randrange(1, len(recs) + 1)
                         for t in range(npoints)} | ({len(recs)} if not A.quick or mode == "default" else set()))
        log(f"  crash images ({mode}): {writes} writes, {syncs} syncs of data.mdb, {len(acks)} acknowledged runs; points {points}")
        def check(k, img, tag):
            acked = [a for j, a in zip(ack_at, acks) if j < k]
            if mode == "relaxed":
                # Relaxed: the last commit may be undone; a run is promised once a later sync covered it.
                acked = [a for j, a in zip(ack_at, acks) if j < k and any(x[0] in "SD" and x[1] == data_id for x in recs[j:k])]
            idir = os.path.join(WORK, f"ci-{mode}-img-{k}-{tag}")
            os.makedirs(idir, mode=0o700)
            os.chmod(idir, 0o700)
            c.stores.append(idir)
            if img is not None:
                fd = os.open(os.path.join(idir, "data.mdb"), os.O_WRONLY | os.O_CREAT, 0o600)
                os.write(fd, img)
                os.close(fd)
            problems = []
            vrc, vout, verr = run(c, [tool("atlas-replay"), "verify", "--store", idir, "--step-timeout", "20"], timeout=90)
            if vrc == "timeout" or signalled(vrc):
                problems.append(f"verify {vrc}")
            elif vrc != 0 and (acked or vrc not in (1, 2) or not verr.strip()):
                problems.append(f"verify exit {vrc}: {(vout + verr)[-300:]!r}")
            lines = {}
            if acked:
                erc, eout, eerr = run(c, [tool("atlas-replay"), "export", "--store", idir], timeout=60)
                lines = {json.loads(l)["position"]: json.loads(l)["chain"] for l in eout.splitlines() if l.strip()} if erc == 0 else {}
                if erc != 0:
                    problems.append(f"export exit {erc}: {eerr[-200:]!r}")
            lost = 0
            for tenant, run_id, head in acked:
                if lines.get(head["position"]) != head["chain"]:
                    lost += 1
                    problems.append(f"acknowledged head {head['position']} of run {run_id} missing or different")
                rrc, rout, rerr = run(c, [tool("atlas"), "runs", "--tenant", tenant, "--json", "--store", idir], timeout=60)
                if rrc != 0 or not any(x.get("run_id") == run_id and x.get("status") == "success" for x in json.loads(rout or b"[]")):
                    problems.append(f"acknowledged run {run_id} not listed as success (exit {rrc})")
            log(f"  crash image {mode} @{k}/{len(recs)}{' (' + tag + ')' if tag else ''}: {len(acked)} runs promised, "
                f"verify {vrc}{' ' + '; '.join(problems) if problems else ''}")
            return problems, lost

        for k in points:
            problems, lost = check(k, crash_image(recs, k, data_id, r), "")
            c.lost += lost
            c.trial(not problems, f"{mode} crash after record {k}: " + "; ".join(problems) if problems else None)
        if mode == "default":
            # Control: the same check on an image that lacks the last durable meta-page write (a
            # storage that lost a write it had acknowledged) must report the last run missing.
            last_meta = max(j for j, x in enumerate(recs) if x[0] == "D" and x[1] == data_id) - 1
            img = crash_image(recs[:last_meta] + [("M", 0, 0, 0, b"")] + recs[last_meta + 1:], len(recs), data_id, random.Random(0))
            problems, _ = check(len(recs), img, "control: last meta write dropped")
            c.trial(bool(problems), "control: an image without the last durable meta write passed the check")
    return c


# ------------------------------------------------------------------ randomized histories

def case_history():
    c = Case("random histories")
    histories = 1 if A.quick else 4
    length = 6.0 if A.quick else 25.0
    notes_once = []
    if not shutil.which("faketime"):
        notes_once.append("clock jumps not exercised: faketime is not installed")
    for h in range(histories):
        r = random.Random(A.seed * 31 + h)
        store = os.path.join(WORK, f"history-{h}")
        c.stores.append(store)
        tenants = ["contoso", "fabrikam", "northwind"]
        # The store exists before the subscribers start.
        exp0 = os.path.join(WORK, f"hist-{h}-init.ndjson")
        write_items(exp0, [("dc-init", "Init")])
        rc, _, e = run(c, [tool("atlas"), "sync", "--tenant", "contoso", "--selection", SEL, "--from-file", exp0, "--store", store])
        if rc != 0:
            c.trial(False, f"history {h}: initial sync exit {rc} {e[-200:]!r}")
            continue
        subs = {"sub-tail": [], "sub-follow": []}   # name -> processes, in order

        def start_sub(name):
            argv = [tool("atlas-replay"), "tail", "--consumer", name, "--from", "1", "--store", store] if name == "sub-tail" else \
                [tool("atlas-replay"), "export", "--follow", "--consumer", name, "--store", store]
            subs[name].append(spawn(c, argv))

        for name in subs:
            start_sub(name)
        syncs, acked, actions, stopped, rebuilds = [], [], [], {}, []
        t_end = time.time() + length
        n = 0
        while time.time() < t_end:
            n += 1
            live = [p for p in syncs if p.poll() is None]
            act = r.choices(["sync", "kill", "stop", "rebuild", "sub-kill", "sub-stop"], [6, 1.5, 1.5, 0.7, 1, 0.7])[0]
            if act == "sync" and len(live) < 4:
                tenant = r.choice(tenants)
                exp = os.path.join(WORK, f"hist-{h}-{n}.ndjson")
                write_items(exp, [(f"dc-{j:03d}", f"P {j} {r.randrange(3)}") for j in r.sample(range(60), r.randint(5, 40))],
                            complete=r.random() < 0.9)
                p = spawn(c, [tool("atlas"), "sync", "--tenant", tenant, "--selection", SEL, "--from-file", exp, "--json",
                              "--store", store, "--lease-seconds", "3", "--wait", "--wait-timeout", "15"])
                p.tenant = tenant
                syncs.append(p)
                if r.random() < 0.3:
                    # Frozen mid-run, often past its 3 s lease: another run of the tenant may take over.
                    time.sleep(r.uniform(0.05, 0.3))
                    p.send_signal(signal.SIGSTOP)
                    stopped[p.pid] = (p, time.time() + r.uniform(0.5, 5.0))
                    actions.append(f"SIGSTOP sync {p.pid}")
            elif act == "kill" and live:
                p = r.choice(live)
                p.kill()
                actions.append(f"kill -9 sync {p.pid}")
            elif act == "stop" and live:
                p = r.choice([q for q in live if q.pid not in stopped] or live)
                p.send_signal(signal.SIGSTOP)
                stopped[p.pid] = (p, time.time() + r.uniform(0.3, 5.0))
                actions.append(f"SIGSTOP sync {p.pid}")
            elif act == "rebuild":
                rebuilds.append(spawn(c, [tool("atlas-replay"), "rebuild", "--store", store]))
            elif act in ("sub-kill", "sub-stop"):
                name = r.choice(list(subs))
                p = subs[name][-1]
                if act == "sub-kill":
                    p.kill()
                    p.wait()
                    start_sub(name)
                    actions.append(f"kill -9 {name}")
                else:
                    p.send_signal(signal.SIGSTOP)
                    stopped[p.pid] = (p, time.time() + r.uniform(0.2, 2.0))
                    actions.append(f"SIGSTOP {name}")
            for pid, (p, until) in list(stopped.items()):
                if time.time() >= until:
                    p.send_signal(signal.SIGCONT)
                    del stopped[pid]
            time.sleep(r.uniform(0.05, 0.4))
        for pid, (p, _) in stopped.items():
            p.send_signal(signal.SIGCONT)
        problems = []
        t_wait = time.time()
        for p in syncs + rebuilds:
            try:
                p.wait(60)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
                problems.append(f"{os.path.basename(p.args[0])} {p.args[1]} {p.pid} did not end")
        for p in syncs:
            if p.returncode == 0:
                s = last_json(open(p.outpath, "rb").read())
                if s and s.get("status") in ("success", "partial"):
                    acked.append((p.tenant, s["run_id"], s["head"]))
            elif p.returncode not in (1, -9) or (p.returncode == 1 and not open(p.errpath, "rb").read().strip()):
                problems.append(f"sync {p.pid} exit {p.returncode}: {open(p.errpath, 'rb').read()[-200:]!r}")
        for p in rebuilds:
            if p.returncode not in (0, 1, 2) and p.returncode != -9:
                problems.append(f"rebuild exit {p.returncode}: {open(p.errpath, 'rb').read()[-200:]!r}")
        erc, eout, eerr = run(c, [tool("atlas-replay"), "export", "--store", store])
        final = {}
        for l in eout.splitlines():
            if l.strip():
                final[json.loads(l)["position"]] = l
        head = max(final) if final else 0
        log(f"  history {h}: processes ended {time.time() - t_wait:.1f} s after the history")
        # Subscribers catch up with the head, then stop with SIGTERM.
        t_wait = time.time()
        deadline = time.time() + 30
        while time.time() < deadline:
            crc, cout, _ = run(c, [tool("atlas-replay"), "consumers", "--json", "--store", store])
            acks = {x["name"]: x["acknowledged"] for x in json.loads(cout).get("consumers", [])} if crc == 0 else {}
            if all(acks.get(name, 0) >= head for name in subs):
                break
            time.sleep(0.2)
        for name, procs in subs.items():
            procs[-1].send_signal(signal.SIGTERM)
            try:
                procs[-1].wait(10)
            except subprocess.TimeoutExpired:
                procs[-1].kill()
                procs[-1].wait()
                problems.append(f"{name} did not stop on SIGTERM")
        log(f"  history {h}: subscribers caught up in {time.time() - t_wait:.1f} s")
        # 1. The log: gapless, each event id once, acknowledged heads present with their chain.
        if erc != 0 or sorted(final) != list(range(1, head + 1)):
            problems.append(f"export exit {erc}, positions not 1…{head}")
        envs = {pos: json.loads(l)["envelope"] for pos, l in final.items()}
        ids = [e["id"] for e in envs.values()]
        if len(ids) != len(set(ids)):
            problems.append(f"{len(ids) - len(set(ids))} event ids appear twice")
        for tenant, run_id, hd in acked:
            if hd["position"] not in final or json.loads(final[hd["position"]])["chain"] != hd["chain"]:
                c.lost += 1
                problems.append(f"acknowledged head {hd['position']} of run {run_id} missing or different")
            mine = [pos for pos, e in envs.items() if e.get("data", {}).get("run_id") == run_id]
            types = [envs[pos]["type"].rsplit(".", 1)[-1] for pos in sorted(mine)]
            if not types or types[0] != "sync_run_started" or types[-1] != "sync_run_finished" or types.count("sync_run_finished") != 1:
                problems.append(f"acknowledged run {run_id}: events out of order or repeated ({types[:2]}…{types[-2:]})")
        # 2. One live holder per lease: no run appends inside another live run of the same tenant +
        #    selection (the run that reclaims a dead one records its end first).
        spans = {}
        for pos, e in envs.items():
            rid = e.get("data", {}).get("run_id")
            if rid:
                spans.setdefault((e["tenant"], rid), []).append((pos, e["type"]))
        by_tenant = {}
        for (tenant, rid), evs in spans.items():
            own = [pos for pos, t in evs if not (t.endswith("sync_run_finished") and b"abandoned" in final[pos])]
            if own:
                by_tenant.setdefault(tenant, []).append((min(own), max(own), rid))
        for tenant, runs in by_tenant.items():
            runs.sort()
            for (a0, a1, ra), (b0, b1, rb) in zip(runs, runs[1:]):
                if b0 < a1:
                    problems.append(f"{tenant}: runs {ra} ({a0}…{a1}) and {rb} ({b0}…{b1}) both appended at once")
        # 3. Subscribers: each process prints contiguous positions; a restart resumes at or before
        #    the next one; every line is the event at that position.
        for name, procs in subs.items():
            expect_next = 1
            for p in procs:
                got = []
                for l in open(p.outpath, "rb"):
                    if l.strip().startswith(b"{"):
                        try:
                            got.append((json.loads(l)["position"], l.rstrip(b"\n")))
                        except ValueError:
                            pass  # the last line of a process killed while writing it
                if not got:
                    continue
                pos = [g[0] for g in got]
                if pos[0] > expect_next:
                    c.lost += pos[0] - expect_next
                    problems.append(f"{name}: gap, resumed at {pos[0]} after {expect_next - 1}")
                if pos != list(range(pos[0], pos[0] + len(pos))):
                    problems.append(f"{name} (pid {p.pid}): positions not contiguous")
                bad = [q for q, l in got if final.get(q, b"") != l]
                if bad:
                    problems.append(f"{name}: {len(bad)} lines differ from the log (first at {bad[0]})")
                expect_next = max(expect_next, pos[-1] + 1)
            if expect_next <= head:
                problems.append(f"{name} stopped at {expect_next - 1}, head {head}")
        vrc, vout, verr = verify(c, store)
        if vrc != 0:
            problems.append(f"verify exit {vrc}: {verr[-300:]!r}")
        kills = sum(1 for a in actions if a.startswith("kill"))
        log(f"  history {h}: {len(syncs)} syncs ({len(acked)} acknowledged), {len(rebuilds)} rebuilds, {kills} kills, "
            f"{sum(1 for a in actions if 'STOP' in a)} stops, head {head}, subscriber processes "
            f"{sum(len(p) for p in subs.values())}{' PROBLEMS ' + '; '.join(problems) if problems else ''}")
        c.trial(not problems, f"history {h}: " + "; ".join(problems[:5]) if problems else None)
    c.notes += notes_once
    return c


# ------------------------------------------------------------------ the outside review's findings, one row each

def offline_sync(c, store, tenant="contoso", items=None, extra=(), timeout=120):
    exp = os.path.join(WORK, f"f-{LOGSEQ[0]}.ndjson")
    write_items(exp, items or [(f"dc-{j:03d}", f"P {j}") for j in range(10)])
    return run(c, [tool("atlas"), "sync", "--tenant", tenant, "--selection", SEL, "--from-file", exp, "--json",
                   "--store", store, *extra], timeout=timeout)


def finding_secret_401():
    c = Case("f: secret in a 401 body")
    sim = Simulator(c, items=5, page_size=5, seed=21)
    try:
        body = {"error": "invalid_client", "error_description": "AADSTS7000215: Invalid client secret provided. " + "x" * 214 +
                " The secret sent was: " + sim.secret, "error_codes": [7000215]}
        sim.call("POST", "/_sim/faults", {"tenant": "contoso", "path": "/oauth2/v2.0/token",
                                         "fault": {"kind": "reply", "status": 401, "body": body, "times": None}})
        store = os.path.join(WORK, "f-401")
        c.stores.append(store)
        rc, out, err = atlas(c, sim, store, ["sync", "--tenant", "contoso", "--selection", SEL, "--json"], timeout=60)
        s = last_json(out)
        ok = rc == 1 and s is not None and "auth_failed" in s.get("error_codes", [])
        c.trial(ok, None if ok else f"sync against a 401 quoting the secret: exit {rc} {out[-200:]!r} {err[-200:]!r}")
        # The store's run record keeps the error context: read it back through the CLI too.
        rc, out, err = run(c, [tool("atlas"), "runs", "--tenant", "contoso", "--json", "--store", store])
        c.trial(rc == 0, f"runs exit {rc}")
    finally:
        sim.stop()
    return c


def finding_http_login():
    c = Case("f: http login URL refused")
    store = os.path.join(WORK, "f-http")
    env = {"ATLAS_CLIENT_ID": "x", "ATLAS_CLIENT_SECRET": "not-a-real-secret-0123456789abcdef"}
    for url, want in (("http://login.example.invalid", 2), ("http://graph.example.invalid", 2)):
        opt = "--login-base-url" if "login" in url else "--graph-base-url"
        rc, out, err = run(c, [tool("atlas"), "sync", "--tenant", "contoso", "--selection", SEL, opt, url, "--store", store],
                           env=env, timeout=30)
        ok = rc == want and b"http" in err.lower()
        c.trial(ok, None if ok else f"{opt} {url}: exit {rc} {err[-200:]!r}")
    ok = not os.path.exists(os.path.join(store, "data.mdb"))
    c.trial(ok, None if ok else "a refused sync created a store")
    return c


def finding_lock_symlink():
    c = Case("f: lock.mdb symlink")
    store = os.path.join(WORK, "f-symlink")
    rc, _, e = offline_sync(c, store)
    victim = os.path.join(WORK, "victim.txt")
    open(victim, "w").write("precious\n")
    os.remove(os.path.join(store, "lock.mdb"))
    os.symlink(victim, os.path.join(store, "lock.mdb"))
    for argv in ([tool("atlas"), "items", "--tenant", "contoso", "--store", store],
                 [tool("atlas-replay"), "verify", "--store", store]):
        rc2, out, err = run(c, argv, timeout=60)
        ok = rc2 == 2 and b"lock.mdb" in err and open(victim).read() == "precious\n"
        c.trial(ok, None if ok else f"{os.path.basename(argv[0])} {argv[1]}: exit {rc2} {err[-200:]!r}")
    rc2, out, err = offline_sync(c, store)
    ok = rc == 0 and rc2 == 2 and open(victim).read() == "precious\n"
    c.trial(ok, None if ok else f"sync with lock.mdb a symlink: exit {rc2} {err[-200:]!r}, victim {open(victim).read()[:20]!r}")
    os.remove(os.path.join(store, "lock.mdb"))
    c.stores.append(store)
    return c


def finding_store_0777():
    c = Case("f: 0777 store dir")
    store = os.path.join(WORK, "f-0777")
    rc, _, e = offline_sync(c, store)
    os.chmod(store, 0o777)
    rc2, out, err = offline_sync(c, store)
    ok = rc == 0 and rc2 == 2 and b"chmod" in err
    c.trial(ok, None if ok else f"sync into a 0777 store: exit {rc2} {err[-200:]!r}")
    os.chmod(store, 0o700)
    os.chmod(os.path.join(store, "data.mdb"), 0o666)
    rc3, out, err = offline_sync(c, store)
    ok = rc3 == 2 and b"chmod" in err
    c.trial(ok, None if ok else f"sync into a store with a 0666 data.mdb: exit {rc3} {err[-200:]!r}")
    os.chmod(os.path.join(store, "data.mdb"), 0o600)
    c.stores.append(store)
    return c


def slow_writer(c, store, sim, tenant="contoso"):
    for p in PATHS:
        sim.fault(p, {"kind": "slow", "seconds": 0.15, "times": None}, tenant=tenant)
    return spawn(c, [tool("atlas"), "sync", "--tenant", tenant, "--selection", SEL, "--json", "--store", store,
                     "--graph-base-url", sim.base, "--login-base-url", sim.base], env=sim.env)


def finding_lock_deleted():
    c = Case("f: lock.mdb deleted under a writer")
    sim = Simulator(c, items=200, page_size=5, seed=23)
    store = os.path.join(WORK, "f-nolock")
    c.stores.append(store)
    try:
        rc, _, e = offline_sync(c, store, tenant="fabrikam")
        writer = slow_writer(c, store, sim)
        time.sleep(1.5)
        os.remove(os.path.join(store, "lock.mdb"))
        # A second writer starts: it must not write at the same time as the first.
        rc2, out2, err2 = offline_sync(c, store, tenant="fabrikam", items=[(f"dc-{j:03d}", "second") for j in range(30)])
        s2 = last_json(out2)
        try:
            writer.wait(120)
        except subprocess.TimeoutExpired:
            writer.kill()
            writer.wait()
        sim.clear_faults()
        s1 = last_json(open(writer.outpath, "rb").read())
        err1 = open(writer.errpath, "rb").read()
        problems = []
        if signalled(writer.returncode) or (writer.returncode != 0 and not err1.strip()):
            problems.append(f"first writer exit {writer.returncode} without a message")
        if writer.returncode == 0 and rc2 == 0 and s2 and s2.get("status") == "success":
            problems.append("both writers ran to success on a store whose lock.mdb was replaced")
        _, lines = export(c, store)
        for s in (s1, s2):
            if s and s.get("status") in ("success", "partial"):
                hd = s["head"]
                if hd["position"] not in lines or json.loads(lines[hd["position"]])["chain"] != hd["chain"]:
                    c.lost += 1
                    problems.append(f"acknowledged head {hd['position']} missing or different")
        vrc, vout, verr = verify(c, store)
        if vrc != 0:
            problems.append(f"verify exit {vrc}: {verr[-200:]!r}")
        log(f"  lock.mdb deleted: first writer exit {writer.returncode} {err1[-150:]!r}; second exit {rc2} "
            f"{(s2 or {}).get('status')} {err2[-150:]!r}; verify {vrc}")
        c.trial(not problems, "; ".join(problems) if problems else None)
    finally:
        sim.stop()
    return c


def finding_pidns():
    c = Case("f: two PID namespaces")
    if os.geteuid() != 0 or not shutil.which("unshare"):
        c.skipped = "needs root and unshare(1) for a second PID namespace"
        return c
    sim = Simulator(c, items=120, page_size=5, seed=29)
    store = os.path.join(WORK, "f-pidns")
    c.stores.append(store)
    try:
        rc, _, e = offline_sync(c, store, tenant="fabrikam")
        writer = slow_writer(c, store, sim)
        time.sleep(1.0)
        exp = os.path.join(WORK, "f-pidns.ndjson")
        write_items(exp, [("dc-1", "ns")])
        rc2, out2, err2 = run(c, ["unshare", "--pid", "--fork", "--mount-proc", tool("atlas"), "sync", "--tenant", "contoso",
                                  "--selection", SEL, "--from-file", exp, "--json", "--store", store], timeout=60)
        try:
            writer.wait(120)
        except subprocess.TimeoutExpired:
            writer.kill()
            writer.wait()
        sim.clear_faults()
        problems = []
        if not (rc2 == 2 and b"namespace" in err2.lower()):
            problems.append(f"a writer in another PID namespace: exit {rc2}, want 2 naming the namespace: {err2[-200:]!r}")
        s1 = last_json(open(writer.outpath, "rb").read())
        if writer.returncode != 0 or not s1 or s1.get("status") != "success":
            problems.append(f"the first writer: exit {writer.returncode} {(s1 or {}).get('status')}")
        vrc, _, verr = verify(c, store)
        if vrc != 0:
            problems.append(f"verify exit {vrc}: {verr[-200:]!r}")
        c.trial(not problems, "; ".join(problems) if problems else None)
    finally:
        sim.stop()
    return c


def finding_key_limits():
    c = Case("f: key limits")
    store = os.path.join(WORK, "f-keys")
    c.stores.append(store)
    for tenant in ("t" * 129, "t" * 242):
        rc, out, err = offline_sync(c, store, tenant=tenant)
        ok = rc == 2 and b"128" in err
        c.trial(ok, None if ok else f"{len(tenant)}-byte tenant: exit {rc} {err[-200:]!r}")
    tenant = "t" * 128
    items = [(f"dc-{j:03d}", f"P {j}") for j in range(5)] + [("i" * 256, "long id"), ("j" * 4000, "longer id")]
    rc, out, err = offline_sync(c, store, tenant=tenant, items=items)
    s = last_json(out)
    ok = rc == 0 and s is not None and s.get("status") == "partial" and any("item_invalid" in x for x in s.get("error_codes", []))
    c.trial(ok, None if ok else f"128-byte tenant, 256-byte id: exit {rc} {out[-300:]!r} {err[-200:]!r}")
    rc, out, err = run(c, [tool("atlas"), "items", "--tenant", tenant, "--json", "--store", store])
    ids = sorted(x.get("external_id", "") for x in json.loads(out or b"[]")) if rc == 0 else []
    ok = ids == sorted([i for i, _ in items if len(i) < 4000])
    c.trial(ok, None if ok else f"items after: exit {rc}, ids of lengths {[len(i) for i in ids]} (want the five, and the 256-byte one)")
    vrc, _, verr = verify(c, store)
    c.trial(vrc == 0, f"verify exit {vrc}: {verr[-200:]!r}")
    return c


def finding_two_consumers():
    c = Case("f: two consumers, one name")
    store = os.path.join(WORK, "f-consumers")
    c.stores.append(store)
    offline_sync(c, store)
    first = spawn(c, [tool("atlas-replay"), "tail", "--consumer", "billing", "--from", "1", "--store", store])
    time.sleep(1.0)
    rc, out, err = run(c, [tool("atlas-replay"), "tail", "--consumer", "billing", "--from", "1", "--store", store], timeout=10)
    alive = first.poll() is None
    first.send_signal(signal.SIGTERM)
    try:
        first.wait(10)
    except subprocess.TimeoutExpired:
        first.kill()
        first.wait()
    ok = rc == 2 and b"billing" in err and alive
    c.trial(ok, None if ok else f"second tail --consumer billing: exit {rc} {err[-200:]!r} (first alive: {alive})")
    rc, out, err = run(c, [tool("atlas-replay"), "export", "--follow", "--consumer", "billing", "--store", store], timeout=3)
    ok = rc == "timeout"  # after the first stopped, the name is free again: the export follows
    c.trial(ok, None if ok else f"export --follow --consumer billing after the first stopped: exit {rc} {err[-200:]!r}")
    return c


def finding_big_selection():
    c = Case("f: 300 MB selection file")
    path = os.path.join(WORK, "huge-selection.json")
    with open(path, "wb") as f:
        f.write(b'{"policy_types":["')
        f.truncate(300 << 20)
    wrapper = ("import resource,subprocess,sys;p=subprocess.run(sys.argv[1:],capture_output=True);"
               "sys.stdout.write('%d %d\\n'%(p.returncode,resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss));"
               "sys.stderr.buffer.write(p.stderr)")
    for argv in ([tool("atlas"), "selection", "hash", "--selection", "@" + path],
                 [tool("atlas"), "sync", "--tenant", "contoso", "--selection", "@" + path, "--from-file", path,
                  "--store", os.path.join(WORK, "f-bigsel")]):
        t0 = time.time()
        rc, out, err = run(c, ["/usr/bin/python3", "-c", wrapper, *argv], timeout=60)
        took = time.time() - t0
        try:
            prc, rss_kb = map(int, out.split())
        except ValueError:
            prc, rss_kb = None, 0
        ok = prc == 2 and err.strip() and rss_kb < 150 * 1024 and len(err) < 20000
        c.trial(ok, None if ok else f"{argv[1]} with a 300 MB selection: exit {prc}, {rss_kb // 1024} MB resident, "
                                    f"{took:.1f} s: {err[-200:]!r}")
    os.remove(path)
    return c


def finding_verify_sigterm():
    c = Case("f: verify SIGTERM scratch")
    store = offline_store(c, "f-verify", n=1500)
    c.stores.append(store)
    scratch = os.path.join(WORK, "f-scratch")
    os.makedirs(scratch)
    ok_all = True
    for t in range(1 if A.quick else 3):
        p = spawn(c, [tool("atlas-replay"), "verify", "--store", store, "--scratch-dir", scratch])
        # SIGTERM once the scratch store exists (verify is rebuilding into it).
        deadline = time.time() + 20
        while time.time() < deadline and not os.listdir(scratch) and p.poll() is None:
            time.sleep(0.01)
        time.sleep(0.05 * t)
        running = p.poll() is None and bool(os.listdir(scratch))
        p.send_signal(signal.SIGTERM)
        try:
            p.wait(20)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
        time.sleep(0.5)
        left = os.listdir(scratch)
        ok = running and not left and (not signalled(p.returncode) or p.returncode in (-signal.SIGTERM, 128 + signal.SIGTERM))
        c.trial(ok, None if ok else f"verify stopped {0.05 * t:.2f} s after its scratch store appeared (was running: {running}): "
                                    f"exit {p.returncode}, scratch left: {left}")
    return c


FINDINGS = [("f-secret-401", finding_secret_401), ("f-http-login", finding_http_login), ("f-lock-symlink", finding_lock_symlink),
            ("f-store-0777", finding_store_0777), ("f-lock-deleted", finding_lock_deleted), ("f-pidns", finding_pidns),
            ("f-key-limits", finding_key_limits), ("f-two-consumers", finding_two_consumers),
            ("f-big-selection", finding_big_selection), ("f-verify-sigterm", finding_verify_sigterm)]


ALL = [("crash", case_crash), ("map-full", case_mapfull), ("disk-full", case_diskfull), ("corruption", case_corruption),
       ("mutation", case_mutation), ("crash-images", case_crash_images), ("history", case_history),
       ("hostile", case_hostile), ("graph", case_graph)] + FINDINGS
GROUPS = {"findings": [k for k, _ in FINDINGS]}


def scanner_self_test():
    """The scan must find a planted piece of a secret (9 bytes from its middle), or a 0 in the
    leaked column means nothing."""
    c = Case("self-test")
    canary = "canary-secret-" + os.urandom(8).hex()
    path = os.path.join(WORK, "canary.txt")
    open(path, "w").write("before " + canary[10:19] + " after")
    c.files.append(path)
    SECRETS.add(canary)
    try:
        scan_and_perms(c)
    finally:
        SECRETS.discard(canary)
        os.remove(path)
    if c.leaked != 1:
        sys.exit("the secrets scan did not find a planted piece of a secret")


def main():
    scanner_self_test()
    results = []
    t0 = time.time()
    for key, fn in ALL:
        only = [k for o in A.only.split(",") if o for k in GROUPS.get(o, [o])]
        if only and key not in only:
            continue
        log(f"== {key}")
        t = time.time()
        try:
            c = fn()
        except Exception as e:
            import traceback
            traceback.print_exc()
            c = Case(key)
            c.trial(False, f"harness error: {e!r}")
        if c.skipped is None and key != "disk-full":
            scan_and_perms(c)
        log(f"   {key} took {time.time() - t:.1f} s")
        results.append(c)
    rows = [("case", "tried", "survived", "lost events", "leaked secrets")]
    for c in results:
        if c.skipped is not None:
            rows.append((c.name, "skipped", "-", "-", "-"))
        else:
            rows.append((c.name, str(c.tried), str(c.survived), str(c.lost), str(c.leaked)))
    w = [max(len(r[i]) for r in rows) for i in range(5)]
    for j, r in enumerate(rows):
        print(" | ".join(r[i].ljust(w[i]) for i in range(5)).rstrip())
        if j == 0:
            print("-+-".join("-" * w[i] for i in range(5)))
    for c in results:
        if c.skipped is not None:
            print(f"note: {c.name} skipped: {c.skipped}")
        for n in c.notes[:8]:
            print(f"note: {c.name}: {n}")
    print(f"tokens checked: {len(TOKENS)}, secrets checked: {len(SECRETS)}, took {time.time() - t0:.0f} s")
    passed = sum(1 for c in results if c.skipped is None and c.passed)
    failed = sum(1 for c in results if c.skipped is None and not c.passed)
    print(f"{passed} passed, {failed} failed")
    sys.stdout.flush()
    if not A.keep:
        shutil.rmtree(WORK, ignore_errors=True)
    sys.exit(1 if failed else 0)


main()
