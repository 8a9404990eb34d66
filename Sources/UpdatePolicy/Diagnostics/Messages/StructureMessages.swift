import YAMLTree

/// The messages of the structure rules (UPD2xx) and of a file without a policy (UPD101…).
extension Message {
    // MARK: missing-updates

    static func topLevelNotMapping(_ found: String) -> Message {
        Message(
            .missingUpdates, "the top level is \(found), not a mapping with an `updates:` key",
            help: "write the policy under a top-level `updates:` key")
    }

    /// `near`: a top-level key that looks like a misspelt `updates`; `policyKeysAtTop`: keys of
    /// the policy were written at the top level instead.
    static func noUpdates(near: String?, policyKeysAtTop: Bool) -> Message {
        let help =
            if let near {
                "did you mean `updates` instead of `\(near)`?"
            } else if policyKeysAtTop {
                "policy keys were found at the top level: indent them under `updates:`"
            } else {
                "write the policy under a top-level `updates:` key; other top-level keys are ignored"
            }
        return Message(.missingUpdates, "the file has no top-level `updates:` mapping", help: help)
    }

    static func updatesNotMapping(_ found: String) -> Message {
        Message(
            .missingUpdates, "`updates` must be a mapping of policy settings, found \(found)",
            help: "indent the policy's keys under `updates:`")
    }

    // MARK: multiple-documents

    static let secondDocument = Message(.multipleDocuments, "a second YAML document starts here; a policy file holds exactly one")

    // MARK: missing-server

    static let noServer = Message(
        .missingServer, "the policy has no `server` (and no `registry`), so `apply` has nowhere to look for updates",
        help: "add `server: https://…` (or `file:///…` for air-gapped nodes, or `registry: host/path`) under `updates:`")

    // MARK: unknown-key

    /// `guess`: the closest key of the table; `gateName`, `healthcheckKey`: what the key is
    /// elsewhere when it is not misspelt; `keys`: the table's keys otherwise.
    static func unknownKey(
        _ name: String, in place: String, guess: String?, isGate: Bool, isHealthcheckKey: Bool,
        keys: [String]
    ) -> Message {
        let help =
            if let guess {
                "did you mean `\(guess)`?"
            } else if isGate {
                "`\(name)` is a gate: list it under `preflight:` as `- \(name): {…}`"
            } else if isHealthcheckKey {
                "`\(name)` belongs under `healthcheck:`"
            } else {
                "the keys of \(place) are: " + keys.map { "`\($0)`" }.joined(separator: ", ")
            }
        return Message(.unknownKey, "unknown key `\(name)` in \(place)", help: help, fix: .closest(guess, to: name, in: keys))
    }

    static func optionOfOtherVariant(_ key: String, variant: String, not tag: String) -> Message {
        Message(
            .unknownKey, "`\(key)` is an option of the \(variant) backend, not the \(tag) backend",
            help: "set `type: \(variant)` or remove `\(key)`")
    }

    // MARK: wrong-type

    static func wrongType(expected: String, found: String, help: String? = nil, fix: FixProposal? = nil) -> Message {
        Message(.wrongType, "expected \(expected), found \(found)", help: help, fix: fix)
    }

    static func keyNotAName(_ found: String) -> Message {
        Message(.wrongType, "expected a key name, found \(found)")
    }

    static func mergeKeyNotMapping(_ found: String) -> Message {
        Message(
            .wrongType,
            "a merge key `<<` takes a mapping or a list of mappings (usually aliases such as `*defaults`), "
                + "found \(found)")
    }

    /// A command written as one string.
    static func commandNotList(found: String, words: [String]?) -> Message {
        wrongType(
            expected: "a command as a list (argv)", found: found,
            help: words.map {
                "commands run without a shell: write `[\($0.joined(separator: ", "))]`"
            } ?? "commands run without a shell: write each argument as a list item",
            fix: words.flatMap { words in
                // Only words no shell would have read otherwise: no quotes, variables or operators.
                words.allSatisfy { !$0.contains(where: { "'\"\\$|&;<>()*?~`#{}[],".contains($0) }) }
                    ? .yaml("[" + words.map(YAMLText.flowItem).joined(separator: ", ") + "]", "write the command as a list") : nil
            })
    }

    // MARK: missing-option

    static func missingOption(_ key: String, summary: String, in place: String) -> Message {
        Message(.missingOption, "\(place) needs `\(key)`: \(summary.lowercasedFirst)", help: "add `\(key): …` to \(place)")
    }

    // MARK: bad-entry

