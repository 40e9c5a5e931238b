package import CanonicalJSON

extension ItemsPage {
    /// The page as `atlas items --limit N --json` prints it: `{"items":[…],"next":CURSOR or null}`.
    package var json: JSONValue {
        .object(["items": .array(items.map(\.json)), "next": next.map { .string($0.text) } ?? .null])
    }
}
