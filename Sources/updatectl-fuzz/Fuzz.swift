import FuzzHarness

#if canImport(Glibc)
import Glibc
#endif

/// Which harness runs: `UPDATECTL_FUZZ_TARGET=json` the JSON readers, else the policy pipeline.
let fuzzTarget: @Sendable ([UInt8]) -> Int = {
    guard let name = getenv("UPDATECTL_FUZZ_TARGET"), String(cString: name) == "json" else { return FuzzHarness.run }
    return FuzzHarness.runJSON
}()

/// The libFuzzer entry point (built with `-sanitize=fuzzer,address -D FUZZING`, see scripts/fuzz.sh).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOne(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    // Copies the bytes: the harness never reads past `size` and never needs a NUL terminator.
    let bytes = data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? []
    _ = fuzzTarget(bytes)
    return 0
}

#if FUZZING
/// libFuzzer's driver, for when the package manager names the executable's entry point itself.
// swift-format-ignore: AlwaysUseLowerCamelCase
// The C function's own name.
@_silgen_name("LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(
    _ argc: UnsafeMutablePointer<Int32>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
    _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> Int32
) -> Int32

@_cdecl("updatectl_fuzz_main")
public func fuzzMain(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    var count = argc
    var arguments = argv
    return LLVMFuzzerRunDriver(&count, &arguments) { data, size in fuzzOne(data, size) }
}
#else
/// Without libFuzzer: replays the files it is given through the harness (`UPDATECTL_FUZZ_TARGET`).
@main
struct Replay {
    static func main() {
        for path in CommandLine.arguments.dropFirst() {
            guard let file = fopen(path, "rb") else { continue }
            var bytes: [UInt8] = []
            var chunk = [UInt8](repeating: 0, count: 65536)
            while true {
                let count = fread(&chunk, 1, chunk.count, file)
                if count == 0 { break }
                bytes += chunk[0..<count]
            }
            fclose(file)
            print("\(path): \(fuzzTarget(bytes))")
        }
    }
}
#endif
