/// Ed25519 (RFC 8032): verification of release signatures, and signing for `simulate`'s own
/// throwaway releases. Verification is RFC 8032's: a public key or a signature's S that is not
/// canonical is refused, and the signature holds when [S]B − [k]A encodes to exactly R's bytes
/// (k = SHA-512(R ‖ A ‖ M) mod L), as BoringSSL and Go check it.
///
/// Variable time: fine for checking public signatures; signing is only for keys that protect
/// nothing (the simulator's), never for a real release key.
enum Ed25519 {
    /// `signature` (64 bytes) over `message` by `publicKey` (32 bytes).
    static func verify(signature: [UInt8], message: UnsafeRawBufferPointer, publicKey: [UInt8]) -> Bool {
        (try? verify(signature: signature, publicKey: publicKey) { $0.update(message) }) ?? false
    }

    /// The same, the message handed to the hasher piece by piece by `feed` (a large file read in
    /// chunks, in constant memory); what `feed` throws is thrown.
    static func verify(signature: [UInt8], publicKey: [UInt8], feed: (inout SHA512Hasher) throws -> Void) throws -> Bool {
        guard signature.count == 64, publicKey.count == 32, let a = Point(decoding: publicKey) else { return false }
        let r = Array(signature[0..<32])
        let s = Array(signature[32..<64])
        guard Scalar.isCanonical(s) else { return false }
        var hasher = SHA512Hasher()
        hasher.update(r)
        hasher.update(publicKey)
        try feed(&hasher)
        return check(r: r, s: s, a: a, digest: hasher.finalize())
    }

    /// The same, given SHA-512(R ‖ A ‖ M) already (the message hashed as it arrived).
    static func verify(signature: [UInt8], publicKey: [UInt8], digest: [UInt8]) -> Bool {
        guard signature.count == 64, publicKey.count == 32, digest.count == 64, let a = Point(decoding: publicKey) else { return false }
        let s = Array(signature[32..<64])
        guard Scalar.isCanonical(s) else { return false }
        return check(r: Array(signature[0..<32]), s: s, a: a, digest: digest)
    }

    /// [S]B − [k]A encodes to R, k = digest mod L.
    private static func check(r: [UInt8], s: [UInt8], a: Point, digest: [UInt8]) -> Bool {
        let k = Scalar.reduce(digest)
        return Point.base.multiplied(by: s).adding(a.negated.multiplied(by: k)).encoded == r
    }

    /// Whether `key` is the encoding of a point of the curve (RFC 8032 5.1.3).
    static func isValidPublicKey(_ key: [UInt8]) -> Bool { key.count == 32 && Point(decoding: key) != nil }

    /// The public key of a 32-byte secret `seed`.
    static func publicKey(seed: [UInt8]) -> [UInt8] {
        Point.base.multiplied(by: expand(seed).scalar).encoded
    }

    /// RFC 8032's signature of `message` with the secret `seed`.
    static func sign(_ message: [UInt8], seed: [UInt8]) -> [UInt8] {
        let (a, prefix) = expand(seed)
        let publicKey = Point.base.multiplied(by: a).encoded
        let r = Scalar.reduce(SHA512Hasher.hash(prefix, message))
        let encodedR = Point.base.multiplied(by: r).encoded
        let k = Scalar.reduce(SHA512Hasher.hash(encodedR, publicKey, message))
        return encodedR + Scalar.multiplyAdd(k, a, r)
    }

    /// A new random secret seed (the system's generator: getrandom(2)).
    static func randomSeed() -> [UInt8] {
        var generator = SystemRandomNumberGenerator()
        return (0..<32).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
    }

    /// The clamped secret scalar and the nonce prefix of a seed.
    private static func expand(_ seed: [UInt8]) -> (scalar: [UInt8], prefix: [UInt8]) {
        let h = SHA512Hasher.hash(seed)
        var a = Array(h[0..<32])
        a[0] &= 248
        a[31] &= 127
        a[31] |= 64
        return (a, Array(h[32..<64]))
    }
}

/// An element of GF(2^255 − 19) in five 51-bit limbs, little-endian.
struct FieldElement: Equatable {
    var limbs: (UInt64, UInt64, UInt64, UInt64, UInt64)

    static let mask: UInt64 = (1 << 51) - 1
    static let zero = FieldElement(0)
    static let one = FieldElement(1)

    init(_ small: UInt64) { limbs = (small, 0, 0, 0, 0) }

    init(limbs: (UInt64, UInt64, UInt64, UInt64, UInt64)) { self.limbs = limbs }

