public import JSONValue
import UpdatePolicy
import YAMLTree

/// The plan for tools: a documented, versioned shape (docs/plan.md).
public enum PlanJSON {
    public static let version = 1

    public static func render(_ plan: Plan, resume: Plan.Resume? = nil) -> JSON {
        var pairs: [(String, JSON)] = [
            ("plan_version", .int(version)),
            ("policy", .string(plan.policyFile)),
            ("server", .optional(plan.server?.value.text)),
            ("channel", .string(plan.channel.value)),
            ("metadata_url", .optional(plan.server == nil ? nil : plan.metadataURL)),
            ("registry", .optional(plan.registry?.value.description)),
            ("tag", .optional(plan.registry == nil ? nil : plan.tag.value)),
            ("layout", .string(plan.layout.value.rawValue)),
            ("activation", .string(plan.activation.value.rawValue)),
            ("backend", .string(plan.backend.type)),
            ("signature", .bool(plan.publicKey != nil)),
            ("reboot", .string(plan.reboot.value.rawValue)),
            ("auto_rollback_after", .int(plan.autoRollbackAfter.value)),
            (
                "agent",
                .object([
                    ("check_every_seconds", .int(Int(plan.agent.checkEvery.value.components.seconds))),
                    ("jitter_seconds", .int(Int(plan.agent.jitter.value.components.seconds))),
                    ("maintenance_windows", .array(plan.windows.map { .string($0) })),
                    ("verify_retry_every_seconds", .int(Int(plan.retryEvery.value.components.seconds))),
                    ("rollback_within_seconds", plan.rollbackWithin.map { .int(Int($0.components.seconds)) } ?? .null),
                ])
            ),
            ("steps", .array(plan.steps.enumerated().map { index, step in self.step(step, index: index, plan: plan) })),
            ("on_failure", .array(PlanText.onFailure(plan).map { .string($0) })),
        ]
        if let resume {
            pairs.append(
                (
                    "resume",
                    .object([
                        ("index", .int(resume.index + 1)),
                        ("step", .string(plan.steps.indices.contains(resume.index) ? plan.steps[resume.index].id : "")),
                        ("phase", .string(resume.phase.rawValue)),
                        ("reason", .string(resume.reason)),
                    ])
                ))
        } else {
            pairs.append(("resume", .null))
        }
        return .object(pairs)
    }

    static func origin(_ origin: Origin, file: String) -> JSON {
        switch origin {
        case .file(let path, let mark):
            return .object([("file", .string(path)), ("line", .int(mark.line)), ("column", .int(mark.column))])
        case .flag(let name):
            return .object([("flag", .string(name))])
        default:
            break
        }
        guard let mark = origin.mark else { return .string("default") }
        return .object([("file", .string(file)), ("line", .int(mark.line)), ("column", .int(mark.column))])
    }

    static func value(_ value: PlanValue) -> JSON {
        switch value {
        case .text(let text): .string(text)
        case .integer(let number): .int(number)
        case .duration: .string(value.display)
        case .percentage(let number): .double(number)
        case .boolean(let flag): .bool(flag)
        case .list(let items): .array(items.map { .string($0) })
        case .time(let time): .string(time.description)
        }
    }

    static func step(_ step: Step, index: Int, plan: Plan) -> JSON {
        var pairs: [(String, JSON)] = [
            ("index", .int(index + 1)),
            ("id", .string(step.id)),
            ("kind", .string(step.kind.rawValue)),
            ("phase", .string(step.phase.rawValue)),
            ("part", .string(step.part.rawValue)),
            ("summary", .string(step.summary)),
            ("default", .bool(step.origin.isDefault)),
            ("origin", origin(step.origin, file: plan.policyFile)),
        ]
        if let note = step.originNote { pairs.append(("shorthand", .string(note))) }
        pairs.append(
            (
                "parameters",
                .array(
                    step.parameters.map { parameter in
                        .object([
                            ("name", .string(parameter.name)),
                            ("value", value(parameter.value)),
                            ("default", .bool(parameter.origin.isDefault)),
                            ("origin", origin(parameter.origin, file: plan.policyFile)),
                        ])
                    })
            ))
        return .object(pairs)
    }
}
