/// Maps libyaml's positions to byte offsets.
///
/// libyaml counts `mark.index` in characters (a CRLF counts two) after any byte-order mark, while
/// a `Mark` carries a byte offset. An ASCII buffer needs no table; otherwise one checkpoint every
/// `stride` characters keeps the lookup short and the memory small.
struct OffsetMap {
    private static let stride = 256
    /// 3 when the buffer starts with a UTF-8 byte-order mark, else 0.
    let bomLength: Int
    private let isASCII: Bool
    /// Byte offset of character `i * stride`, for non-ASCII buffers.
    private var checkpoints: [Int] = []
    private let bytes: UnsafeBufferPointer<UInt8>

    init(_ bytes: UnsafeBufferPointer<UInt8>) {
        self.bytes = bytes
        let bom = bytes.count >= 3 && bytes[0] == 0xEF && bytes[1] == 0xBB && bytes[2] == 0xBF
        bomLength = bom ? 3 : 0
        // One OR over every byte: a loop without an exit, which the compiler vectorizes.
        var bits: UInt8 = 0
        for byte in bytes { bits |= byte }
        isASCII = bits < 0x80
        guard !isASCII else { return }
        var characters = 0
        checkpoints.reserveCapacity(bytes.count / Self.stride + 1)
        for offset in bomLength..<bytes.count where !Self.isContinuation(bytes[offset]) {
            if characters % Self.stride == 0 { checkpoints.append(offset) }
            characters += 1
        }
    }

    private static func isContinuation(_ byte: UInt8) -> Bool { byte & 0xC0 == 0x80 }

    /// The byte offset of the character at libyaml index `index`.
    func offset(ofCharacter index: Int) -> Int {
        if isASCII { return min(index + bomLength, bytes.count) }
        let slot = index / Self.stride
        guard slot < checkpoints.count else { return bytes.count }
        var offset = checkpoints[slot]
        var remaining = index - slot * Self.stride
        while remaining > 0, offset < bytes.count {
            offset += 1
            while offset < bytes.count, Self.isContinuation(bytes[offset]) { offset += 1 }
            remaining -= 1
        }
        return offset
    }

    /// The line and column of a byte offset, for libyaml's reader errors, which give only that.
    func mark(ofByte target: Int) -> Mark {
        let end = min(target, bytes.count)
        var line = 1
        var lineStart = bomLength
        var index = 0
        while index < end {
            let byte = bytes[index]
            if byte == 0x0A || (byte == 0x0D && (index + 1 >= bytes.count || bytes[index + 1] != 0x0A)) {
                line += 1
                lineStart = index + 1
            }
            index += 1
        }
        var column = 1
        var cursor = lineStart
        while cursor < end {
            if !Self.isContinuation(bytes[cursor]) { column += 1 }
            cursor += 1
        }
        return Mark(line: line, column: column, offset: end)
    }
}
