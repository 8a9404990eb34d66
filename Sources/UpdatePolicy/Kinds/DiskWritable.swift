/// `disk_writable`: a small file can be written, synced, read back and removed. One on
/// `data_dir` always runs.
public struct DiskWritableProbe: DecodableProbe {
    public var path: Located<String>

    public static let entry = EntryKind.probe(
        "disk_writable", example: #"- disk_writable: {name: scratch, path: /var/scratch}"#, timeout: "10s",
        "Passes when a small file under `path` can be written, fsynced, read back and removed. One on `data_dir` always "
            + "runs.",
        [
            Key("path", .path, default: "data_dir", "The directory to write in.")
        ], type: DiskWritableProbe.self)

    init?(_ options: Fields, _ context: inout KindContext) {
        path = options.optionalText("path") ?? Located(context.dataDir.value, .defaulted)
    }

    init(path: Located<String>) { self.path = path }

    public var summary: String { "write, fsync, read back and remove a file under \(path.value)" }
    public var parameters: [Parameter] { [Parameter("path", .text(path.value), path.origin)] }

    static let implicitOrder = 3

    /// The always-on probe on data_dir, unless one on that path is listed.
    static func implicit(_ listed: [Probe], _ context: inout KindContext) -> [Probe] {
        let dataDir = context.dataDir.value
        guard !listed.entries(of: DiskWritableProbe.self).contains(where: { $0.kind.path.value == dataDir }) else { return [] }
        let defaults = Fields(mapping: DecodedMapping(node: context.updates.mapping.node), table: entry.table)
        return [
            Probe(
                name: Located(context.names.derive(entry.name), .defaulted),
                kind: DiskWritableProbe(path: Located(dataDir, .defaulted)), timeout: defaults.duration("timeout"),
                source: .defaulted)
        ]
    }
}
