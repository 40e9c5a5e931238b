import EventLog
import Foundation
import Hummingbird
import Inventory

extension AtlasServer {
    static let consolePage = 50

    /// The tenants overview: items, last run, confidence.
    func tenantsPage(_ viewer: ConsoleViewer) throws -> Response {
        let tenants = try queries.tenants().filter { viewer.grant.allows($0.tenant) }
        let rows: [[String]] = try tenants.map { t in
            let runs = try queries.runs(tenant: t.tenant)
            let completed = runs.first(where: \.isCompleted)
            let confidence = completed.map { $0.status == .success && !$0.hadErrors } ?? false
            let last = t.latestRun.map { HTML.badge($0.status.rawValue, kind: $0.status.rawValue) + " " + HTML.escape($0.finishedAt?.description ?? "not finished") } ?? "–"
            return [
                "<a href=\"/console/tenants/\(HTML.segment(t.tenant))\">\(HTML.escape(t.tenant))</a>", String(t.items), String(t.runs), last,
                HTML.badge(confidence ? "high" : "low", kind: confidence ? "high" : "low"),
            ]
        }
        let body = HTML.table(caption: "\(tenants.count) tenant(s) visible to token \(viewer.tokenName)",
                              headers: ["Tenant", "Items", "Runs", "Last run", "Confidence"], rows: rows, empty: "No tenant is visible to this token yet.")
            + "<p class=\"legend\">Confidence is that of the tenant's latest completed run: high when it succeeded without errors.</p>"
        return Reply.html(HTML.page(title: "Tenants", signedIn: viewer, current: "tenants", body: body))
    }

    /// A tenant's inventory, filtered by type and text, 50 items a page.
    func inventoryPage(_ tenant: String, _ r: IncomingRequest, _ viewer: ConsoleViewer) throws -> Response {
        let type = r.parameter("type").flatMap { PolicyTypeRegistry.type($0) != nil ? $0 : nil }
        let text = (r.parameter("q") ?? "").trimmingCharacters(in: .whitespaces)
        let after = r.parameter("after").flatMap(ItemsCursor.init(text:))
        let page: ItemsPage
        if text.isEmpty {
            page = try queries.items(tenant: tenant, policyType: type, after: after, limit: Self.consolePage)
        } else {
            let needle = text.lowercased()
            var matching = try queries.items(tenant: tenant, policyType: type).filter {
                ($0.displayName ?? "").lowercased().contains(needle) || $0.externalID.lowercased().contains(needle)
            }
            if let after {
                matching.removeAll { ($0.policyType, $0.externalID) <= (after.policyType, after.externalID) }
            }
            let shown = Array(matching.prefix(Self.consolePage))
            page = ItemsPage(items: shown, next: matching.count > shown.count ? shown.last.map { ItemsCursor(policyType: $0.policyType, externalID: $0.externalID) } : nil)
        }
        let base = "/console/tenants/\(HTML.segment(tenant))"
        let options = PolicyTypeRegistry.all.map { t in
            "<option value=\"\(HTML.escape(t.key))\"\(t.key == type ? " selected" : "")>\(HTML.escape(t.key))</option>"
        }.joined()
        let rows = page.items.map { i in [
            HTML.escape(i.policyType),
            "<a href=\"\(base)/items/\(HTML.segment(i.policyType))/\(HTML.segment(i.externalID))/history\">\(HTML.escape(i.displayName ?? i.externalID))</a>",
            "<code>\(HTML.escape(i.externalID))</code>", HTML.escape(i.platform ?? "–"), HTML.escape(i.lastSeenAt.description), HTML.hash(i.contentSHA256),
        ] }
        var body = """
            <form class="filters" method="get" action="\(base)" role="search">
            <label for="type">Policy type<select id="type" name="type"><option value="">All types</option>\(options)</select></label>
            <label for="q">Name or id contains<input id="q" name="q" type="search" value="\(HTML.escape(text))"></label>
            <button type="submit">Filter</button>
            </form>
            """
        body += HTML.table(caption: "Items of \(tenant)\(type.map { " of type \($0)" } ?? "")\(text.isEmpty ? "" : " matching “\(text)”") (history via the name)",
                           headers: ["Type", "Name", "External id", "Platform", "Last seen", "Content"], rows: rows, empty: "No items match.")
        var pager: [String] = []
        if after != nil { pager.append("<a href=\"\(base)\(HTML.query([("type", type), ("q", text.isEmpty ? nil : text)]))\">First page</a>") }
        if let next = page.next {
            pager.append("<a href=\"\(base)\(HTML.query([("type", type), ("q", text.isEmpty ? nil : text), ("after", next.text)]))\" rel=\"next\">Next page</a>")
        }
        if !pager.isEmpty { body += "<nav class=\"pager\" aria-label=\"Pages\">\(pager.joined())</nav>" }
        return Reply.html(HTML.page(title: "Inventory of \(tenant)", signedIn: viewer, tenant: tenant, current: "inventory", body: body))
    }

