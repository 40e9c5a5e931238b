import CLMDB

/// A typed handle on a named database, with codecs for its keys and values.
///
/// Handles are plain values, valid for the life of the environment that opened them; all access
/// goes through a transaction.
package struct Database<KeyCodec: ByteCodec, ValueCodec: ByteCodec>: Sendable {
    /// The database's name in the environment.
    package let name: String
    let dbi: MDB_dbi

    init(name: String, dbi: MDB_dbi) {
        self.name = name
        self.dbi = dbi
    }
}
