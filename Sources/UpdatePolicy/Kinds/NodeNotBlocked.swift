/// `node_not_blocked`: the local Kubernetes node does not carry the label that holds updates back.
public struct NodeNotBlockedGate: DecodableGate {
    public var label: Located<String>
    /// The node to look up; nil for the host name.
    public var node: Located<String>?
    /// The kubeconfig; nil for the search (`$KUBECONFIG`, then the defaults).
    public var kubeconfig: Located<String>?
    /// What the gate says when no cluster can be asked: `pass` (upstream's air-gap behaviour,
    /// the default) or `fail` (the run is deferred).
    public var whenUnreachable: Located<String>

    public static let entry = EntryKind.gate(
        "node_not_blocked",
        example:
            "- node_not_blocked: {label: example.com/hold, node: edge-7, kubeconfig: /etc/kubernetes/admin.conf, when_unreachable: fail, timeout: 20s}",
        timeout: "30s",
        "Passes when the local Kubernetes node does not carry `LABEL=true` "
            + "(kubectl). With no kubeconfig or no cluster answering it is skipped and passes, as upstream's agent does, "
            + "and says so; `when_unreachable: fail` defers the run instead. `--force` skips it.",
        [
            Key("label", .string(nil), default: "updates.kubesolo.io/block", "The node label that blocks updates when `true`."),
            Key("node", .string(nil), default: "the host name", "The Kubernetes node to look up."),
            Key(
                "kubeconfig", .path, default: "KUBECONFIG, then /etc/rancher/k3s/k3s.yaml and /var/lib/kubesolo/pki/admin/admin.kubeconfig",
                "The kubeconfig kubectl uses."),
            Key(
                "when_unreachable", .choice(["pass", "fail"]), default: "pass",
                "With no kubeconfig, no kubectl or no cluster answering: `pass` (skipped, as upstream) or `fail` (the run is deferred)."),
        ], type: NodeNotBlockedGate.self)

    init?(_ options: Fields, _ context: inout KindContext) {
        label = options.text("label")
        node = options.optionalText("node")
        kubeconfig = options.optionalText("kubeconfig")
        whenUnreachable = options.text("when_unreachable")
    }

    /// Whether the gate defers the run when no cluster can be asked.
    public var failsWhenUnreachable: Bool { whenUnreachable.value == "fail" }

    public var summary: String {
        "the node does not carry \(label.value)=true (kubectl; no cluster to ask: "
            + (failsWhenUnreachable ? "the run is deferred)" : "skipped, passes)")
    }

    public var parameters: [Parameter] {
        [
            Parameter("label", .text(label.value), label.origin),
            Parameter("node", .text(node?.value ?? "host name"), node?.origin ?? .defaulted),
            Parameter("kubeconfig", .text(kubeconfig?.value ?? "search"), kubeconfig?.origin ?? .defaulted),
            Parameter("when_unreachable", .text(whenUnreachable.value), whenUnreachable.origin),
        ]
    }

    static let defaultOrder: Int? = 2
    static let defaultText = "node_not_blocked: {}"
    public static let skippedByForce = true
    public static let withoutIt: String? = ": the block label no longer holds updates back"
    public static let usesKubernetes = true

    public static let facts = [
        Key("kubernetes", .choice(["absent", "present"]), default: "absent", "Whether kubectl reaches a cluster."),
        Key("node_blocked", .boolean, default: "false", "Whether the node carries the block label (with a cluster)."),
    ]
}
