import Foundation

/// API objects shaped like what a k3s / KubeSolo node returns, at their real sizes: a Node with
/// managed fields, annotations and the image list (30–60 KiB), and kube-system pod lists of a
/// few hundred KiB. kubectl prints them pretty, which makes them larger still.
enum KubePayloads {
    static let images = [
        "docker.io/rancher/klipper-helm", "docker.io/rancher/mirrored-coredns-coredns", "docker.io/rancher/local-path-provisioner",
        "docker.io/rancher/mirrored-metrics-server", "docker.io/rancher/mirrored-library-traefik", "docker.io/rancher/klipper-lb",
        "docker.io/rancher/mirrored-pause", "registry.k8s.io/kube-proxy", "quay.io/prometheus/node-exporter",
        "ghcr.io/portainer/kubesolo-agent", "docker.io/library/nginx", "docker.io/library/redis",
    ]

    static func hex(_ seed: Int, _ count: Int) -> String {
        var out = ""
        var value = UInt64(truncatingIfNeeded: seed &* 2_654_435_761 &+ 97)
        while out.count < count {
            value = value &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            out += String(value >> 33, radix: 16)
        }
        return String(out.prefix(count))
    }

    static func uid(_ seed: Int) -> String {
        let h = hex(seed, 32)
        return [h.prefix(8), h.dropFirst(8).prefix(4), h.dropFirst(12).prefix(4), h.dropFirst(16).prefix(4), h.dropFirst(20)]
            .joined(separator: "-")
    }

    /// A managed-fields entry as the API server records it for one field manager.
    static func managedField(_ manager: String, _ operation: String, fields: [String]) -> String {
        let inner = fields.map { "\"f:\($0)\": {}" }.joined(separator: ", ")
        return """
            {"manager": "\(manager)", "operation": "\(operation)", "apiVersion": "v1", "time": "2026-11-20T08:14:03Z", \
            "fieldsType": "FieldsV1", "fieldsV1": {"f:metadata": {"f:annotations": {".": {}, \(inner)}, \
            "f:labels": {".": {}, \(inner)}}, "f:status": {"f:conditions": {"k:{\\"type\\":\\"Ready\\"}": \
            {".": {}, "f:lastHeartbeatTime": {}, "f:lastTransitionTime": {}, "f:message": {}, "f:reason": {}, \
            "f:status": {}, "f:type": {}}}, \(inner)}}}
            """
    }

    static func node(name: String, labels: [String: String]) -> String {
        var allLabels = [
            "beta.kubernetes.io/arch": "amd64", "beta.kubernetes.io/instance-type": "k3s", "beta.kubernetes.io/os": "linux",
            "kubernetes.io/arch": "amd64", "kubernetes.io/hostname": name, "kubernetes.io/os": "linux",
            "node-role.kubernetes.io/control-plane": "true", "node-role.kubernetes.io/master": "true",
            "node.kubernetes.io/instance-type": "k3s",
        ]
        for (key, value) in labels { allLabels[key] = value }
        let labelText = allLabels.sorted { $0.key < $1.key }.map { "\"\($0.key)\": \"\($0.value)\"" }.joined(separator: ", ")
        let annotations = (0..<12).map { "\"k3s.io/annotation-\($0)\": \"\(hex($0, 120))\"" }.joined(separator: ", ")
        let fieldNames = (0..<40).map { "k3s.io/field-\($0)" }
        let managed = ["k3s", "kubelet", "kube-controller-manager", "flannel", "k3s-supervisor", "kubectl-label"].enumerated()
            .map { managedField($1, $0 % 2 == 0 ? "Update" : "Apply", fields: fieldNames) }.joined(separator: ", ")
        let imageList = (0..<60).map { index in
            let repo = images[index % images.count]
            return "{\"names\": [\"\(repo)@sha256:\(hex(index, 64))\", \"\(repo):v1.\(index).\(index % 7)\"], "
                + "\"sizeBytes\": \(10_000_000 + index * 731_337)}"
        }.joined(separator: ", ")
        let conditions = ["MemoryPressure", "DiskPressure", "PIDPressure", "Ready"].map { type in
            "{\"type\": \"\(type)\", \"status\": \"\(type == "Ready" ? "True" : "False")\", "
                + "\"lastHeartbeatTime\": \"2026-11-26T02:58:00Z\", \"lastTransitionTime\": \"2026-11-20T08:14:03Z\", "
                + "\"reason\": \"Kubelet\(type)\", \"message\": \"kubelet reports \(type) as expected\"}"
        }.joined(separator: ", ")
        return """
            {"kind": "Node", "apiVersion": "v1", "metadata": {"name": "\(name)", "uid": "\(uid(7))", \
            "resourceVersion": "918273", "creationTimestamp": "2026-11-20T08:14:03Z", "labels": {\(labelText)}, \
            "annotations": {\(annotations)}, "finalizers": ["wrangler.cattle.io/node"], "managedFields": [\(managed)]}, \
            "spec": {"podCIDR": "10.42.0.0/24", "podCIDRs": ["10.42.0.0/24"], "providerID": "k3s://\(name)"}, \
            "status": {"capacity": {"cpu": "4", "ephemeral-storage": "61202244Ki", "memory": "8029256Ki", "pods": "110"}, \
            "allocatable": {"cpu": "4", "ephemeral-storage": "59536352931", "memory": "8029256Ki", "pods": "110"}, \
            "conditions": [\(conditions)], "addresses": [{"type": "InternalIP", "address": "10.0.0.17"}, \
            {"type": "Hostname", "address": "\(name)"}], "daemonEndpoints": {"kubeletEndpoint": {"Port": 10250}}, \
            "nodeInfo": {"machineID": "\(hex(1, 32))", "systemUUID": "\(uid(2))", "bootID": "\(uid(3))", \
            "kernelVersion": "6.6.58", "osImage": "KubeSolo OS v0.3.1", "containerRuntimeVersion": "containerd://1.7.22-k3s1", \
            "kubeletVersion": "v1.31.2+k3s1", "kubeProxyVersion": "v1.31.2+k3s1", "operatingSystem": "linux", \
            "architecture": "amd64"}, "images": [\(imageList)]}}
            """
    }

