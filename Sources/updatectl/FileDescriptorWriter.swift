import UpdateAgent

/// Unbuffered writes to standard output or error (the progress bar, error messages).
enum FileDescriptorWriter {
    static func write(_ string: String, to fd: Int32) {
        try? AtomicFile.writeAll(fd, Array(string.utf8), path: fd == 2 ? "standard error" : "standard output")
    }
}
