/// A growable run of trivial values in memory it owns and frees: the transcoder's output, member
/// table and permutation buffer. Unlike `Array`, appending checks only the capacity (no
/// uniqueness check, no generic call), which matters for the many small appends of a
/// transcode.
///
/// What it bought is part of the transcoder's figure in `atlas-bench canonical`
/// (docs/benchmarks.md): `canonicalize(_:into:)` at 643k objects/s against 79k/s for parse +
/// serialize, on 596-byte Graph objects. Its share against `Array` was not measured apart.
struct RawBuffer<Element: BitwiseCopyable>: ~Copyable {
    private(set) var base: UnsafeMutablePointer<Element>
    private(set) var count = 0
    private(set) var capacity: Int

    /// An empty buffer that allocates nothing until the first append.
    init() {
        capacity = 0
        base = Self.noMemory
    }

    /// The base of a buffer with no memory: aligned, never read or freed (capacity 0).
    private static var noMemory: UnsafeMutablePointer<Element> { UnsafeMutablePointer(bitPattern: MemoryLayout<Element>.alignment)! }

    deinit { if capacity > 0 { base.deallocate() } }

    /// The elements, valid until the next mutation.
    var elements: UnsafeBufferPointer<Element> { UnsafeBufferPointer(start: base, count: count) }

    subscript(i: Int) -> Element {
        get { base[i] }
        set { base[i] = newValue }
    }

    /// Makes room for `n` more elements.
    @inline(__always)
    mutating func reserve(_ n: Int) {
        if n > capacity &- count { grow(n) }
    }

    @inline(never)
    private mutating func grow(_ n: Int) {
        let newCapacity = max(capacity &* 2, count &+ n, 16)
        let newBase = UnsafeMutablePointer<Element>.allocate(capacity: newCapacity)
        newBase.initialize(from: base, count: count)
        if capacity > 0 { base.deallocate() }
        base = newBase
        capacity = newCapacity
    }

    @inline(__always)
    mutating func append(_ element: Element) {
        reserve(1)
        base[count] = element
        count &+= 1
    }

    @inline(__always)
    mutating func append(_ source: UnsafePointer<Element>, count n: Int) {
        reserve(n)
        (base + count).initialize(from: source, count: n)
        count &+= n
    }

    @inline(__always)
    mutating func append(_ source: UnsafeBufferPointer<Element>) {
        if let start = source.baseAddress { append(start, count: source.count) }
    }

    /// Drops the elements from `newCount` on.
    @inline(__always)
    mutating func truncate(to newCount: Int) {
        count = newCount
    }

    /// Memory kept between uses (see ``TranscoderWorkspace``): a block and its capacity, or none.
    struct Spare {
        var base: UnsafeMutablePointer<Element>?
        var capacity = 0

        func free() { if let base, capacity > 0 { base.deallocate() } }
    }

    /// Exchanges this buffer's memory with `spare`'s: the buffer is left empty (count 0) in the
    /// spare's memory (or none), and `spare` holds the buffer's memory (or none).
    mutating func exchangeMemory(_ spare: inout Spare) {
        let mine = Spare(base: capacity > 0 ? base : nil, capacity: capacity)
        if let b = spare.base, spare.capacity > 0 {
            base = b
            capacity = spare.capacity
        } else {
            base = Self.noMemory
            capacity = 0
        }
        count = 0
        spare = mine
    }
}

extension RawBuffer where Element == UInt8 {
    /// Appends `n` bytes from `source`. Copies of up to 32 bytes (most keys, numbers and short
    /// strings) are done with overlapping word loads and stores instead of a call to `memmove`.
    @inline(__always)
    mutating func append(bytes source: UnsafePointer<UInt8>, count n: Int) {
        reserve(n)
        let s = UnsafeRawPointer(source), d = UnsafeMutableRawPointer(base + count)
        if n > 32 {
            d.copyMemory(from: s, byteCount: n)
        } else if n >= 16 {
            let a = s.loadUnaligned(as: UInt64.self), b = s.loadUnaligned(fromByteOffset: 8, as: UInt64.self)
            let c = s.loadUnaligned(fromByteOffset: n &- 16, as: UInt64.self), e = s.loadUnaligned(fromByteOffset: n &- 8, as: UInt64.self)
            d.storeBytes(of: a, as: UInt64.self)
            d.storeBytes(of: b, toByteOffset: 8, as: UInt64.self)
            d.storeBytes(of: c, toByteOffset: n &- 16, as: UInt64.self)
            d.storeBytes(of: e, toByteOffset: n &- 8, as: UInt64.self)
        } else if n >= 8 {
            let a = s.loadUnaligned(as: UInt64.self), b = s.loadUnaligned(fromByteOffset: n &- 8, as: UInt64.self)
            d.storeBytes(of: a, as: UInt64.self)
            d.storeBytes(of: b, toByteOffset: n &- 8, as: UInt64.self)
        } else if n >= 4 {
            let a = s.loadUnaligned(as: UInt32.self), b = s.loadUnaligned(fromByteOffset: n &- 4, as: UInt32.self)
            d.storeBytes(of: a, as: UInt32.self)
            d.storeBytes(of: b, toByteOffset: n &- 4, as: UInt32.self)
        } else if n > 0 {
            let a = source[0], b = source[n &>> 1], c = source[n &- 1]
            base[count] = a
            base[count &+ (n &>> 1)] = b
            base[count &+ n &- 1] = c
        }
        count &+= n
    }
}
