import CLMDB

extension ReadTransaction {
    /// The id of this transaction's snapshot; it grows with every commit.
    package var id: Int { mdb_txn_id(pointer) }
}
