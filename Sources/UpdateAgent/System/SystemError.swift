#if canImport(Glibc)
import Glibc
#endif

/// A failed system call: what was being done, to which path, and errno's text.
public struct SystemError: Error, Sendable, CustomStringConvertible {
    public var operation: String
    public var path: String
    public var code: Int32

    public init(_ operation: String, _ path: String, code: Int32? = nil) {
        self.operation = operation
        self.path = path
        self.code = code ?? errno
    }

    public var description: String { "\(operation) \(path): \(String(cString: strerror(code)))" }
}