    /// The runs timeline, newest first.
    func runsPage(_ tenant: String, _ viewer: ConsoleViewer) throws -> Response {
        let runs = try queries.runs(tenant: tenant)
        let base = "/console/tenants/\(HTML.segment(tenant))"
        let rows = runs.map { run in [
            HTML.badge(run.status.rawValue, kind: run.status.rawValue) + (run.hadErrors ? " <span class=\"badge badge-failed\">had errors</span>" : ""),
            HTML.escape(run.startedAt?.description ?? "–"), HTML.escape(run.finishedAt?.description ?? "–"),
            "<a href=\"\(base)/missing\(HTML.query([("selection_hash", run.selectionHash)]))\">\(HTML.hash(run.selectionHash))</a>",
            String(run.observed), String(run.upserted), String(run.errors),
            run.errorCodes.isEmpty ? "–" : run.errorCodes.map { "<code>\(HTML.escape($0.rawValue))</code>" }.joined(separator: " "),
            "<code title=\"\(HTML.escape(run.runID))\">\(HTML.escape(String(run.runID.prefix(8))))</code>",
        ] }
        let body = HTML.table(caption: "\(runs.count) run(s), newest first (the selection links to its missing items)",
                              headers: ["Status", "Started", "Finished", "Selection", "Observed", "Upserted", "Errors", "Error codes", "Run"],
                              rows: rows, empty: "This tenant has no runs.")
        return Reply.html(HTML.page(title: "Runs of \(tenant)", signedIn: viewer, tenant: tenant, current: "runs", body: body))
    }

    /// The selection picker shared by the missing and changes pages.
    private func selectionPicker(_ choices: [(selection: Selection, latestRun: SyncRun)], chosen: String?) -> String {
        choices.map { c in
            let types = c.selection.policyTypes.isEmpty ? c.selection.categories.map(\.rawValue).joined(separator: ", ") : c.selection.policyTypes.joined(separator: ", ")
            let label = "\(c.selection.hash.prefix(12)) · \(types.isEmpty ? "all" : String(types.prefix(80))) · last run \(c.latestRun.finishedAt?.description ?? "running")"
            return "<option value=\"\(c.selection.hash)\"\(c.selection.hash == chosen ? " selected" : "")>\(HTML.escape(label))</option>"
        }.joined()
    }

    /// Missing and unknown items for one of the selections seen in the tenant's runs.
    func missingPage(_ tenant: String, _ r: IncomingRequest, _ viewer: ConsoleViewer) throws -> Response {
        let runs = try queries.runs(tenant: tenant)
        let choices = InventoryQueries.selections(of: runs)
        let chosen = r.parameter("selection_hash").map { $0.lowercased() } ?? choices.first?.selection.hash
        let base = "/console/tenants/\(HTML.segment(tenant))"
        var body = """
            <form class="choose" method="get" action="\(base)/missing">
            <label for="selection_hash">Selection (from this tenant's runs)<select id="selection_hash" name="selection_hash">\(selectionPicker(choices, chosen: chosen))</select></label>
            <button type="submit">Show</button>
            </form>
            """
        guard let chosen, let selection = try? InventoryQueries.selection(hash: chosen, tenant: tenant, runs: runs) else {
            body += "<p class=\"empty\">This tenant has no run with that selection.</p>"
            return Reply.html(HTML.page(title: "Missing items of \(tenant)", signedIn: viewer, tenant: tenant, current: "missing", body: body))
        }
        let report = try queries.missing(tenant: tenant, selection: selection)
        let level = report.lowConfidence ? "low" : "high"
        body += """
            <section aria-labelledby="rule"><div class="rule\(report.lowConfidence ? " confidence-low" : "")">
            <h2 id="rule">Confidence: \(HTML.badge(level, kind: level))</h2>
            <p>An item is <strong>missing</strong> when an earlier completed run of this tenant and selection saw it and the latest
            completed run did not, although it enumerated the item's policy type completely. It is <strong>unknown</strong> when the
            latest run did not enumerate its type completely: whether it still exists cannot be told.</p>
            <p>Confidence is <strong>high</strong> only when that latest completed run succeeded without errors; otherwise it is
            <strong>low</strong> and "missing" may be a gap in the run rather than a deletion.</p>
            <p>Latest completed run: \(report.latestRun.map { "\(HTML.badge($0.status.rawValue, kind: $0.status.rawValue)) finished \(HTML.escape($0.finishedAt?.description ?? "–")) (<code>\(HTML.escape($0.runID))</code>)" } ?? "none")</p>
            </div></section>
            """
        func rows(_ items: [InventoryItem], state: String) -> [[String]] {
            items.map { i in [
                HTML.badge(state, kind: state), HTML.escape(i.policyType),
                "<a href=\"\(base)/items/\(HTML.segment(i.policyType))/\(HTML.segment(i.externalID))/history\">\(HTML.escape(i.displayName ?? i.externalID))</a>",
                "<code>\(HTML.escape(i.externalID))</code>", HTML.escape(i.lastSeenAt.description),
            ] }
        }
        body += "<h2>Missing (\(report.missing.count))</h2>" + HTML.table(caption: "Missing items (last seen is the last run that saw them)",
            headers: ["State", "Type", "Name", "External id", "Last seen"], rows: rows(report.missing, state: "missing"), empty: "Nothing is missing.")
        body += "<h2>Unknown (\(report.unknown.count))</h2>" + HTML.table(caption: "Items whose type the latest run did not enumerate completely",
            headers: ["State", "Type", "Name", "External id", "Last seen"], rows: rows(report.unknown, state: "unknown"), empty: "Nothing is unknown.")
        return Reply.html(HTML.page(title: "Missing items of \(tenant)", signedIn: viewer, tenant: tenant, current: "missing", body: body))
    }

