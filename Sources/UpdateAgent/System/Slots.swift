/// Write-once slots filled from several threads (probe rounds, concurrent lint).
/// `@unchecked Sendable`: `slots` is read and written under `lock` only, and holds only values
/// that are themselves `Sendable`.
public final class Slots<Value: Sendable>: @unchecked Sendable {
    private let lock = Mutex()
    private var slots: [Value?]

    public init(count: Int) { slots = Array(repeating: nil, count: count) }

    public func set(_ index: Int, _ value: Value) { lock.withLock { slots[index] = value } }
    public var values: [Value] { lock.withLock { slots.map { $0! } } }
}
