/// Where a node falls among the fleet for one release: the `rollout` gate's share and a rollout
/// wave's both judge it by this bucket.
public enum StableBucket {
    /// A stable bucket in [0, 100) from the machine id, a salt and the target version: a node
    /// keeps its place until the version or the salt changes.
    public static func of(machineID: String, salt: String, version: String) -> Double {
        let digest = SHA256Stream.digest(Array("\(machineID)\n\(salt)\n\(version)".utf8))
        var value: UInt64 = 0
        for byte in digest.prefix(8) { value = value << 8 | UInt64(byte) }
        return Double(value % 1_000_000) / 10_000
    }
}
