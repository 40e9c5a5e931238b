import EventLog
import PostgresNIO

extension PostgresSession {
    /// The database's clock at the start of the session's current transaction (`now()`), asked
    /// once per transaction, or the local wall clock when the server cannot be asked.
    func transactionTime() -> Timestamp {
        if let t = transactionClock { return t }
        let asked = (try? query("SELECT (extract(epoch FROM now()) * 1000)::bigint").first?.decode(Int64.self))
            .flatMap { $0 }.map { Timestamp(millisecondsSinceEpoch: $0) }
        if inTransaction, let asked { transactionClock = asked }
        return asked ?? .now()
    }
}