    /// An item's history: a strip of its content-hash timeline, then the entries.
    func historyPage(_ tenant: String, policyType: String, id: String, _ viewer: ConsoleViewer) throws -> Response {
        guard PolicyTypeRegistry.type(policyType) != nil else { throw APIProblem(.invalidParameter, "unknown policy type \(policyType.prefix(64))") }
        let history = try queries.history(tenant: tenant, policyType: policyType, externalID: id)
        let item = try queries.item(tenant: tenant, policyType: policyType, externalID: id)
        func strip(_ e: ItemHistory.Entry) -> (cls: String, label: String) {
            switch e.change {
            case .changed: return ("changed", "changed")
            case .firstSeen, .unchanged, .reappeared: return ("observed", e.change == .firstSeen ? "first seen" : e.change == .reappeared ? "reappeared" : "observed")
            case .disappeared, .absent: return ("absent", e.change == .disappeared ? "disappeared" : "absent")
            case .unknown: return ("unknown", "unknown")
            }
        }
        let cells = history.entries.map { e -> String in
            let (cls, label) = strip(e)
            return "<li class=\"s-\(cls)\"><strong>\(HTML.escape(label))</strong><br>\(HTML.escape(e.finishedAt?.description ?? "–"))<br>\(HTML.hash(e.contentSHA256))</li>"
        }.joined()
        var body = "<p>\(HTML.escape(policyType)) · <code>\(HTML.escape(id))</code>\(item?.displayName.map { " · " + HTML.escape($0) } ?? "")</p>"
        body += history.entries.isEmpty ? "<p class=\"empty\">No finished run observed this item.</p>" : """
            <h2 id="strip-title">Timeline (oldest first)</h2>
            <ol class="strip" aria-labelledby="strip-title">\(cells)</ol>
            <p class="legend">Green top: observed (unchanged, first seen or reappeared) · amber: content changed · red: absent from a complete
            enumeration · grey dashed: unknown (the type was not enumerated completely). Each cell also names its state.</p>
            """
        body += HTML.table(caption: "What each finished run said about the item", headers: ["Run finished", "Status", "Change", "Content", "Position"],
                           rows: history.entries.map { e in [
                               HTML.escape(e.finishedAt?.description ?? "–"), HTML.badge(e.status.rawValue, kind: e.status.rawValue),
                               HTML.badge(e.change.rawValue, kind: e.change.rawValue), HTML.hash(e.contentSHA256), String(e.position),
                           ] }, empty: "No entries.")
        return Reply.html(HTML.page(title: "History of \(item?.displayName ?? id)", signedIn: viewer, tenant: tenant, body: body))
    }

