import Foundation
import Testing

/// The node-label gate against the real kubectl and a small fake Kubernetes API on 127.0.0.1.
@Suite(.serialized) struct NodeLabelGateTests {
    static let kubectl = TestComponents.program("kubectl")

    /// A node served at its real size (a k3s Node object of 30–60 KiB, not a 100-byte stub).
    func node(labels: [String: String]?, status: Int = 200, options: String = "") async throws -> (TestServer, TestNode, String) {
        let server = try await TestServer()
        let release = ReleaseFixture()
        try release.publish(server, version: "1.1.0", image: ReleaseFixture.image(2000))
        if let labels {
            let object = KubePayloads.node(name: "edge-1", labels: labels)
            #expect(object.utf8.count >= 30 << 10, "a Node object of real size")
            server.set("/api/v1/nodes/edge-1", json: object, status: status)
        }
        let node = try TestNode()
        let kubeconfig = try node.writeKubeconfig(server: server.base)
        try node.writePolicy(
            server: server.base, publicKey: release.publicKeyText,
            preflight: "    - free_space: {}\n    - node_not_blocked: {node: edge-1, kubeconfig: \(kubeconfig)\(options)}\n")
        return (server, node, kubeconfig)
    }

    @Test(.enabled(if: kubectl != nil))
    func aBlockedNodeDefersTheRun() async throws {
        let (server, node, _) = try await node(labels: ["updates.kubesolo.io/block": "true", "zone": "a"])
        defer { Task { await server.stop() } }
        let result = try await node.apply(environment: TestNode.withKubectl)
        #expect(result.status == 3, "\(result.stdout)\(result.stderr)")
        #expect(result.stdout.contains("node edge-1 carries updates.kubesolo.io/block=true"))
        #expect(server.requests.contains("/api/v1/nodes/edge-1"))
        #expect(try node.state()["deferred_gate"] as? String == "node_not_blocked")
    }

    @Test(.enabled(if: kubectl != nil))
    func anUnblockedNodePasses() async throws {
        let (server, node, _) = try await node(labels: ["updates.kubesolo.io/block": "false"])
        defer { Task { await server.stop() } }
        let result = try await node.apply(environment: TestNode.withKubectl)
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        #expect(result.stdout.contains("node edge-1 does not carry updates.kubesolo.io/block=true"))
    }

    @Test(.enabled(if: kubectl != nil))
    func anUnknownNodeIsAnError() async throws {
        let (server, node, _) = try await node(labels: nil)
        defer { Task { await server.stop() } }
        server.set(
            "/api/v1/nodes/edge-1",
            json: """
                {"kind": "Status", "apiVersion": "v1", "status": "Failure", "message": "nodes \\"edge-1\\" not found", "reason": "NotFound", "code": 404}
                """, status: 404)
        let result = try await node.apply(environment: TestNode.withKubectl)
        #expect(result.status == 1, "\(result.stdout)\(result.stderr)")
        #expect(result.stderr.contains("node edge-1 is not in the cluster"))
    }

    /// RBAC refusing the read is an answer, not an unreachable cluster: the gate errors and names
    /// the status, it does not pass.
    @Test(.enabled(if: kubectl != nil))
    func aForbiddenReadIsAnErrorNotAPass() async throws {
        let (server, node, _) = try await node(labels: nil)
        defer { Task { await server.stop() } }
        server.set(
            "/api/v1/nodes/edge-1",
            json: """
                {"kind": "Status", "apiVersion": "v1", "status": "Failure", "message": "nodes \\"edge-1\\" is forbidden", "reason": "Forbidden", "code": 403}
                """, status: 403)
        let result = try await node.apply(environment: TestNode.withKubectl)
        #expect(result.status == 1, "\(result.stdout)\(result.stderr)")
        #expect(result.stderr.contains("the API server answered 403 for node edge-1"), "\(result.stderr)")
        #expect(!result.stdout.contains("passing, as the upstream agent does"))
    }

    @Test func noKubeconfigPassesAndSaysSo() async throws {
        let (server, node, kubeconfig) = try await node(labels: nil)
        defer { Task { await server.stop() } }
        try FileManager.default.removeItem(atPath: kubeconfig)
        let result = try await node.apply(environment: TestNode.withKubectl)
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        #expect(
            result.stdout.contains("kubectl is installed but no kubeconfig was found")
                || result.stdout.contains("no kubectl and no kubeconfig"))
        #expect(result.stdout.contains("passing, as the upstream agent does"))
        #expect(result.stdout.contains("preflight.node_not_blocked       skip  skipped: "), "\(result.stdout)")
    }

    /// `when_unreachable: fail`: a cluster that does not answer defers the run (exit 3) and the
    /// plan says so beforehand.
    @Test(.enabled(if: kubectl != nil))
    func anUnreachableClusterDefersWhenThePolicySaysFail() async throws {
        let (server, node, kubeconfig) = try await node(labels: nil, options: ", when_unreachable: fail")
        defer { Task { await server.stop() } }
        let text = try String(contentsOfFile: kubeconfig, encoding: .utf8)
        try text.replacingOccurrences(of: server.base, with: "http://127.0.0.1:9").write(
            toFile: kubeconfig, atomically: true, encoding: .utf8)
        let plan = try await CLI.runAsync(["plan", node.policyPath])
        #expect(plan.stdout.contains("no cluster to ask: the run is deferred"), "\(plan.stdout)")
        let result = try await node.apply(environment: TestNode.withKubectl)
        #expect(result.status == 3, "\(result.stdout)\(result.stderr)")
        #expect(result.stdout.contains("cannot tell whether node edge-1 is blocked (when_unreachable: fail)"), "\(result.stdout)")
        #expect(try node.state()["deferred_gate"] as? String == "node_not_blocked")
    }

    @Test(.enabled(if: kubectl != nil))
    func anUnreachableClusterPassesAndSaysSo() async throws {
        let (server, node, kubeconfig) = try await node(labels: nil)
        defer { Task { await server.stop() } }
        let text = try String(contentsOfFile: kubeconfig, encoding: .utf8)
        try text.replacingOccurrences(of: server.base, with: "http://127.0.0.1:9").write(
            toFile: kubeconfig, atomically: true, encoding: .utf8)
        let result = try await node.apply(environment: TestNode.withKubectl)
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        #expect(result.stdout.contains("no cluster reachable through"))
    }
}
