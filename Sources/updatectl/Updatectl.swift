import ArgumentParser

@main
struct Updatectl: ParsableCommand {
    static let version = "0.1.0"

    static let configuration = CommandConfiguration(
        commandName: "updatectl",
        abstract: "Declarative, policy-driven A/B updates for Linux nodes.",
        discussion: """
            updatectl reads an update policy (the `updates:` section of a cloud-init user-data \
            file, or a file holding only that), checks it, and drives the node's A/B update \
            state machine through it.
            """,
        version: version,
        subcommands: [Tree.self]
    )
}
