#if canImport(Glibc)
import Glibc
#endif

/// A pthread mutex (no Foundation, no Synchronization availability questions).
/// `@unchecked Sendable`: a mutex is what makes sharing safe; the pthread mutex lives at a fixed
/// address for the object's life.
final class Mutex: @unchecked Sendable {
    private var mutex = pthread_mutex_t()

    init() { pthread_mutex_init(&mutex, nil) }
    deinit { pthread_mutex_destroy(&mutex) }

    func withLock<T>(_ body: () throws -> T) rethrows -> T {
        pthread_mutex_lock(&mutex)
        defer { pthread_mutex_unlock(&mutex) }
        return try body()
    }
}
