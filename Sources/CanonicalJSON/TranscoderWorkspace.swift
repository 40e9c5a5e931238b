import Foundation

/// The buffers a thread's transcoders reuse from one input to the next, instead of allocating
/// five blocks per input: a sync transcodes every line of an export, so the allocator showed on
/// its hot path. A transcoder borrows them when it starts and gives them back when it ends;
/// one that starts while another on the same thread holds them (a nested transcode) allocates
/// its own, and the first one back keeps its memory.
final class TranscoderWorkspace {
    var out = RawBuffer<UInt8>.Spare()
    var members = RawBuffer<CanonicalTranscoder.Member>.Spare()
    var topMembers = RawBuffer<CanonicalTranscoder.Member>.Spare()
    var nested = RawBuffer<CanonicalTranscoder.Span>.Spare()
    var nestedObjects = RawBuffer<CanonicalTranscoder.NestedObject>.Spare()

    /// Output buffers larger than this are freed rather than kept.
    static let maxKeptBytes = 1 << 20

    deinit {
        out.free()
        members.free()
        topMembers.free()
        nested.free()
        nestedObjects.free()
    }

    /// This thread's workspace; it is freed when the thread ends.
    static var current: TranscoderWorkspace {
        if let p = pthread_getspecific(key) { return Unmanaged<TranscoderWorkspace>.fromOpaque(p).takeUnretainedValue() }
        let workspace = TranscoderWorkspace()
        pthread_setspecific(key, Unmanaged.passRetained(workspace).toOpaque())
        return workspace
    }

    private static let key: pthread_key_t = {
        var key = pthread_key_t()
        let created = pthread_key_create(&key) { p in
            if let p { Unmanaged<TranscoderWorkspace>.fromOpaque(p).release() }
        }
        precondition(created == 0, "pthread_key_create failed (\(created))")
        return key
    }()
}

extension CanonicalTranscoder {
    /// A transcoder over the `count` (at least one) bytes at `base`, in this thread's
    /// workspace's buffers (see ``giveBack(to:)``).
    init(base: UnsafePointer<UInt8>, count: Int, limits: JSONLimits, workspace: TranscoderWorkspace) {
        state = _ParserState(base: base, count: count, limits: limits)
        out = RawBuffer()
        members = RawBuffer()
        out.exchangeMemory(&workspace.out)
        members.exchangeMemory(&workspace.members)
        topMembers.exchangeMemory(&workspace.topMembers)
        nested.exchangeMemory(&workspace.nested)
        nestedObjects.exchangeMemory(&workspace.nestedObjects)
        out.reserve(count &+ 32)
        members.reserve(32)
    }

    /// Returns the buffers to `workspace` (those it has no memory for already; an oversized
    /// output buffer is freed instead).
    mutating func giveBack(to workspace: TranscoderWorkspace) {
        if workspace.out.base == nil && out.capacity <= TranscoderWorkspace.maxKeptBytes { out.exchangeMemory(&workspace.out) }
        if workspace.members.base == nil { members.exchangeMemory(&workspace.members) }
        if workspace.topMembers.base == nil { topMembers.exchangeMemory(&workspace.topMembers) }
        if workspace.nested.base == nil { nested.exchangeMemory(&workspace.nested) }
        if workspace.nestedObjects.base == nil { nestedObjects.exchangeMemory(&workspace.nestedObjects) }
    }
}
