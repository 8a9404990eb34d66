#if canImport(Glibc)
import Glibc
#endif

/// The benchmark corpus: realistic cloud-init user-data files, one huge policy, one tiny one.
enum Corpus {
    static let tiny = """
        updates:
          server: https://updates.example.com/kubesolo
          public_key: ed25519:Hn1+J4gUuOPxSNmoJfiFmdZ3Rvb4vnwYrH7s+dqvFiU=
          auto_rollback_after: 3

        """

    /// A cloud-init user-data file whose `updates:` section grows with `size` (0…).
    static func userData(_ index: Int) -> String {
        let size = index % 12
        var text = """
            #cloud-config
            hostname: edge-\(index)
            timezone: Europe/Berlin
            ssh_authorized_keys:
              - ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIEXAMPLE\(index) ops@example.com
            write_files:
              - path: /etc/kubesolo/node-\(index).conf
                permissions: "0644"
                content: |
                  node-name = edge-\(index)
                  region = eu-central
                  labels = zone=\(index % 7),rack=\(index % 31)
            packages: [curl, jq, chrony]
            runcmd:
              - [systemctl, enable, --now, chrony]

            updates:
              server: https://updates.example.com/kubesolo
              channel: stable
              public_key: ed25519:Hn1+J4gUuOPxSNmoJfiFmdZ3Rvb4vnwYrH7s+dqvFiU=
              preflight:
                - free_space: {headroom: 10%}
                - node_not_blocked: {}
                - no_downgrade: true
                - maintenance_window: {days: [sat, sun], start: "22:00", end: "04:00", timezone: Europe/Berlin}

            """
        if size > 3 { text += "    - rollout: {percent: \(10 + index % 80), salt: wave-\(index % 5)}\n" }
        text += "  healthcheck:\n    timeout: 5m\n    interval: 10s\n    probes:\n"
        for probe in 0..<(1 + size * 2) {
            switch probe % 4 {
            case 0: text += "      - http: {name: http-\(probe), url: \"http://127.0.0.1:\(8000 + probe)/healthz\", timeout: 3s}\n"
            case 1: text += "      - tcp: {name: tcp-\(probe), address: \"127.0.0.1:\(6000 + probe)\"}\n"
            case 2: text += "      - exec: {name: exec-\(probe), command: [/usr/bin/systemctl, is-active, --quiet, unit-\(probe)]}\n"
            default: text += "      - disk_writable: {name: disk-\(probe), path: /var/lib/data-\(probe)}\n"
            }
        }
        text += "  auto_rollback_after: 3\n  reboot: auto\n"
        return text
    }

    /// One policy with `probes` probes (20,000 make about 2.5 MB).
    static func huge(probes: Int) -> String {
        var text = tiny + "  healthcheck:\n    timeout: 30m\n    interval: 30s\n    probes:\n"
        for index in 0..<probes {
            switch index % 4 {
            case 0:
                text +=
                    "      - http:\n          name: service-\(index)-health\n          url: \"http://10.\(index % 250).\((index / 250) % 250).1:8080/healthz/readiness\"\n          status: 200\n          timeout: 5s\n"
            case 1:
                text +=
                    "      - tcp:\n          name: service-\(index)-port\n          address: \"10.\(index % 250).\((index / 250) % 250).2:\(1024 + index % 60000)\"\n          timeout: 2s\n"
            case 2:
                text +=
                    "      - exec:\n          name: service-\(index)-check\n          command: [/usr/local/bin/check-service, --name, \"service-\(index)\", --strict]\n          timeout: 10s\n"
            default:
                text +=
                    "      - disk_writable:\n          name: volume-\(index)-writable\n          path: /var/lib/volumes/volume-\(index)\n          timeout: 3s\n"
            }
        }
        return text
    }

    static func write(_ text: String, to path: String) {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        precondition(fd >= 0, "cannot write \(path)")
        var copy = text
        copy.withUTF8 { buffer in _ = Glibc.write(fd, buffer.baseAddress, buffer.count) }
        close(fd)
    }

    /// Writes the corpus into `directory`: `userdata/0000.yaml`…, `huge.yaml`, `tiny.yaml`.
    static func generate(into directory: String, files: Int = 1000, probes: Int = 20_000) {
        mkdir(directory, 0o755)
        mkdir(directory + "/userdata", 0o755)
        for index in 0..<files {
            let name = String(index).count < 4 ? String(repeating: "0", count: 4 - String(index).count) + String(index) : String(index)
            write(userData(index), to: "\(directory)/userdata/\(name).yaml")
        }
        write(huge(probes: probes), to: directory + "/huge.yaml")
        write(tiny, to: directory + "/tiny.yaml")
    }
}
