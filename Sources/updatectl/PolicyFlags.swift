import ArgumentParser
import UpdateAgent
import UpdatePolicy

#if canImport(Glibc)
import Glibc
#endif

/// KubeSolo OS agent's flags, which work here as they do there: each sets its policy key above
/// the YAML policy and update.conf (`--conf`, else /etc/kubesolo/update.conf when it exists).
/// Precedence: flags, then the YAML policy, then update.conf, then the defaults.
struct PolicyFlags: ParsableArguments {
    @Option(help: "The update server, over the policy's `server` (KubeSolo OS's --server).")
    var server: String?

    @Option(help: "The channel this node follows.")
    var channel: String?

    @Option(help: "The public key file (64 hex characters, as KubeSolo OS writes it; or base64, or PEM).", completion: .file())
    var pubkey: String?

    @Option(name: .customLong("maintenance-window"), help: "When updates may start, \"HH:MM-HH:MM\" (UTC; empty: always).")
    var maintenanceWindow: String?

    @Option(help: "Pull releases from this OCI repository instead of a server (host/path).")
    var registry: String?

    @Option(help: "The tag to pull from --registry.")
    var tag: String?

    @Option(name: .customLong("healthcheck-url"), help: "A URL that must answer 200 after the reboot.")
    var healthcheckURL: String?

    @Option(name: .customLong("auto-rollback-after"), help: "Failed verification runs in a row that roll back.")
    var autoRollbackAfter: String?

    @Option(name: .customLong("kube-system-settle"), help: "Seconds every kube-system pod must run (0: off).")
    var kubeSystemSettle: String?

    @Option(help: "KubeSolo OS's update.conf (default: \(UpdateConf.defaultPath), when it exists).", completion: .file())
    var conf: String?

    func validate() throws {
        if server != nil, registry != nil {
            throw ValidationError("--server and --registry exclude each other: releases come from one place.")
        }
    }

    /// The flags given, by policy key.
    var values: [(key: String, text: String)] {
        [
            ("server", server), ("channel", channel), ("pubkey", pubkey), ("maintenance_window", maintenanceWindow),
            ("registry", registry), ("tag", tag), ("healthcheck_url", healthcheckURL), ("auto_rollback_after", autoRollbackAfter),
            ("kube_system_settle", kubeSystemSettle),
        ].compactMap { key, value in value.map { (key, $0) } }
    }

    /// Whether these flags make a policy without any file: update.conf, or a server or registry
    /// given on the command line.
    var standAlone: Bool { confPath != nil || server != nil || registry != nil }

    /// update.conf: `--conf` (which must exist), else the default path when it exists.
    var confPath: String? {
        if let conf { return conf }
        let path = (TestSwitches.value("ROOT") ?? "") + UpdateConf.defaultPath
        return access(path, F_OK) == 0 ? path : nil
    }
}
