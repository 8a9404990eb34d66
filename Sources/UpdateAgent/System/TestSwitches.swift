#if canImport(Glibc)
import Glibc
#endif

/// The `UPDATECTL_TEST_*` environment switches that let end-to-end tests fix the clock, pause at
/// a crash point, choose the machine id or move the system paths. They exist in debug builds
/// only: a release build (`swift build -c release`, what ships) never reads them, so nothing in a
/// node's environment can bypass metadata expiry or a maintenance window.
public enum TestSwitches {
    /// Whether this build reads the switches at all.
    #if DEBUG
    public static let enabled = true
    #else
    public static let enabled = false
    #endif

    /// `UPDATECTL_TEST_<name>`, in a debug build.
    public static func value(_ name: String) -> String? {
        guard enabled else { return nil }
        return getenv("UPDATECTL_TEST_" + name).map { String(cString: $0) }
    }
}