    /// 32 little-endian bytes, the top bit ignored; nil when the value is not below p (not
    /// canonical).
    init?(canonical bytes: [UInt8]) {
        func word(_ offset: Int) -> UInt64 {
            (0..<8).reduce(UInt64(0)) { $0 | UInt64(bytes[offset + $1]) << (8 * UInt64($1)) }
        }
        let w0 = word(0), w1 = word(8), w2 = word(16), w3 = word(24) & ~(1 << 63)
        self.init(limbs: (w0 & Self.mask, (w0 >> 51 | w1 << 13) & Self.mask, (w1 >> 38 | w2 << 26) & Self.mask,
                          (w2 >> 25 | w3 << 39) & Self.mask, w3 >> 12))
        var top = bytes
        top[31] &= 0x7F
        guard encoded == top else { return nil }
    }

    /// The canonical 32 little-endian bytes.
    var encoded: [UInt8] {
        var t = carried
        // t < 2p now; subtract p when t ≥ p: q is 1 exactly then.
        var q = (t.limbs.0 &+ 19) >> 51
        q = (t.limbs.1 &+ q) >> 51
        q = (t.limbs.2 &+ q) >> 51
        q = (t.limbs.3 &+ q) >> 51
        q = (t.limbs.4 &+ q) >> 51
        // + 19q − q·2^255 = − q·p: the carry out of the top limb is dropped.
        t.limbs.0 &+= 19 &* q
        t.carry(foldingTop: false)
        let words = [t.limbs.0 | t.limbs.1 << 51, t.limbs.1 >> 13 | t.limbs.2 << 38, t.limbs.2 >> 26 | t.limbs.3 << 25,
                     t.limbs.3 >> 39 | t.limbs.4 << 12]
        return words.flatMap { word in (0..<8).map { UInt8(truncatingIfNeeded: word >> (8 * UInt64($0))) } }
    }

    /// Limbs carried below 2^52 (not yet below p).
    var carried: FieldElement {
        var t = self
        t.carry(foldingTop: true)
        return t
    }

    /// Carries each limb's bits above 51 into the next; the top limb's go back into the lowest
    /// times 19 (2^255 ≡ 19), or are dropped.
    private mutating func carry(foldingTop: Bool) {
        limbs.1 &+= limbs.0 >> 51
        limbs.0 &= Self.mask
        limbs.2 &+= limbs.1 >> 51
        limbs.1 &= Self.mask
        limbs.3 &+= limbs.2 >> 51
        limbs.2 &= Self.mask
        limbs.4 &+= limbs.3 >> 51
        limbs.3 &= Self.mask
        if foldingTop { limbs.0 &+= 19 &* (limbs.4 >> 51) }
        limbs.4 &= Self.mask
    }

    var isNegative: Bool { encoded[0] & 1 == 1 }
    var isZero: Bool { encoded == [UInt8](repeating: 0, count: 32) }

    static func == (a: FieldElement, b: FieldElement) -> Bool { a.encoded == b.encoded }

    static func + (a: FieldElement, b: FieldElement) -> FieldElement {
        FieldElement(limbs: (a.limbs.0 &+ b.limbs.0, a.limbs.1 &+ b.limbs.1, a.limbs.2 &+ b.limbs.2,
                             a.limbs.3 &+ b.limbs.3, a.limbs.4 &+ b.limbs.4)).carried
    }

    /// a − b as a + 4p − b, so no limb goes below zero for carried inputs.
    static func - (a: FieldElement, b: FieldElement) -> FieldElement {
        let b = b.carried
        let low: UInt64 = 0x1F_FFFF_FFFF_FFB4, high: UInt64 = 0x1F_FFFF_FFFF_FFFC  // 4p's limbs
        return FieldElement(limbs: (a.limbs.0 &+ low &- b.limbs.0, a.limbs.1 &+ high &- b.limbs.1,
                                    a.limbs.2 &+ high &- b.limbs.2, a.limbs.3 &+ high &- b.limbs.3,
                                    a.limbs.4 &+ high &- b.limbs.4)).carried
    }

    static prefix func - (a: FieldElement) -> FieldElement { .zero - a }

    static func * (a: FieldElement, b: FieldElement) -> FieldElement {
        let a = a.carried, b = b.carried
        let (a0, a1, a2, a3, a4) = a.limbs
        let (b0, b1, b2, b3, b4) = b.limbs
        let b1x = b1 &* 19, b2x = b2 &* 19, b3x = b3 &* 19, b4x = b4 &* 19
        func m(_ x: UInt64, _ y: UInt64) -> UInt128 { UInt128(x) * UInt128(y) }
        var r0 = m(a0, b0) + m(a1, b4x) + m(a2, b3x) + m(a3, b2x) + m(a4, b1x)
        var r1 = m(a0, b1) + m(a1, b0) + m(a2, b4x) + m(a3, b3x) + m(a4, b2x)
        var r2 = m(a0, b2) + m(a1, b1) + m(a2, b0) + m(a3, b4x) + m(a4, b3x)
        var r3 = m(a0, b3) + m(a1, b2) + m(a2, b1) + m(a3, b0) + m(a4, b4x)
        var r4 = m(a0, b4) + m(a1, b3) + m(a2, b2) + m(a3, b1) + m(a4, b0)
        let mask = UInt128(Self.mask)
        r1 += r0 >> 51
        r0 &= mask
        r2 += r1 >> 51
        r1 &= mask
        r3 += r2 >> 51
        r2 &= mask
        r4 += r3 >> 51
        r3 &= mask
        r0 += (r4 >> 51) * 19
        r4 &= mask
        r1 += r0 >> 51
        r0 &= mask
        return FieldElement(limbs: (UInt64(r0), UInt64(r1), UInt64(r2), UInt64(r3), UInt64(r4)))
    }

