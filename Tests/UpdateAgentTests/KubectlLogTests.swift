import Testing

@testable import UpdateAgent

/// kubectl's `-v=6` request log, read for the outcome of the GET: a status the API server
/// answered, or no answer. Lines as kubectl 1.20 and 1.30+ write them.
@Suite struct KubectlLogTests {
    @Test func anOldStyleAnswerIsItsStatus() {
        let log = """
            I1126 17:02:11.101742   81234 loader.go:379] Config loaded from file:  /tmp/kubeconfig
            I1126 17:02:11.115232   81234 round_trippers.go:445] GET http://127.0.0.1:41235/api/v1/nodes/edge-1 403 Forbidden in 12 milliseconds
            F1126 17:02:11.115512   81234 helpers.go:115] Error from server (Forbidden): nodes "edge-1" is forbidden
            """
        #expect(Kubectl.request(in: log) == .answered(403))
    }

    @Test func anOldStyleRequestWithoutStatusIsNoAnswer() {
        let log = """
            I1126 17:02:11.115232   81234 round_trippers.go:445] GET http://127.0.0.1:9/api/v1/nodes/edge-1  in 0 milliseconds
            I1126 17:02:11.115300   81234 helpers.go:234] Connection error: Get http://127.0.0.1:9/api/v1/nodes/edge-1: dial tcp 127.0.0.1:9: connect: connection refused
            """
        #expect(
            Kubectl.request(in: log)
                == .noAnswer("Get http://127.0.0.1:9/api/v1/nodes/edge-1: dial tcp 127.0.0.1:9: connect: connection refused"))
    }

    @Test func aNewStyleAnswerIsItsStatus() {
        let log = """
            I1126 17:02:11.115232   81234 round_trippers.go:632] "Response" verb="GET" url="https://10.0.0.1:6443/api/v1/nodes/edge-1" status="404 Not Found" milliseconds=4
            """
        #expect(Kubectl.request(in: log) == .answered(404))
    }

    @Test func aNewStyleEmptyStatusIsNoAnswer() {
        let log = """
            I1126 17:02:11.115232   81234 round_trippers.go:632] "Response" verb="GET" url="https://10.0.0.1:6443/api/v1/nodes/edge-1" status="" milliseconds=0
            """
        #expect(Kubectl.request(in: log) == .noAnswer("no response"))
    }

    /// Retries log several requests: the last one decides.
    @Test func theLastRequestDecides() {
        let log = """
            I1126 17:02:11.115232   81234 round_trippers.go:445] GET http://127.0.0.1:41235/api/v1/nodes/edge-1 503 Service Unavailable in 2 milliseconds
            I1126 17:02:12.115232   81234 round_trippers.go:445] GET http://127.0.0.1:41235/api/v1/nodes/edge-1 200 OK in 2 milliseconds
            """
        #expect(Kubectl.request(in: log) == .answered(200))
    }

    /// An error that is not a request (a bad kubeconfig) is not mistaken for an answer.
    @Test func noRequestIsNotLogged() {
        let log = "error: error loading config file \"/tmp/kubeconfig\": yaml: line 2: mapping values are not allowed in this context\n"
        #expect(Kubectl.request(in: log) == .notLogged)
    }
}
