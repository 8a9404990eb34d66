import UpdateAgent
import UpdatePolicy

#if canImport(Glibc)
import Glibc
#endif

/// Where a policy comes from when the command line names none.
///
/// The search order: `$UPDATECTL_POLICY`, then `/etc/updatectl/policy.yaml`, then cloud-init's
/// instance user-data (`/var/lib/cloud/instance/user-data.txt`), whose `updates:` section is the
/// policy. The first file that exists is used. KubeSolo OS's `/etc/kubesolo/update.conf` is read
/// besides (under the YAML policy), and alone when there is no YAML policy.
enum PolicyLocator {
    static let candidates = ["/etc/updatectl/policy.yaml", "/var/lib/cloud/instance/user-data.txt"]

    struct NotFound: Error, CustomStringConvertible {
        var looked: [String]
        var description: String {
            "no policy was given and none was found (looked at " + looked.joined(separator: ", ")
                + "); name one: updatectl COMMAND POLICY"
        }
    }

    /// The paths searched, in order. `UPDATECTL_TEST_ROOT` prefixes the system paths, for tests
    /// (debug builds).
    static var searchPath: [String] {
        let root = TestSwitches.value("ROOT") ?? ""
        return [Environment.get("UPDATECTL_POLICY")].compactMap { $0 } + candidates.map { root + $0 }
    }

    /// The given path, or the first policy found; `searched` when it was not given. Nil when no
    /// YAML policy is found but `confFound` (KubeSolo OS's update.conf stands alone).
    static func resolve(_ given: String?, confFound: Bool = false) throws -> (path: String?, searched: Bool) {
        if let given { return (given, false) }
        for path in searchPath where access(path, F_OK) == 0 {
            return (path, true)
        }
        if confFound { return (nil, true) }
        printError("error: \(NotFound(looked: searchPath + [(TestSwitches.value("ROOT") ?? "") + UpdateConf.defaultPath]))")
        throw ExitStatus.usage.exitCode
    }
}
