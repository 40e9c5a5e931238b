import AtlasTesting
import Foundation

/// The PostgreSQL server's own work for the rows an ingest wrote, with no client: the floor
/// under any append path, on that server.
///
/// After an ingest into a fresh database, the rows it wrote (events with their id and tenant
/// index rows, and every projection row) are copied into source tables of a scratch schema,
/// `atlas_floor`. Then, in one durable transaction (`synchronous_commit=on`), the server
/// itself writes them again into empty tables of the same definitions, in groups of
/// `groupEvents` events the way appends do: per group, it looks up the group's projection
/// keys in what is written so far (hash and merge joins off, as the writer runs), inserts the
/// events and their index rows, and inserts the group's projection rows in key order. The
/// projection rows are dealt to the groups at random, as random GUID items arrive. What it
/// leaves out — parsing, the client's work, the protocol, decoding parameters — only adds to
/// an ingest's time, so `items / floor seconds` bounds the items/s any client can reach there.
///
/// `psql` runs the scripts (`\timing` prints each statement's time); the scratch schema is
/// dropped at the end.
struct PostgresFloor {
    /// The `psql` to run, and the database's URL.
    var psql: String
    var url: String
    var groupEvents = 10_000

    struct Figures {
        var lookups = 0.0, events = 0.0, ids = 0.0, tenants = 0.0, projections = 0.0, commit = 0.0
        var total: Double { lookups + events + ids + tenants + projections + commit }
    }

    /// Measures the floor of the rows now in the database's `atlas` schema.
    func measure() throws -> Figures {
        try run("""
            SET client_min_messages = warning;
            DROP SCHEMA IF EXISTS atlas_floor CASCADE;
            CREATE SCHEMA atlas_floor;
            CREATE TABLE atlas_floor.src_events AS
                SELECT e.position, e.chain, e.envelope, i.id, t.tenant
                FROM atlas.events e JOIN atlas.event_ids i USING (position) JOIN atlas.tenant_events t USING (position);
            CREATE INDEX ON atlas_floor.src_events (position);
            CREATE TABLE atlas_floor.src_kv AS
                SELECT row_number() OVER (ORDER BY random()) - 1 AS n, tbl, key, value FROM atlas.kv;
            CREATE INDEX ON atlas_floor.src_kv (n);
            CREATE TABLE atlas_floor.events (LIKE atlas.events INCLUDING ALL);
            CREATE TABLE atlas_floor.event_ids (LIKE atlas.event_ids INCLUDING ALL);
            CREATE TABLE atlas_floor.tenant_events (LIKE atlas.tenant_events INCLUDING ALL);
            CREATE TABLE atlas_floor.kv (LIKE atlas.kv INCLUDING ALL) WITH (fillfactor = 80);
            ANALYZE atlas_floor.src_events;
            ANALYZE atlas_floor.src_kv;
            """)
        let counts = try run("""
            SELECT (SELECT count(*) FROM atlas_floor.src_events) || ' ' || (SELECT count(*) FROM atlas_floor.src_kv);
            """, tuples: true).split(separator: " ").compactMap { Int($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
        guard counts.count == 2, counts[0] > 0 else { throw UsageError(message: "no events to measure the floor of in \(url)") }
        let (events, rows) = (counts[0], counts[1])
        let groups = (events + groupEvents - 1) / groupEvents
        enum Kind { case begin, lookups, events, ids, tenants, projections, commit }
        var kinds: [Kind] = [.begin]
        var script = """
            SET enable_hashjoin = off;
            SET enable_mergejoin = off;
            SET synchronous_commit = on;
            \\timing on
            BEGIN;

            """
        for g in 0..<groups {
            let (first, last) = (g * groupEvents, min(events, (g + 1) * groupEvents))
            let (lo, hi) = (rows * first / events, rows * last / events)
            script += """
                SELECT count(*) FROM atlas_floor.src_kv k JOIN atlas_floor.kv kv ON kv.tbl = k.tbl AND kv.key = k.key
                    WHERE k.n >= \(lo) AND k.n < \(hi);
                INSERT INTO atlas_floor.events SELECT position, chain, envelope FROM atlas_floor.src_events
                    WHERE position > \(first) AND position <= \(last);
                INSERT INTO atlas_floor.event_ids SELECT id, position FROM atlas_floor.src_events
                    WHERE position > \(first) AND position <= \(last);
                INSERT INTO atlas_floor.tenant_events SELECT tenant, position FROM atlas_floor.src_events
                    WHERE position > \(first) AND position <= \(last);
                INSERT INTO atlas_floor.kv SELECT tbl, key, value FROM atlas_floor.src_kv
                    WHERE n >= \(lo) AND n < \(hi) ORDER BY tbl, key;

                """
            kinds += [.lookups, .events, .ids, .tenants, .projections]
        }
        script += "COMMIT;\n"
        kinds.append(.commit)
        let times = try run(script).split(separator: "\n").compactMap { line -> Double? in
            guard line.hasPrefix("Time: ") else { return nil }
            return Double(line.dropFirst(6).split(separator: " ")[0]).map { $0 / 1000 }
        }
        _ = try? run("SET client_min_messages = warning; DROP SCHEMA IF EXISTS atlas_floor CASCADE;")
        guard times.count == kinds.count else {
            throw UsageError(message: "psql printed \(times.count) statement times, expected \(kinds.count)")
        }
        var f = Figures()
        for (kind, t) in zip(kinds, times) {
            switch kind {
            case .begin: break
            case .lookups: f.lookups += t
            case .events: f.events += t
            case .ids: f.ids += t
            case .tenants: f.tenants += t
            case .projections: f.projections += t
            case .commit: f.commit += t
            }
        }
        return f
    }

    /// Runs `script` with psql (stopping at the first error) and returns what it prints.
    @discardableResult
    private func run(_ script: String, tuples: Bool = false) throws -> String {
        let file = NSTemporaryDirectory() + "atlas-floor-\(UUID().uuidString).sql"
        try script.write(toFile: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: file) }
        do {
            return try PostgresTestCluster.runCommand([psql, "-X", "-q", "-v", "ON_ERROR_STOP=1"] + (tuples ? ["-At"] : []) + ["-f", file, url])
        } catch {
            throw UsageError(message: "psql failed measuring the floor: \(error)")
        }
    }
}
