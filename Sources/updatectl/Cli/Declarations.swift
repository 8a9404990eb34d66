/// updatectl's command line, declared where it is used: a command is a struct whose properties
/// are `@Option`, `@Flag`, `@Argument` and `@Group`; `CommandLineParser` finds them by
/// reflection (the property name, in kebab case, is the option's name), fills them from argv,
/// and writes the help, the man page and the shell completions from the same declarations.

/// A value an option or argument takes from the command line.
protocol ArgumentValue {
    init?(argument: String)
    /// The accepted values, when they are a fixed set (listed in help and completions).
    static var choices: [String] { get }
}

extension ArgumentValue {
    static var choices: [String] { [] }
}

extension String: ArgumentValue {
    init?(argument: String) { self = argument }
}

extension Int: ArgumentValue {
    init?(argument: String) { self.init(argument, radix: 10) }
}

extension ArgumentValue where Self: RawRepresentable & CaseIterable, RawValue == String {
    init?(argument: String) { self.init(rawValue: argument) }
    static var choices: [String] { allCases.map(\.rawValue) }
}

/// Where the parser puts what the command line gave a declaration (shared by copies of the
/// command, which are structs).
final class ArgumentSlot {
    var values: [String] = []
    var seen = false
}

/// One option, flag or positional argument, as the parser and the help see it.
struct ArgumentDefinition {
    enum Kind { case option, flag, positional }

    var kind: Kind
    /// The long name without dashes, or the positional's name.
    var name: String
    var help: String
    /// Repeatable option, or a positional that takes the rest.
    var isList = false
    /// Must be given (a positional without a default).
    var isRequired = false
    var choices: [String] = []
    var defaultText: String?
    var accepts: (String) -> Bool = { _ in true }
    var slot: ArgumentSlot

    var usage: String {
        switch kind {
        case .flag: "--\(name)"
        case .option: "--\(name) <\(name)>"
        case .positional: isList ? "<\(name)> ..." : "<\(name)>"
        }
    }
}

/// A property the parser fills.
protocol ArgumentDeclaration {
    /// The definitions it contributes, its property being `property` (camel case).
    func definitions(property: String) -> [ArgumentDefinition]
}

/// Options shared by several commands (`@Group var flags: PolicyFlags`).
protocol ArgumentGroup {
    init()
    /// Called after parsing: throws `UsageError` for a combination that makes no sense.
    func validate() throws
}

extension ArgumentGroup {
    func validate() throws {}
}

/// A usage mistake: exit 2 with the message and the command's usage.
struct UsageError: Error, CustomStringConvertible {
    var message: String
    init(_ message: String) { self.message = message }
    var description: String { message }
}

/// Stop with this exit status (what was to say is said).
struct CommandExit: Error {
    var status: Int32
}

@propertyWrapper struct Option<Value>: ArgumentDeclaration {
    fileprivate let slot = ArgumentSlot()
    fileprivate let name: String?
    fileprivate let help: String
    /// nil: the option must be given.
    fileprivate let fallback: Value?
    fileprivate let convert: (String) -> Value?
    fileprivate let choices: [String]
    fileprivate let defaultText: String?

    var wrappedValue: Value { slot.values.last.flatMap(convert) ?? fallback! }

    init<T: ArgumentValue>(name: String? = nil, help: String) where Value == T? {
        self.name = name
        self.help = help
        fallback = .some(nil)
        convert = { T(argument: $0).map { .some($0) } }
        choices = T.choices
        defaultText = nil
    }

    func definitions(property: String) -> [ArgumentDefinition] {
        [ArgumentDefinition(kind: .option, name: name ?? kebab(property), help: help, isRequired: fallback == nil, choices: choices,
                            defaultText: defaultText, accepts: { convert($0) != nil }, slot: slot)]
    }
}

extension Option where Value: ArgumentValue {
    /// An option that must be given.
    init(name: String? = nil, help: String) {
        self.name = name
        self.help = help
        fallback = nil
        convert = { Value(argument: $0) }
        choices = Value.choices
        defaultText = nil
    }

    init(wrappedValue: Value, name: String? = nil, help: String) {
        self.name = name
        self.help = help
        fallback = wrappedValue
        convert = { Value(argument: $0) }
        choices = Value.choices
        defaultText = "\(wrappedValue)"
    }
}

@propertyWrapper struct Flag: ArgumentDeclaration {
    fileprivate let slot = ArgumentSlot()
    fileprivate let name: String?
    fileprivate let help: String

    var wrappedValue: Bool { slot.seen }

    init(wrappedValue: Bool = false, name: String? = nil, help: String) {
        precondition(!wrappedValue, "a flag is off unless given")
        self.name = name
        self.help = help
    }

    func definitions(property: String) -> [ArgumentDefinition] {
        [ArgumentDefinition(kind: .flag, name: name ?? kebab(property), help: help, slot: slot)]
    }
}

@propertyWrapper struct Argument<Value>: ArgumentDeclaration {
    fileprivate let slot = ArgumentSlot()
    fileprivate let help: String
    fileprivate let fallback: Value?
    fileprivate let convert: ([String]) -> Value?
    fileprivate let accepts: (String) -> Bool
    fileprivate let isList: Bool

    var wrappedValue: Value { convert(slot.values) ?? fallback! }

    /// Zero or more values: the rest of the positionals.
    init<T: ArgumentValue>(wrappedValue: [T], help: String) where Value == [T] {
        self.help = help
        fallback = wrappedValue
        convert = { values in values.isEmpty ? nil : values.compactMap { T(argument: $0) } }
        accepts = { T(argument: $0) != nil }
        isList = true
    }

    /// One value that may be left out.
    init<T: ArgumentValue>(help: String) where Value == T? {
        self.help = help
        fallback = .some(nil)
        convert = { values in values.last.flatMap { T(argument: $0) }.map { .some($0) } }
        accepts = { T(argument: $0) != nil }
        isList = false
    }

    func definitions(property: String) -> [ArgumentDefinition] {
        [ArgumentDefinition(kind: .positional, name: kebab(property), help: help, isList: isList, isRequired: fallback == nil,
                            accepts: accepts, slot: slot)]
    }
}

extension Argument where Value: ArgumentValue {
    /// One value that must be given.
    init(help: String) {
        self.help = help
        fallback = nil
        convert = { values in values.last.flatMap { Value(argument: $0) } }
        accepts = { Value(argument: $0) != nil }
        isList = false
    }
}

@propertyWrapper struct Group<Value: ArgumentGroup>: ArgumentDeclaration {
    var wrappedValue: Value

    init() { wrappedValue = Value() }

    func definitions(property: String) -> [ArgumentDefinition] { CommandLineParser.definitions(of: wrappedValue) }
}

/// `maintenanceWindow` → `maintenance-window`.
func kebab(_ name: String) -> String {
    var out = ""
    for character in name {
        if character.isUppercase {
            if !out.isEmpty { out.append("-") }
            out.append(contentsOf: character.lowercased())
        } else {
            out.append(character)
        }
    }
    return out
}
