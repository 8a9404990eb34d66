import Foundation

/// Runs work on a thread with a small stack, as a secondary thread would have, and hands back
/// the result: a recursive parser would overflow here.
enum SmallStackThread {
    static func run<T: Sendable>(stackSize: Int, _ work: @escaping @Sendable () -> T) async -> T {
        await withCheckedContinuation { continuation in
            let thread = Thread { continuation.resume(returning: work()) }
            thread.stackSize = stackSize
            thread.start()
        }
    }
}
