/// Converts values to and from the bytes LMDB stores.
///
/// Codecs are stateless; `withBytes` lends the encoded bytes without forcing an allocation.
package protocol ByteCodec<Value>: Sendable {
    associatedtype Value
    /// Calls `body` with the encoded bytes of `value`.
    static func withBytes<R>(of value: Value, _ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R
    /// Decodes a value from bytes owned by LMDB (valid only for the transaction).
    static func decode(_ bytes: UnsafeRawBufferPointer) throws(LMDBError) -> Value
}

/// Raw bytes, copied out of the map on decode.
package enum RawBytes: ByteCodec {
    package static func withBytes<R>(of value: [UInt8], _ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try value.withUnsafeBytes(body)
    }
    package static func decode(_ bytes: UnsafeRawBufferPointer) -> [UInt8] { Array(bytes) }
}

/// An unsigned 64-bit integer stored big-endian, so byte order equals numeric order.
package enum UInt64BE: ByteCodec {
    package static func withBytes<R>(of value: UInt64, _ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        var be = value.bigEndian
        return try withUnsafeBytes(of: &be, body)
    }
    package static func decode(_ bytes: UnsafeRawBufferPointer) throws(LMDBError) -> UInt64 {
        guard bytes.count == 8 else {
            throw LMDBError(code: LMDBError.decodingFailed, operation: "decode UInt64BE",
                            message: "expected 8 bytes, found \(bytes.count)")
        }
        return UInt64(bigEndian: bytes.loadUnaligned(as: UInt64.self))
    }

    /// The 8 big-endian bytes of `value`.
    package static func bytes(_ value: UInt64) -> [UInt8] {
        withBytes(of: value) { Array($0) }
    }
}

/// A UTF-8 string. Decoding repairs nothing: invalid UTF-8 is an error.
package enum UTF8String: ByteCodec {
    package static func withBytes<R>(of value: String, _ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        var copy = value
        return try copy.withUTF8 { try body(UnsafeRawBufferPointer($0)) }
    }
    package static func decode(_ bytes: UnsafeRawBufferPointer) throws(LMDBError) -> String {
        guard let s = String(validating: bytes.assumingMemoryBound(to: UInt8.self), as: UTF8.self) else {
            throw LMDBError(code: LMDBError.decodingFailed, operation: "decode UTF8String", message: "invalid UTF-8")
        }
        return s
    }
}
