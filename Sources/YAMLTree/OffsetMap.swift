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
    func mark(ofByte target: Int) -> Mark { Mark(ofByte: target, in: bytes) }
}

extension Mark {
    /// The position of byte `target` of a buffer: lines end at LF, CRLF or a lone CR (as libyaml
    /// counts them), columns count Unicode scalars, and a UTF-8 byte-order mark takes no column.
    public init<Bytes: RandomAccessCollection<UInt8>>(ofByte target: Int, in bytes: Bytes) where Bytes.Index == Int {
        let base = bytes.startIndex
        let count = bytes.count
        let end = min(max(target, 0), count)
        let bom = count >= 3 && bytes[base] == 0xEF && bytes[base + 1] == 0xBB && bytes[base + 2] == 0xBF
        var line = 1
        var lineStart = bom ? min(3, end) : 0
        var index = 0
        while index < end {
            let byte = bytes[base + index]
            if byte == 0x0A || (byte == 0x0D && (index + 1 >= count || bytes[base + index + 1] != 0x0A)) {
                line += 1
                lineStart = index + 1
            }
            index += 1
        }
        var column = 1
        for cursor in lineStart..<end where bytes[base + cursor] & 0xC0 != 0x80 { column += 1 }
        self.init(line: line, column: column, offset: end)
    }
}