    /// Changes between two completed runs of a selection.
    func changesPage(_ tenant: String, _ r: IncomingRequest, _ viewer: ConsoleViewer) throws -> Response {
        let runs = try queries.runs(tenant: tenant)
        let choices = InventoryQueries.selections(of: runs)
        let chosen = r.parameter("selection_hash").map { $0.lowercased() } ?? choices.first?.selection.hash
        let completed = runs.filter { $0.isCompleted && $0.selectionHash == chosen }
        let from = r.parameter("from_run").flatMap { $0.isEmpty ? nil : $0 }, to = r.parameter("to_run").flatMap { $0.isEmpty ? nil : $0 }
        func runOptions(_ selected: String?, _ defaultLabel: String) -> String {
            "<option value=\"\">\(defaultLabel)</option>" + completed.map { run in
                "<option value=\"\(run.runID)\"\(run.runID == selected ? " selected" : "")>\(HTML.escape("\(run.finishedAt?.description ?? "-") · \(run.status.rawValue) · \(run.runID.prefix(8))"))</option>"
            }.joined()
        }
        let base = "/console/tenants/\(HTML.segment(tenant))"
        var body = """
            <form class="choose" method="get" action="\(base)/changes">
            <label for="selection_hash">Selection<select id="selection_hash" name="selection_hash">\(selectionPicker(choices, chosen: chosen))</select></label>
            <label for="from_run">From run<select id="from_run" name="from_run">\(runOptions(from, "The one before “to”"))</select></label>
            <label for="to_run">To run<select id="to_run" name="to_run">\(runOptions(to, "The latest"))</select></label>
            <button type="submit">Compare</button>
            </form>
            """
        if let chosen {
            do {
                let c = try queries.changes(tenant: tenant, selectionHash: chosen, fromRunID: from, toRunID: to)
                body += "<p>From run <code>\(HTML.escape(c.fromRun.runID))</code> (finished \(HTML.escape(c.fromRun.finishedAt?.description ?? "–"))) to run <code>\(HTML.escape(c.toRun.runID))</code> (finished \(HTML.escape(c.toRun.finishedAt?.description ?? "–"))).</p>"
                let groups: [(String, [RunChanges.Item])] = [("added", c.added), ("removed", c.removed), ("changed", c.changed)]
                let rows = groups.flatMap { kind, items in items.map { i in [
                    HTML.badge(kind, kind: kind), HTML.escape(i.policyType),
                    "<a href=\"\(base)/items/\(HTML.segment(i.policyType))/\(HTML.segment(i.externalID))/history\">\(HTML.escape(i.displayName ?? i.externalID))</a>",
                    HTML.hash(i.previousContentSHA256) + " → " + HTML.hash(i.contentSHA256),
                ] } }
                body += HTML.table(caption: "\(c.added.count) added, \(c.removed.count) removed, \(c.changed.count) changed",
                                   headers: ["Change", "Type", "Name", "Content"], rows: rows, empty: "Nothing changed between these runs.")
                if !c.unknownTypes.isEmpty {
                    body += "<p>Not compared (not enumerated completely in both runs): \(c.unknownTypes.map { "<code>\(HTML.escape($0))</code>" }.joined(separator: ", "))</p>"
                }
            } catch let e as InventoryQueries.ChangesError {
                body += "<p class=\"error\" role=\"alert\">\(HTML.escape(e.description))</p>"
            }
        } else {
            body += "<p class=\"empty\">This tenant has no runs.</p>"
        }
        return Reply.html(HTML.page(title: "Changes in \(tenant)", signedIn: viewer, tenant: tenant, current: "changes", body: body))
    }

    /// The live tail (the one page that needs JavaScript).
    func tailPage(_ r: IncomingRequest, _ viewer: ConsoleViewer) throws -> Response {
        var tenant: String?
        if let t = r.parameter("tenant"), !t.isEmpty { tenant = try visibleTenant(t, grant: viewer.grant) }
        let head = try store.head().position
        let stream = "/api/v1/events" + HTML.query([("from", String(head)), ("tenant", tenant)])
        let body = """
            <p>New events \(tenant.map { "of tenant <strong>\(HTML.escape($0))</strong> " } ?? "")appear at the top as they are appended (after position \(head)).</p>
            <noscript><p class="error">The live tail needs JavaScript. Every other page works without it; the same stream is at
            <code>/api/v1/events</code> for any Server-Sent Events client.</p></noscript>
            <p id="tail-status" role="status" aria-live="polite">Connecting…</p>
            <ol id="tail" reversed data-stream="\(HTML.escape(stream))" aria-label="Events, newest first"></ol>
            <script src="/console/assets/tail.js" defer></script>
            """
        return Reply.html(HTML.page(title: "Live tail", signedIn: viewer, tenant: tenant, current: "tail", body: body))
    }
}