    /// One kube-system pod: `started` is when its containers last started (nil: not running).
    static func pod(_ index: Int, name: String, phase: String, started: String?) -> String {
        let image = images[index % images.count]
        let containers = (0..<2).map { container in
            """
            {"name": "c\(container)", "image": "\(image):v1.\(index)", "args": ["--v=2", "--secure-port=10\(container)50", \
            "--kubelet-preferred-address-types=InternalIP", "--metric-resolution=15s"], \
            "ports": [{"name": "https", "containerPort": 10\(container)50, "protocol": "TCP"}], \
            "resources": {"requests": {"cpu": "100m", "memory": "70Mi"}, "limits": {"memory": "170Mi"}}, \
            "volumeMounts": [{"name": "config-volume", "readOnly": true, "mountPath": "/etc/coredns"}, \
            {"name": "kube-api-access-\(hex(index * 10 + container, 5))", "readOnly": true, \
            "mountPath": "/var/run/secrets/kubernetes.io/serviceaccount"}], \
            "livenessProbe": {"httpGet": {"path": "/health", "port": 8080, "scheme": "HTTP"}, "initialDelaySeconds": 60, \
            "timeoutSeconds": 1, "periodSeconds": 10, "successThreshold": 1, "failureThreshold": 3}, \
            "readinessProbe": {"httpGet": {"path": "/ready", "port": 8181, "scheme": "HTTP"}, "timeoutSeconds": 1, \
            "periodSeconds": 2, "successThreshold": 1, "failureThreshold": 3}, "terminationMessagePath": "/dev/termination-log", \
            "terminationMessagePolicy": "File", "imagePullPolicy": "IfNotPresent", "securityContext": \
            {"capabilities": {"add": ["NET_BIND_SERVICE"], "drop": ["all"]}, "readOnlyRootFilesystem": true, \
            "allowPrivilegeEscalation": false}}
            """
        }.joined(separator: ", ")
        let statuses = (0..<2).map { container in
            let state =
                started.map { "{\"running\": {\"startedAt\": \"\($0)\"}}" }
                ?? "{\"waiting\": {\"reason\": \"ContainerCreating\"}}"
            return """
                {"name": "c\(container)", "state": \(state), "lastState": {}, "ready": \(started != nil), "restartCount": 0, \
                "image": "\(image):v1.\(index)", "imageID": "\(image)@sha256:\(hex(index + container, 64))", \
                "containerID": "containerd://\(hex(index * 3 + container, 64))", "started": \(started != nil)}
                """
        }.joined(separator: ", ")
        let fields = (0..<30).map { "spec-field-\($0)" }
        return """
            {"metadata": {"name": "\(name)", "generateName": "\(name.prefix(8))-", "namespace": "kube-system", \
            "uid": "\(uid(index + 100))", "resourceVersion": "\(4000 + index)", "creationTimestamp": "2026-11-20T08:14:30Z", \
            "labels": {"k8s-app": "\(name.prefix(8))", "pod-template-hash": "\(hex(index, 10))"}, \
            "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "\(name.prefix(8))-\(hex(index, 10))", \
            "uid": "\(uid(index + 200))", "controller": true, "blockOwnerDeletion": true}], \
            "managedFields": [\(managedField("k3s", "Update", fields: fields)), \(managedField("kubelet", "Update", fields: fields))]}, \
            "spec": {"volumes": [{"name": "config-volume", "configMap": {"name": "coredns", "defaultMode": 420}}], \
            "containers": [\(containers)], "restartPolicy": "Always", "terminationGracePeriodSeconds": 30, \
            "dnsPolicy": "Default", "serviceAccountName": "coredns", "nodeName": "edge-1", "priorityClassName": \
            "system-cluster-critical", "tolerations": [{"key": "CriticalAddonsOnly", "operator": "Exists"}, \
            {"key": "node-role.kubernetes.io/control-plane", "operator": "Exists", "effect": "NoSchedule"}]}, \
            "status": {"phase": "\(phase)", "conditions": [{"type": "Ready", "status": "\(started == nil ? "False" : "True")", \
            "lastProbeTime": null, "lastTransitionTime": "2026-11-20T08:15:02Z"}], "hostIP": "10.0.0.17", \
            "podIP": "10.42.0.\(index + 2)", "podIPs": [{"ip": "10.42.0.\(index + 2)"}], "startTime": "2026-11-20T08:14:30Z", \
            "containerStatuses": [\(statuses)], "qosClass": "Burstable"}}
            """
    }

    /// `count` pods; `special` overrides the phase and start of some of them by index.
    static func podList(count: Int, started: String, special: [Int: (phase: String, started: String?)] = [:]) -> String {
        let pods = (0..<count).map { index in
            let override = special[index]
            return pod(
                index, name: "kube-pod-\(index)-\(hex(index, 5))", phase: override?.phase ?? "Running",
                started: override.map { $0.started } ?? started)
        }
        return "{\"kind\": \"PodList\", \"apiVersion\": \"v1\", \"metadata\": {\"resourceVersion\": \"918300\"}, \"items\": ["
            + pods.joined(separator: ", ") + "]}"
    }
}