    var squared: FieldElement { self * self }

    /// self^e for e given as 32 little-endian bytes.
    func power(_ exponent: [UInt8]) -> FieldElement {
        var result = FieldElement.one
        for bit in stride(from: 255, through: 0, by: -1) {
            result = result.squared
            if exponent[bit / 8] >> (bit % 8) & 1 == 1 { result = result * self }
        }
        return result
    }

    /// p − 2 and (p − 5) / 8, little-endian.
    static let pMinus2: [UInt8] = [0xEB] + [UInt8](repeating: 0xFF, count: 30) + [0x7F]
    static let pMinus5Over8: [UInt8] = [0xFD] + [UInt8](repeating: 0xFF, count: 30) + [0x0F]

    var inverse: FieldElement { power(Self.pMinus2) }

    /// √−1 = 2^((p − 1) / 4).
    static let sqrtMinusOne: FieldElement = {
        let exponent: [UInt8] = [0xFB] + [UInt8](repeating: 0xFF, count: 30) + [0x1F]
        return FieldElement(2).power(exponent)
    }()
}

/// A point of edwards25519 in extended coordinates (X : Y : Z : T), x = X/Z, y = Y/Z, xy = T/Z.
struct Point {
    var x: FieldElement, y: FieldElement, z: FieldElement, t: FieldElement

    /// d = −121665 / 121666.
    static let d: FieldElement = -FieldElement(121_665) * FieldElement(121_666).inverse
    static let d2: FieldElement = d + d
    static let identity = Point(x: .zero, y: .one, z: .one, t: .zero)
    /// The base point: y = 4/5, x positive.
    static let base: Point = {
        var bytes = (FieldElement(4) * FieldElement(5).inverse).encoded
        bytes[31] &= 0x7F
        return Point(decoding: bytes)!
    }()

    init(x: FieldElement, y: FieldElement, z: FieldElement, t: FieldElement) {
        self.x = x
        self.y = y
        self.z = z
        self.t = t
    }

    /// RFC 8032 5.1.3: y canonical, x from x² = (y² − 1) / (d y² + 1) with the sign bit; nil when
    /// no such x exists, or x = 0 with the sign bit set.
    init?(decoding bytes: [UInt8]) {
        guard bytes.count == 32, let y = FieldElement(canonical: bytes) else { return nil }
        let sign = bytes[31] >> 7
        let y2 = y.squared
        let u = y2 - .one
        let v = Point.d * y2 + .one
        let v3 = v.squared * v
        var x = u * v3 * (u * v3.squared * v).power(FieldElement.pMinus5Over8)
        let vx2 = v * x.squared
        if vx2 == u {
        } else if vx2 == -u {
            x = x * FieldElement.sqrtMinusOne
        } else {
            return nil
        }
        if x.isZero && sign == 1 { return nil }
        if (x.isNegative ? 1 : 0) != sign { x = -x }
        self.init(x: x, y: y, z: .one, t: x * y)
    }

    var encoded: [UInt8] {
        let inverse = z.inverse
        var bytes = (y * inverse).encoded
        if (x * inverse).isNegative { bytes[31] |= 0x80 }
        return bytes
    }

    var negated: Point { Point(x: -x, y: y, z: z, t: -t) }

    /// RFC 8032 5.1.4's addition.
    func adding(_ q: Point) -> Point {
        let a = (y - x) * (q.y - q.x)
        let b = (y + x) * (q.y + q.x)
        let c = t * Point.d2 * q.t
        let d = z * (q.z + q.z)
        let e = b - a, f = d - c, g = d + c, h = b + a
        return Point(x: e * f, y: g * h, z: f * g, t: e * h)
    }

    /// RFC 8032 5.1.4's doubling.
    var doubled: Point {
        let a = x.squared, b = y.squared
        let c = z.squared + z.squared
        let h = a + b
        let e = h - (x + y).squared
        let g = a - b
        let f = c + g
        return Point(x: e * f, y: g * h, z: f * g, t: e * h)
    }

