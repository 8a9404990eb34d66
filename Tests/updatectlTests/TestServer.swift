import FlyingFox
import FlyingSocks
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A real HTTP server on 127.0.0.1 with a free port, whose answers the test sets and changes.
final class TestServer: @unchecked Sendable {
    struct Answer: Sendable {
        var status: Int = 200
        var body: Data = Data()
        var headers: [String: String] = [:]
    }

    private let server: HTTPServer
    private let task: Task<Void, any Error>
    private let lock = NSLock()
    private var answers: [String: Answer] = [:]
    /// Answers given only to a request with this `Authorization` header, by path.
    private var authorized: [String: (authorization: String, answer: Answer)] = [:]
    private var hits: [String] = []
    /// A request as a handler sees it: header names lowercased.
    struct Request: Sendable {
        var method: String
        var path: String
        var headers: [String: String]
        var body: Data
    }

    /// Paths answered by code instead of a fixed answer (a protocol server built for a test).
    private var handlers: [String: @Sendable (Request) -> Answer] = [:]
    /// Answers the paths no handler or answer names (a blob store's many paths).
    private var fallback: (@Sendable (Request) -> Answer)?
    let port: UInt16

    var base: String { "http://127.0.0.1:\(port)" }

    init() async throws {
        let server = HTTPServer(address: try sockaddr_in.inet(ip4: "127.0.0.1", port: 0), timeout: 30, logger: .disabled)
        self.server = server
        // The server answers on threads of its own: tests that block a thread of the cooperative
        // pool (a synchronous test running the binary) must not starve it on a 2-core machine.
        task = Task(executorPreference: ThreadTaskExecutor.shared) { try await server.run() }
        // A bound, not a margin: a loaded machine (both cores busy) took FlyingFox past its
        // default 5 s to start listening.
        try await server.waitUntilListening(timeout: 60)
        guard case .ip4(_, port: let port)? = await server.listeningAddress else { throw CocoaError(.fileReadUnknown) }
        self.port = port
        await server.appendRoute("*") { [weak self] request in
            guard let self else { return HTTPResponse(statusCode: .internalServerError) }
            if let handler = self.lock.withLock({ self.handlers[request.path] ?? self.fallback }) {
                var headers: [String: String] = [:]
                for (name, value) in request.headers { headers[name.rawValue.lowercased()] = value }
                let seen = Request(
                    method: request.method.rawValue, path: request.path, headers: headers,
                    body: (try? await request.bodyData) ?? Data())
                self.lock.withLock { self.hits.append("\(seen.method) \(seen.path)") }
                let answer = handler(seen)
                var responseHeaders = HTTPHeaders()
                for (name, value) in answer.headers { responseHeaders[HTTPHeader(name)] = value }
                return HTTPResponse(
                    statusCode: HTTPStatusCode(answer.status, phrase: "Test"), headers: responseHeaders,
                    body: answer.body)
            }
            let answer = self.answer(
                for: request.path, method: request.method.rawValue,
                authorization: request.headers[HTTPHeader("Authorization")])
            var headers = HTTPHeaders()
            for (name, value) in answer.headers { headers[HTTPHeader(name)] = value }
            return HTTPResponse(statusCode: HTTPStatusCode(answer.status, phrase: "Test"), headers: headers, body: answer.body)
        }
    }

    /// A GET is recorded as its path, another method as `METHOD path` (`HEAD /1.1.0/vmlinuz`).
    private func answer(for path: String, method: String, authorization: String?) -> Answer {
        lock.withLock {
            hits.append(method == "GET" ? path : "\(method) \(path)")
            if let guarded = authorized[path], guarded.authorization == authorization { return guarded.answer }
            return answers[path] ?? Answer(status: 404, body: Data("not found".utf8))
        }
    }

    func set(_ path: String, _ answer: Answer) { lock.withLock { answers[path] = answer } }
    func set(_ path: String, body: Data, status: Int = 200) { set(path, Answer(status: status, body: body)) }
    func set(_ path: String, json: String, status: Int = 200) {
        set(path, Answer(status: status, body: Data(json.utf8), headers: ["Content-Type": "application/json"]))
    }
    /// Answers `answer` at `path` to a request that sends `authorization`; others get what `set` gave.
    func setAuthorized(_ path: String, authorization: String, _ answer: Answer) {
        lock.withLock { authorized[path] = (authorization, answer) }
    }
    /// Answers requests to `path` with `handler`.
    func handle(_ path: String, _ handler: @escaping @Sendable (Request) -> Answer) { lock.withLock { handlers[path] = handler } }
    /// Answers every path that has no handler of its own with `handler`.
    func handleEverything(_ handler: @escaping @Sendable (Request) -> Answer) { lock.withLock { fallback = handler } }
    func remove(_ path: String) { lock.withLock { _ = answers.removeValue(forKey: path) } }
    /// The body set for `path`, if any.
    func body(_ path: String) -> Data? { lock.withLock { answers[path]?.body } }
    var requests: [String] { lock.withLock { hits } }

    func stop() async {
        task.cancel()
        await server.stop()
    }
}

/// Runs jobs on threads of its own, neither the cooperative pool nor Dispatch's: in-process
/// servers keep answering while other tests block those pools' few threads (a synchronous wait
/// for the binary, or a handler that holds its answer back). Eight threads: a handler that blocks
/// one leaves the others to the other servers.
final class ThreadTaskExecutor: TaskExecutor, @unchecked Sendable {
    static let shared = ThreadTaskExecutor(threads: 8)
    private let condition = NSCondition()
    private var jobs: [UnownedJob] = []

    private init(threads: Int) {
        for index in 0..<threads {
            let thread = Thread { [self] in work() }
            thread.name = "test-server-\(index)"
            thread.stackSize = 1 << 20
            thread.start()
        }
    }

    private func work() {
        while true {
            condition.lock()
            while jobs.isEmpty { condition.wait() }
            let job = jobs.removeFirst()
            condition.unlock()
            job.runSynchronously(on: asUnownedTaskExecutor())
        }
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        condition.lock()
        jobs.append(job)
        condition.signal()
        condition.unlock()
    }
}
