/// A backend, described once (as a kind is): its type name, its keys, how it is decoded, and
/// what the plan says it does for each operation. `Backends.all` lists them; the JSON Schema,
/// the decoder, docs/policy.md and the planner read the description; the agent side
/// (`UpdateAgent/Backends`) makes the runner of each.
public protocol BackendDescription: Sendable {
    /// The `type:` that selects it.
    static var type: String { get }
    /// Its keys.
    static var table: Table { get }
    /// The plan's `backend` row.
    var header: String { get }
    /// Where a release's files are downloaded, in the plan's words.
    var downloadDestination: String { get }
    /// What `operation` (`stage`, `activate`, `commit`, `rollback`, `reboot`) does, for the plan.
    func summary(of operation: String) -> String
    /// Where that behaviour is written in the policy.
    func origin(of operation: String) -> Origin
    /// The operation's parameters in the plan (after the `backend` one).
    func parameters(of operation: String) -> [Parameter]
}

/// A backend the decoder can build from its fields.
protocol BackendDecoding: BackendDescription {
    static func decode(_ fields: Fields) -> Backend
}

public enum Backends {
    /// Every backend, in the order the docs list them.
    static let all: [any BackendDecoding.Type] = [DirectoryBackendConfig.self, CommandBackend.self, KubeSoloBackend.self]

    static func named(_ type: String) -> (any BackendDecoding.Type)? { all.first { $0.type == type } }
}

extension Backend {
    /// The description of the backend the policy chose.
    public var described: any BackendDescription {
        switch self {
        case .directory(let root, let initialVersion): DirectoryBackendConfig(root: root, initialVersion: initialVersion)
        case .command(let backend): backend
        case .kubesolo(let backend): backend
        }
    }
}
