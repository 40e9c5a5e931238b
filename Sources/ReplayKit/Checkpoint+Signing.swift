package import Crypto
package import EventLog
package import Foundation

extension Checkpoint {
    /// Signs a checkpoint of `head` (whose event was recorded at `recordedAt`) of store
    /// `storeID` with `key`, dated `createdAt`.
    package static func sign(storeID: String, formatVersion: Int, head: LogHead, recordedAt: Timestamp,
                            createdAt: Timestamp = .now(), key: Curve25519.Signing.PrivateKey) throws -> Checkpoint {
        var c = Checkpoint(storeID: storeID, formatVersion: formatVersion, position: head.position, chain: head.chainHash,
                           recordedAt: recordedAt, createdAt: createdAt,
                           publicKey: Array(key.publicKey.rawRepresentation), signature: [])
        c.signature = Array(try key.signature(for: c.signingBytes))
        return c
    }

    /// Whether ``signature`` is a valid Ed25519 signature by ``publicKey`` over ``signingBytes``.
    package var signatureIsValid: Bool {
        guard let key = try? Curve25519.Signing.PublicKey(rawRepresentation: publicKey) else { return false }
        return key.isValidSignature(signature, for: signingBytes)
    }

    /// The first characters of the public key's hex, to name it in reports.
    package var keyFingerprint: String { String(Hex.encode(publicKey).prefix(8)) }

    /// Reads an Ed25519 private key file written by ``writeNewKey(to:)``: 64 lowercase hex
    /// characters (the key's 32-byte raw representation) and an optional newline. The file must
    /// not be readable or writable by group or others.
    package static func readPrivateKey(at path: String) throws(CheckpointError) -> Curve25519.Signing.PrivateKey {
        let data: [UInt8]
        do { data = try BoundedFile.read(path, role: "key file", limit: 1024, ownerOnly: true) } catch {
            if case .tooLarge = error.problem {
                throw CheckpointError("\(error.message): not a key file (expected 64 hex characters)")
            }
            throw CheckpointError(error.message)
        }
        var text = String(decoding: data, as: UTF8.self)
        if text.hasSuffix("\n") { text.removeLast() }
        guard let raw = decodeHex(text), raw.count == 32, let key = try? Curve25519.Signing.PrivateKey(rawRepresentation: raw) else {
            throw CheckpointError("key file \(path) is malformed: expected 64 lowercase hex characters (an Ed25519 private key)")
        }
        return key
    }

    /// Parses a public key given as 64 lowercase hex characters (an optional trailing newline
    /// allowed).
    package static func parsePublicKey(_ text: String) throws(CheckpointError) -> [UInt8] {
        var t = text
        if t.hasSuffix("\n") { t.removeLast() }
        guard let raw = decodeHex(t), raw.count == 32, (try? Curve25519.Signing.PublicKey(rawRepresentation: raw)) != nil else {
            throw CheckpointError("not an Ed25519 public key: expected 64 lowercase hex characters")
        }
        return raw
    }

    /// Creates a new Ed25519 key: `path` (created exclusively, mode 0600) receives the private
    /// key as 64 lowercase hex characters and a newline, `path.pub` (created exclusively, mode
    /// 0644) the public key the same way. Returns the public key's hex.
    package static func writeNewKey(to path: String) throws(CheckpointError) -> String {
        let key = Curve25519.Signing.PrivateKey()
        let pub = Hex.encode(key.publicKey.rawRepresentation)
        try writeExclusive(path, Hex.encode(key.rawRepresentation) + "\n", mode: 0o600)
        do { try writeExclusive(path + ".pub", pub + "\n", mode: 0o644) } catch {
            unlink(path)
            throw error
        }
        return pub
    }

    /// Writes `text` to a new file at `path` (O_EXCL): an existing file is an error.
    package static func writeExclusive(_ path: String, _ text: String, mode: mode_t) throws(CheckpointError) {
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode)
        guard fd >= 0 else {
            let e = errno
            throw CheckpointError(e == EEXIST ? "\(path) already exists; refusing to overwrite it"
                                               : "cannot create \(path): \(String(cString: strerror(e)))")
        }
        // The mode is not subject to the umask's leniency: set it exactly.
        fchmod(fd, mode)
        let bytes = Array(text.utf8)
        var done = 0
        while done < bytes.count {
            let n = bytes[done...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else {
                let e = errno
                close(fd)
                unlink(path)
                throw CheckpointError("cannot write \(path): \(String(cString: strerror(e)))")
            }
            done += n
        }
        let synced = fsync(fd) == 0
        close(fd)
        guard synced else { unlink(path); throw CheckpointError("cannot write \(path): fsync failed") }
    }
}

/// An Ed25519 private key that signs checkpoints.
package typealias Curve25519SigningKey = Curve25519.Signing.PrivateKey

extension Checkpoint {
    /// Signs a checkpoint of `store`'s current head.
    ///
    /// - Throws: ``ReplayUsageError`` when the store is empty or has no id.
    package static func ofHead(of store: any EventStore, key: Curve25519SigningKey) throws -> Checkpoint {
        guard let id = try store.metadata()["store_id"], !id.isEmpty else {
            throw ReplayUsageError("the store at \(store.location) has no store_id in its meta table")
        }
        let head = try store.head()
        guard head.position > 0, let event = try store.rawEvents(from: head.position, limit: 1).first else {
            throw ReplayUsageError("the store at \(store.location) is empty: there is no head to checkpoint")
        }
        return try sign(storeID: id, formatVersion: store.formatVersion,
                        head: LogHead(position: event.position, chainHash: event.chainHash),
                        recordedAt: try event.decode().envelope.recordedAt, key: key)
    }
}
