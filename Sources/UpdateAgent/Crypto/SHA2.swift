import CSupport

/// The SHA-2 hashes updatectl needs, one streaming frame around each compression function.
protocol SHA2Variant {
    associatedtype Word: FixedWidthInteger & UnsignedInteger & Sendable
    static var blockSize: Int { get }
    /// The bytes of the message's bit length at the end of the padding: 8, or 16 for SHA-512.
    static var lengthSize: Int { get }
    static var initial: [Word] { get }
    /// The round constants, one per round.
    static var k: [Word] { get }
    /// σ0's two rotations and shift, then σ1's.
    static var schedule: (Word, Word, Word, Word, Word, Word) { get }
    /// Σ0's three rotations, then Σ1's.
    static var rounds: (Word, Word, Word, Word, Word, Word) { get }
    /// Hashes `blocks` whole blocks at `data` into `state`.
    static func compress(_ state: inout [Word], _ data: UnsafeRawPointer, blocks: Int)
}

/// SHA-2, streaming: update with any number of bytes, then `finalize` once.
struct SHA2<Variant: SHA2Variant>: Sendable {
    private var state = Variant.initial
    private var buffer = [UInt8]()
    private var length: UInt64 = 0

    init() { buffer.reserveCapacity(Variant.blockSize) }

    mutating func update(_ bytes: UnsafeRawBufferPointer) {
        guard var base = bytes.baseAddress, !bytes.isEmpty else { return }
        let size = Variant.blockSize
        var count = bytes.count
        length &+= UInt64(count)
        if !buffer.isEmpty {
            let take = min(size - buffer.count, count)
            buffer.append(contentsOf: UnsafeRawBufferPointer(start: base, count: take))
            base += take
            count -= take
            if buffer.count < size { return }
            buffer.withUnsafeBytes { Variant.compress(&state, $0.baseAddress!, blocks: 1) }
            buffer.removeAll(keepingCapacity: true)
        }
        let blocks = count / size
        if blocks > 0 { Variant.compress(&state, base, blocks: blocks) }
        buffer.append(contentsOf: UnsafeRawBufferPointer(start: base + blocks * size, count: count - blocks * size))
    }

    mutating func update(_ bytes: [UInt8]) { bytes.withUnsafeBytes { update($0) } }

    /// The digest: the padding (0x80, zeros, the message's length in bits), then the state,
    /// big-endian.
    mutating func finalize() -> [UInt8] {
        let size = Variant.blockSize
        var tail = buffer
        tail.append(0x80)
        while tail.count % size != size - Variant.lengthSize { tail.append(0) }
        // Messages here are far below 2^61 bytes: the upper bytes of a 16-byte length are zero.
        tail += [UInt8](repeating: 0, count: Variant.lengthSize - 8)
        let bits = length &* 8
        for shift in stride(from: 56, through: 0, by: -8) { tail.append(UInt8(truncatingIfNeeded: bits >> UInt64(shift))) }
        tail.withUnsafeBytes { Variant.compress(&state, $0.baseAddress!, blocks: tail.count / size) }
        buffer.removeAll()
        return state.flatMap { word in withUnsafeBytes(of: word.bigEndian) { Array($0) } }
    }

    static func hash(_ parts: [UInt8]...) -> [UInt8] {
        var hasher = Self()
        for part in parts { hasher.update(part) }
        return hasher.finalize()
    }
}

typealias SHA256Hasher = SHA2<SHA256Variant>
typealias SHA512Hasher = SHA2<SHA512Variant>

enum SHA256Variant: SHA2Variant {
    static let blockSize = 64
    static let lengthSize = 8
    static var initial: [UInt32] { SHA2Constants.initial256 }
    static var k: [UInt32] { SHA2Constants.k256 }
    static let schedule: (UInt32, UInt32, UInt32, UInt32, UInt32, UInt32) = (7, 18, 3, 17, 19, 10)
    static let rounds: (UInt32, UInt32, UInt32, UInt32, UInt32, UInt32) = (2, 13, 22, 6, 11, 25)

