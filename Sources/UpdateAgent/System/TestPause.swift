#if canImport(Glibc)
import Glibc
#endif

/// Test-only pauses (debug builds): with `UPDATECTL_TEST_PAUSE=<point>` in the environment, the process says
/// `updatectl: paused at <point>` on standard error and stops there until it is killed, so
/// crash tests can SIGKILL it at exactly that point.
public enum TestPause {
    private static let point: String? = TestSwitches.value("PAUSE")

    public static func here(_ name: String) {
        guard let point, point == name else { return }
        let line = "updatectl: paused at \(name)\n"
        _ = line.withCString { write(2, $0, strlen($0)) }
        while true { pause() }
    }
}