    /// [scalar]self, the scalar as 32 little-endian bytes.
    func multiplied(by scalar: [UInt8]) -> Point {
        var result = Point.identity
        for bit in stride(from: 255, through: 0, by: -1) {
            result = result.doubled
            if scalar[bit / 8] >> (bit % 8) & 1 == 1 { result = result.adding(self) }
        }
        return result
    }
}

/// Integers modulo L = 2^252 + 27742317777372353535851937790883648493, the order of the base
/// point, as little-endian bytes.
enum Scalar {
    /// L in 64-bit limbs, little-endian.
    static let order: [UInt64] = [0x5812631A5CF5D3ED, 0x14DEF9DEA2F79CD6, 0, 0x1000000000000000]

    /// s < L (RFC 8032 5.1.7: a larger S makes signatures malleable).
    static func isCanonical(_ s: [UInt8]) -> Bool {
        compare(limbs(s), order) < 0
    }

    /// A little-endian number of any length (up to 64 bytes) modulo L, as 32 bytes.
    static func reduce(_ bytes: [UInt8]) -> [UInt8] {
        var x = limbs(bytes)
        x += [UInt64](repeating: 0, count: max(0, 9 - x.count))
        // Long division by L, one bit at a time from the top: subtract L·2^i when it fits.
        for shift in stride(from: x.count * 64 - 253, through: 0, by: -1) {
            let shifted = shiftLeft(order, by: shift, count: x.count)
            if compare(x, shifted) >= 0 { x = subtract(x, shifted) }
        }
        return x.prefix(4).flatMap { word in (0..<8).map { UInt8(truncatingIfNeeded: word >> (8 * UInt64($0))) } }
    }

    /// (a · b + c) mod L.
    static func multiplyAdd(_ a: [UInt8], _ b: [UInt8], _ c: [UInt8]) -> [UInt8] {
        let x = limbs(a), y = limbs(b)
        var product = [UInt64](repeating: 0, count: 9)
        for i in 0..<x.count {
            var carry: UInt64 = 0
            for j in 0..<y.count {
                let (high, low) = x[i].multipliedFullWidth(by: y[j])
                let (sum1, o1) = product[i + j].addingReportingOverflow(low)
                let (sum2, o2) = sum1.addingReportingOverflow(carry)
                product[i + j] = sum2
                carry = high &+ (o1 ? 1 : 0) &+ (o2 ? 1 : 0)
            }
            product[i + y.count] &+= carry
        }
        let sum = add(product, limbs(c))
        return reduce(sum.flatMap { word in (0..<8).map { UInt8(truncatingIfNeeded: word >> (8 * UInt64($0))) } })
    }

    static func limbs(_ bytes: [UInt8]) -> [UInt64] {
        stride(from: 0, to: bytes.count, by: 8).map { offset in
            (0..<min(8, bytes.count - offset)).reduce(UInt64(0)) { $0 | UInt64(bytes[offset + $1]) << (8 * UInt64($1)) }
        }
    }

    static func compare(_ a: [UInt64], _ b: [UInt64]) -> Int {
        for index in stride(from: max(a.count, b.count) - 1, through: 0, by: -1) {
            let x = index < a.count ? a[index] : 0, y = index < b.count ? b[index] : 0
            if x != y { return x < y ? -1 : 1 }
        }
        return 0
    }

    static func subtract(_ a: [UInt64], _ b: [UInt64]) -> [UInt64] { combine(a, b, negative: true) }

    static func add(_ a: [UInt64], _ b: [UInt64]) -> [UInt64] { combine(a, b, negative: false) }

    /// a ± b in a's limbs, carrying (or borrowing) from limb to limb; the last carry is dropped.
    private static func combine(_ a: [UInt64], _ b: [UInt64], negative: Bool) -> [UInt64] {
        var out = a
        var carry: UInt64 = 0
        for index in out.indices {
            let y = index < b.count ? b[index] : 0
            let (r1, o1) = negative ? out[index].subtractingReportingOverflow(y) : out[index].addingReportingOverflow(y)
            let (r2, o2) = negative ? r1.subtractingReportingOverflow(carry) : r1.addingReportingOverflow(carry)
            out[index] = r2
            carry = (o1 ? 1 : 0) + (o2 ? 1 : 0)
        }
        return out
    }

    /// `value` · 2^shift in `count` limbs.
    static func shiftLeft(_ value: [UInt64], by shift: Int, count: Int) -> [UInt64] {
        var out = [UInt64](repeating: 0, count: count)
        let words = shift / 64, bits = UInt64(shift % 64)
        for index in value.indices where index + words < count {
            out[index + words] |= value[index] << bits
            if bits > 0, index + words + 1 < count { out[index + words + 1] |= value[index] >> (64 - bits) }
        }
        return out
    }
}
