import UpdatePolicy

/// The operator's command as a check (the `exec` gate and probe): one implementation, one set of
/// limits.
enum CommandCheck {
    /// What standard error a failed command may add to a message.
    static let stderrLimit = 300

    enum Outcome {
        case passed(String)
        /// It ran and did not exit 0 in time.
        case failed(String)
        /// It could not be run at all.
        case unrunnable(String)
    }

    static func run(
        _ template: [String], variables: [String: String], timeout: Duration, runner: any CommandRunner,
        environment: [String: String] = [:]
    ) -> Outcome {
        let argv = template.map { CommandTemplate.substitute($0, variables) }
        let shown = argv.joined(separator: " ")
        do {
            let result = try runner.run(argv, timeout: timeout, environment: environment)
            if result.succeeded { return .passed("\(shown) exited 0") }
            let tail = result.stderr.trimmingSpaces
            let ending = result.timedOut ? "was killed after its \(DurationText.format(timeout)) timeout" : result.ending
            return .failed("\(shown) \(ending)" + (tail.isEmpty ? "" : ": \(tail.suffix(stderrLimit))"))
        } catch {
            return .unrunnable("\(error)")
        }
    }
}

/// A GET as a check (the `http` gate and probe): one implementation, one set of limits.
enum HTTPCheck {
    static let bodyLimit = 1 << 20
    static let redirects = 3

    enum Outcome {
        case passed(String)
        /// It answered another status.
        case failed(String)
        /// No answer: the request failed.
        case unanswered(String)
    }

    static func get(_ url: PolicyURL, status expected: Int, timeout: Duration, transport: any Transport) -> Outcome {
        do {
            let response = try transport.get(
                TransportRequest(
                    url: url.text, maxBytes: bodyLimit, connectTimeout: min(timeout, .seconds(10)), timeout: timeout,
                    maxRedirects: redirects, schemes: ["http", "https"])
            ) { _ in }
            return response.status == expected
                ? .passed("GET \(url.text) answered \(response.status)")
                : .failed("GET \(url.text) answered \(response.status), not \(expected)")
        } catch {
            return .unanswered("GET \(url.text) failed: \(error)")
        }
    }
}
