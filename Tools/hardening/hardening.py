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


ALL = [("crash", case_crash), ("map-full", case_mapfull), ("disk-full", case_diskfull), ("corruption", case_corruption),
       ("hostile", case_hostile), ("graph", case_graph)]


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
        if A.only and key not in A.only.split(","):
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