    /// The CPU's SHA instructions where it has them (about 5× faster), else the portable rounds.
    static func compress(_ state: inout [UInt32], _ data: UnsafeRawPointer, blocks: Int) {
        let done = k.withUnsafeBufferPointer { k in
            state.withUnsafeMutableBufferPointer { state in
                csupport_sha256_blocks(state.baseAddress, data.assumingMemoryBound(to: UInt8.self), blocks, k.baseAddress)
            }
        }
        if done == 0 { portableCompress(&state, data, blocks: blocks) }
    }
}

/// SHA-512: 128-byte blocks, 80 rounds.
enum SHA512Variant: SHA2Variant {
    static let blockSize = 128
    static let lengthSize = 16
    static var initial: [UInt64] { SHA2Constants.initial512 }
    static var k: [UInt64] { SHA2Constants.k512 }
    static let schedule: (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64) = (1, 8, 7, 19, 61, 6)
    static let rounds: (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64) = (28, 34, 39, 14, 18, 41)
}

extension SHA2Variant {
    @inline(__always) private static func rotate(_ x: Word, _ n: Word) -> Word { (x &>> n) | (x &<< (Word(Word.bitWidth) &- n)) }

    /// FIPS 180-4's compression (6.2.2, 6.4.2) of `blocks` whole blocks at `data`: the message
    /// schedule (σ0, σ1: `schedule`) and the rounds (Σ0, Σ1: `rounds`), one per constant of `k`.
    static func compress(_ state: inout [Word], _ data: UnsafeRawPointer, blocks: Int) { portableCompress(&state, data, blocks: blocks) }

    static func portableCompress(_ state: inout [Word], _ data: UnsafeRawPointer, blocks: Int) {
        let wordSize = Word.bitWidth / 8
        let (r0, r1, s0shift, r2, r3, s1shift) = schedule
        let (a0, a1, a2, e0, e1, e2) = rounds
        k.withUnsafeBufferPointer { k in
            withUnsafeTemporaryAllocation(of: Word.self, capacity: k.count) { w in
                var h0 = state[0], h1 = state[1], h2 = state[2], h3 = state[3]
                var h4 = state[4], h5 = state[5], h6 = state[6], h7 = state[7]
                for block in 0..<blocks {
                    let base = data + block * blockSize
                    for t in 0..<16 { w[t] = Word(bigEndian: base.loadUnaligned(fromByteOffset: t * wordSize, as: Word.self)) }
                    for t in 16..<k.count {
                        let s0 = rotate(w[t - 15], r0) ^ rotate(w[t - 15], r1) ^ (w[t - 15] &>> s0shift)
                        let s1 = rotate(w[t - 2], r2) ^ rotate(w[t - 2], r3) ^ (w[t - 2] &>> s1shift)
                        w[t] = w[t - 16] &+ s0 &+ w[t - 7] &+ s1
                    }
                    var a = h0, b = h1, c = h2, d = h3, e = h4, f = h5, g = h6, h = h7
                    for t in 0..<k.count {
                        let t1 = h &+ (rotate(e, e0) ^ rotate(e, e1) ^ rotate(e, e2)) &+ ((e & f) ^ (~e & g)) &+ k[t] &+ w[t]
                        let t2 = (rotate(a, a0) ^ rotate(a, a1) ^ rotate(a, a2)) &+ ((a & b) ^ (a & c) ^ (b & c))
                        h = g; g = f; f = e; e = d &+ t1
                        d = c; c = b; b = a; a = t1 &+ t2
                    }
                    h0 &+= a; h1 &+= b; h2 &+= c; h3 &+= d; h4 &+= e; h5 &+= f; h6 &+= g; h7 &+= h
                }
                state = [h0, h1, h2, h3, h4, h5, h6, h7]
            }
        }
    }
}

/// HMAC (RFC 2104) with SHA-256.
enum HMACSHA256 {
    static func authenticate(_ message: [UInt8], key: [UInt8]) -> [UInt8] {
        var block = key.count > 64 ? SHA256Hasher.hash(key) : key
        block += [UInt8](repeating: 0, count: 64 - block.count)
        var inner = SHA256Hasher()
        inner.update(block.map { $0 ^ 0x36 })
        inner.update(message)
        var outer = SHA256Hasher()
        outer.update(block.map { $0 ^ 0x5C })
        outer.update(inner.finalize())
        return outer.finalize()
    }
}