    /// `named`: the item is the bare name of a kind of the family.
    static func entryNotMapping(_ noun: String, found: String, named: String?, firstKind: String) -> Message {
        Message(
            .badEntry, "a \(noun) is a one-key mapping `- KIND: {options}`, found \(found)",
            help: named.map { "write `- \($0): {}`" } ?? "write e.g. `- \(firstKind): {}`",
            fix: named.map { .yaml("\($0): {}", "write `- \($0): {}`") })
    }

    static func unknownKind(_ name: String, family: EntryFamily) -> Message {
        let names = family.kinds.map(\.name)
        let guess = family.otherKinds.contains(name) ? nil : Suggestions.closest(to: name, in: names)
        let help =
            if family.otherKinds.contains(name) {
                "`\(name)` is a \(family.otherNoun), not a \(family.noun): move it under `\(family.otherPlace)`"
            } else if let guess {
                "did you mean `\(guess)`?"
            } else {
                "\(family.noun)s are: " + family.kinds.map { "`\($0.name)`" }.joined(separator: ", ")
            }
        return Message(.badEntry, "unknown \(family.noun) kind `\(name)`", help: help, fix: .closest(guess, to: name, in: names))
    }

    /// `options`: the extra keys that are options of the kind (indented wrongly).
    static func entryWithExtraKeys(_ noun: String, kind: String, extra: [String], options: [String]) -> Message {
        Message(
            .badEntry, "a \(noun) entry has one key, its kind; this one also has " + extra.map { "`\($0)`" }.joined(separator: ", "),
            help: options.isEmpty
                ? "start a new list item with `- ` for another \(noun)"
                : "indent \(options.map { "`\($0)`" }.joined(separator: ", ")) under `\(kind):` to make it an option of the \(noun)")
    }

    // MARK: shorthand-conflict

    /// A key and the one it stands in for, both given (`pubkey` and `public_key`, `registry` and `server`).
    static func twoOfOne(_ written: String, _ other: String) -> Message {
        Message(
            .shorthandConflict, "`\(written)` and `\(other)` are both given, but only one of them can count",
            help: "keep one of them")
    }

    // MARK: duplicate-name

    static func duplicateName(_ name: String, noun: String) -> Message {
        Message(.duplicateName, "two \(noun)s are named `\(name)`", help: "give each \(noun) a distinct `name:`")
    }

    static func otherOfName(_ name: String, noun: String) -> String { "the other \(noun) named `\(name)`" }

    // MARK: scenarios

    static let noScenario = Message(
        .missingUpdates, "the file has no top-level `scenario:` mapping",
        help: "write the scenario under a top-level `scenario:` key")

    /// A gate or probe name a scenario scripts that `policy` has no step for.
    static func unknownScenarioName(
        _ name: String, noun: String, policy: String, guess: String?, turnedOff: Bool, names: [String]
    ) -> Message {
        let help =
            if let guess {
                "did you mean `\(guess)`?"
            } else if turnedOff {
                "the policy turns the `\(name)` \(noun) off"
            } else if names.isEmpty {
                "the policy has no \(noun)s"
            } else {
                "the policy's \(noun)s are: " + names.map { "`\($0)`" }.joined(separator: ", ")
            }
        return Message(
            .unknownKey, "\(policy) has no \(noun) named `\(name)`, so what the scenario scripts for it is never asked for",
            help: help)
    }

    static func tooManyProbeOutcomes(limit: Int) -> Message {
        Message(
            .outOfRange, "the scenario scripts more than \(limit) probe outcomes in all",
            help: "script fewer rounds; an outcome past the last one repeats the last")
    }

    // MARK: update.conf

    static func confLineWithoutValue(_ line: String) -> Message {
        Message(
            .confSyntax, "`\(line)` is not a `key=value` line",
            help: "update.conf holds `key=value` lines, `#` comments and blank lines")
    }

    /// KubeSolo OS ignores keys it does not know, and so does updatectl: a warning, not an error.
    static func unknownConfKey(_ key: String, guess: String?, keys: [String]) -> Message {
        Message(
            .unknownKey, "unknown key `\(key)` in update.conf; it is ignored",
            help: guess.map { "did you mean `\($0)`?" } ?? "the keys are: " + keys.map { "`\($0)`" }.joined(separator: ", "),
            // Unsafe: the misspelt key is ignored, so the fix turns a setting on.
            fix: guess.map { .value($0, .unsafe) })
    }

    static func confKeyTwice(_ key: String) -> Message {
        Message(
            .duplicateKey, "`\(key)` is given twice in update.conf; the last one counts",
            help: "remove one of them")
    }
}
