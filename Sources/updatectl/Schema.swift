import ArgumentParser
import JSONValue
import UpdatePolicy

struct Schema: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "schema",
        abstract: "Print the policy's JSON Schema (draft 2020-12) for editors and other tools.",
        discussion: """
            For yaml-language-server, save it and add a modeline to the policy:
              # yaml-language-server: $schema=./updatectl-policy.schema.json
            The schema checks shapes and types; `updatectl lint` checks everything the schema \
            cannot (YAML 1.1 pitfalls, cross-field rules, time zones).
            """
    )

    func run() throws {
        print(JSONSchemaExport.schema().render())
    }
}
