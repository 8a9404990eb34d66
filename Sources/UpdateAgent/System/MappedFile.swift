#if canImport(Glibc)
import Glibc
#endif

/// A file's bytes through a read-only, private mapping for the length of one closure: what needs
/// a whole file in memory at once (pure Ed25519) reads it from the page cache without copying it
/// into the heap.
enum MappedFile {
    static func withBytes<Result>(_ path: String, _ body: (UnsafeRawBufferPointer) throws -> Result) throws -> Result {
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)
        guard fd >= 0 else { throw SystemError("cannot open", path) }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw SystemError("cannot stat", path) }
        let size = Int(info.st_size)
        // mmap refuses a length of 0: an empty file is an empty buffer.
        guard size > 0 else { return try body(UnsafeRawBufferPointer(start: nil, count: 0)) }
        guard let base = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0), base != MAP_FAILED else {
            throw SystemError("cannot map", path)
        }
        defer { munmap(base, size) }
        _ = madvise(base, size, MADV_SEQUENTIAL)
        return try body(UnsafeRawBufferPointer(start: base, count: size))
    }
}
