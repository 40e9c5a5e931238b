/// Converts values to and from the bytes LMDB stores.
///
/// Codecs are stateless; `withBytes` lends the encoded bytes without forcing an allocation.
public protocol ByteCodec<Value>: Sendable {
    associatedtype Value
    /// Calls `body` with the encoded bytes of `value`.
    static func withBytes<R>(of value: Value, _ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R
    /// Decodes a value from bytes owned by LMDB (valid only for the transaction).
    static func decode(_ bytes: UnsafeRawBufferPointer) throws(LMDBError) -> Value
}

/// Raw bytes, copied out of the map on decode.
public enum RawBytes: ByteCodec {
    public static func withBytes<R>(of value: [UInt8], _ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try value.withUnsafeBytes(body)
    }
    public static func decode(_ bytes: UnsafeRawBufferPointer) -> [UInt8] { Array(bytes) }
}

/// An unsigned 64-bit integer stored big-endian, so byte order equals numeric order.
public enum UInt64BE: ByteCodec {
    public static func withBytes<R>(of value: UInt64, _ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        var be = value.bigEndian
        return try withUnsafeBytes(of: &be, body)
    }
    public static func decode(_ bytes: UnsafeRawBufferPointer) throws(LMDBError) -> UInt64 {
        guard bytes.count == 8 else {
            throw LMDBError(code: LMDBError.decodingFailed, operation: "decode UInt64BE",
                            message: "expected 8 bytes, found \(bytes.count)")
        }
        return UInt64(bigEndian: bytes.loadUnaligned(as: UInt64.self))
    }

    /// The 8 big-endian bytes of `value`.
    public static func bytes(_ value: UInt64) -> [UInt8] {
        withBytes(of: value) { Array($0) }
    }
}

/// A UTF-8 string. Decoding repairs nothing: invalid UTF-8 is an error.
public enum UTF8String: ByteCodec {
    public static func withBytes<R>(of value: String, _ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        var copy = value
        return try copy.withUTF8 { try body(UnsafeRawBufferPointer($0)) }
    }
    public static func decode(_ bytes: UnsafeRawBufferPointer) throws(LMDBError) -> String {
        guard let s = String(validating: bytes.assumingMemoryBound(to: UInt8.self), as: UTF8.self) else {
            throw LMDBError(code: LMDBError.decodingFailed, operation: "decode UTF8String", message: "invalid UTF-8")
        }
        return s
    }
}
