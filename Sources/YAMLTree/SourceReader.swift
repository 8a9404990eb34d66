#if canImport(Glibc)
internal import Glibc
#elseif canImport(Darwin)
internal import Darwin
#endif

/// Why a source could not be read.
public struct ReadError: Error, Sendable, CustomStringConvertible {
    public var path: String
    public var reason: String
    /// The buffer was larger than the cap.
    public var tooLarge: Bool

    public var description: String { "\(path): \(reason)" }

    public var problem: YAMLProblem {
        YAMLProblem(tooLarge ? .tooLarge : .unreadable, reason, at: .start)
    }
}

/// Reads a whole file (or standard input for `-`) into memory, never more than a cap.
public enum SourceReader {
    public static func read(path: String, maxBytes: Int) throws(ReadError) -> [UInt8] {
        let fd: Int32
        if path == "-" {
            fd = STDIN_FILENO
        } else {
            fd = open(path, O_RDONLY | O_CLOEXEC)
            guard fd >= 0 else { throw ReadError(path: path, reason: errnoText("cannot open"), tooLarge: false) }
        }
        defer { if fd != STDIN_FILENO { close(fd) } }

        var info = stat()
        if fstat(fd, &info) == 0 {
            if (info.st_mode & S_IFMT) == S_IFDIR {
                throw ReadError(path: path, reason: "is a directory, not a file", tooLarge: false)
            }
            if (info.st_mode & S_IFMT) == S_IFREG, Int(info.st_size) > maxBytes {
                throw ReadError(path: path, reason: oversize(Int(info.st_size), maxBytes), tooLarge: true)
            }
        }

        // A regular file is read in one call for its size and one byte more, and then one byte at a
        // time until the end, so its buffer is allocated once; pipes go on in 64 KiB pieces.
        var bytes: [UInt8] = []
        let regular = (info.st_mode & S_IFMT) == S_IFREG && info.st_size > 0
        var chunk = regular ? Int(info.st_size) + 1 : 64 << 10
        while true {
            let before = bytes.count
            let want = min(chunk, maxBytes + 1 - before)
            if want <= 0 { break }
            bytes.reserveCapacity(before + want)
            var got = 0
            bytes.append(contentsOf: repeatElement(0, count: want))
            got = bytes.withUnsafeMutableBufferPointer { buffer in
                Glibc.read(fd, buffer.baseAddress! + before, want)
            }
            if got < 0 {
                if errno == EINTR {
                    bytes.removeLast(want)
                    continue
                }
                throw ReadError(path: path, reason: errnoText("cannot read"), tooLarge: false)
            }
            bytes.removeLast(want - got)
            if got == 0 { break }
            chunk = regular && got < want ? 1 : 64 << 10
        }
        if bytes.count > maxBytes {
            throw ReadError(path: path, reason: oversize(nil, maxBytes), tooLarge: true)
        }
        return bytes
    }

    private static func oversize(_ size: Int?, _ limit: Int) -> String {
        let what = size.map { "the file is \($0) bytes" } ?? "the input is larger than that"
        return "\(what), over the limit of \(limit) bytes (\(limit >> 20) MiB)"
    }

    private static func errnoText(_ what: String) -> String {
        "\(what): \(String(cString: strerror(errno)))"
    }
}
