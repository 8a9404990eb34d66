import CYAML
import UpdateAgent
import UpdatePlan
import UpdatePolicy
import YAMLTree

#if canImport(Glibc)
import Glibc
#endif

/// updatectl-bench: measures each stage of lint against a bare libyaml event scan of the same
/// bytes, in one process, and prints medians and ratios.
///   updatectl-bench generate DIR      writes the corpus
///   updatectl-bench run DIR [ROUNDS]  measures it

/// Lint as `updatectl lint` runs it: zones checked against this host's database.
let options = PolicyFiles.options()

func now() -> UInt64 {
    var spec = timespec()
    clock_gettime(CLOCK_MONOTONIC, &spec)
    return UInt64(spec.tv_sec) * 1_000_000_000 + UInt64(spec.tv_nsec)
}

func median(_ values: [Double]) -> Double {
    let sorted = values.sorted()
    return sorted.isEmpty ? 0 : sorted[sorted.count / 2]
}

/// Runs `body` `rounds` times after one warm-up; the median in milliseconds.
func measure(_ rounds: Int, _ body: () -> Int) -> (ms: Double, check: Int) {
    var check = body()
    var samples: [Double] = []
    for _ in 0..<rounds {
        let start = now()
        check &+= body()
        samples.append(Double(now() - start) / 1e6)
    }
    return (median(samples), check)
}

/// A bare libyaml event scan: parse every event and delete it, nothing else. The limit: nothing
/// built on libyaml can read faster.
func bareScan(_ bytes: [UInt8]) -> Int {
    var parser = yaml_parser_t()
    yaml_parser_initialize(&parser)
    defer { yaml_parser_delete(&parser) }
    var events = 0
    bytes.withUnsafeBufferPointer { buffer in
        yaml_parser_set_input_string(&parser, buffer.baseAddress, buffer.count)
        var event = yaml_event_t()
        while yaml_parser_parse(&parser, &event) == 1 {
            let done = event.type == YAML_STREAM_END_EVENT
            yaml_event_delete(&event)
            events += 1
            if done { break }
        }
    }
    return events
}

/// `bytes` with every `target` replaced by `replacement`.
func splice(_ bytes: [UInt8], _ target: String, _ replacement: String) -> [UInt8] {
    let needle = Array(target.utf8), with = Array(replacement.utf8)
    var out: [UInt8] = [], index = 0
    while index < bytes.count {
        if bytes[index] == needle[0], index + needle.count <= bytes.count, Array(bytes[index..<index + needle.count]) == needle {
            out += with
            index += needle.count
        } else {
            out.append(bytes[index])
            index += 1
        }
    }
    return out
}

func read(_ path: String) -> [UInt8] {
    guard let bytes = try? SourceReader.read(path: path, maxBytes: 64 << 20) else {
        fatalError("cannot read \(path); run `updatectl-bench generate DIR` first")
    }
    return bytes
}

func peakRSSMiB() -> Double {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    return Double(usage.ru_maxrss) / 1024
}

func format(_ value: Double) -> String {
    let hundredths = Int((value * 100).rounded())
    return "\(hundredths / 100).\(hundredths % 100 < 10 ? "0" : "")\(hundredths % 100)"
}

func row(_ name: String, _ ms: Double, _ base: Double) {
    let label = name + String(repeating: " ", count: max(0, 34 - name.count))
    let time = format(ms)
    print("  \(label) \(String(repeating: " ", count: max(0, 10 - time.count)))\(time) ms   \(format(ms / base))×")
}

let arguments = CommandLine.arguments
guard arguments.count >= 3 else {
    print("usage: updatectl-bench generate DIR | run DIR [ROUNDS] | rss DIR | files DIR | hash FILE | plan PROBES")
    exit(2)
}
let directory = arguments[2]
switch arguments[1] {
case "generate":
    Corpus.generate(into: directory)
    print("wrote \(directory)/userdata/*.yaml (1000 files), huge.yaml, tiny.yaml")
case "plan":
    // One plan compilation of a policy with PROBES probes, for instruction counts:
    //   valgrind --tool=callgrind --toggle-collect='*Planner*plan*' updatectl-bench plan 2500
    let count = Int(directory) ?? 2_500
    let policy = PolicyLinter.lint(Array(Corpus.huge(probes: count).utf8), file: "p", options: options).policy!
    print("steps: \(Planner.plan(policy).steps.count)")
case "hash":
    // SHA-256 (release files) and Ed25519 verification (swift-crypto: SHA-512 over the message,
    // then the curve) against one read pass over the same bytes in memory, in this process.
    let bytes = read(directory)
    let megabytes = Double(bytes.count) / 1_048_576
    func throughput(_ name: String, _ body: () -> Void) -> Double {
        let start = now()
        body()
        let seconds = Double(now() - start) / 1e9
        print("  \(name): \(format(megabytes / seconds)) MiB/s")
        return seconds
    }
    var sink: UInt64 = 0
    let pass = throughput("read pass (baseline)") {
        bytes.withUnsafeBytes { raw in
            for index in stride(from: 0, to: raw.count - 7, by: 8) { sink ^= raw.loadUnaligned(fromByteOffset: index, as: UInt64.self) }
        }
    }
    let sha256 = throughput("SHA-256") { _ = SHA256Stream.hex(bytes) }
    // The base point's encoding: a valid key, so verification hashes the whole message and does
    // the scalar multiplications before the (failing) comparison.
    let key: [UInt8] = [0x58] + Array(repeating: UInt8(0x66), count: 31)
    let verify = throughput("Ed25519 verify") {
        _ = try? Signature.verify(message: bytes, signatureFile: [UInt8](repeating: 0, count: 64), key: key, what: "bench")
    }
    print("  ratios to the read pass: SHA-256 \(format(sha256 / pass))×, Ed25519 verify \(format(verify / pass))× (sink \(sink & 1))")
case "rss":
    // Peak memory of linting the huge policy, alone in a process.
    let bytes = read(directory + "/huge.yaml")
    let result = PolicyLinter.lint(bytes, file: "huge.yaml", options: options)
    print("findings \(result.findings.count), peak RSS \(format(peakRSSMiB())) MiB")
case "files":
    // The user-data files linted once each, in this process: what a profiler runs.
    let names = ((try? DirectoryListing.entries(directory + "/userdata")) ?? []).map(\.name).filter { $0.hasSuffix(".yaml") }
    let findings = names.sorted().reduce(0) {
        $0 + PolicyLinter.lint(read(directory + "/userdata/" + $1), file: $1, options: options).findings.count
    }
    print("files \(names.count), findings \(findings), peak RSS \(format(peakRSSMiB())) MiB")
case "run":
    let rounds = arguments.count > 3 ? Int(arguments[3]) ?? 15 : 15
    let huge = read(directory + "/huge.yaml")
    let names = ((try? DirectoryListing.entries(directory + "/userdata")) ?? []).map(\.name).filter { $0.hasSuffix(".yaml") }
    let files = names.sorted().map { read(directory + "/userdata/" + $0) }
    let tiny = read(directory + "/tiny.yaml")
    let totalBytes = files.reduce(0) { $0 + $1.count }
    print("corpus: huge.yaml \(huge.count) bytes; \(files.count) user-data files, \(totalBytes) bytes; tiny \(tiny.count) bytes")
    print("medians of \(rounds) rounds, ratio to the bare libyaml scan of the same bytes\n")

    print("huge policy (20,000 probes)")
    let scan = measure(rounds) { bareScan(huge) }
    row("bare libyaml event scan", scan.ms, scan.ms)
    let tree = measure(rounds) { YAMLParser.parse(huge).root == nil ? 0 : 1 }
    row("YAML tree", tree.ms, scan.ms)
    // What materializing text costs: every scalar (keys included) made a String, nothing decoded.
    func strings(_ node: Node) -> Int {
        if let s = node.scalar { return s.value.utf8.count }
        if let list = node.sequence { return list.reduce(0) { $0 + strings($1) } }
        if let pairs = node.mapping { return pairs.reduce(0) { $0 + strings($1.key) + strings($1.value) } }
        return 0
    }
    let stringsOnly = measure(rounds) { strings(YAMLParser.parse(huge).root!) }
    row("tree + every scalar as a String", stringsOnly.ms, scan.ms)
    let lint = measure(rounds) { PolicyLinter.lint(huge, file: "huge.yaml", options: options).findings.count }
    row("tree + decode + full lint", lint.ms, scan.ms)
    // `lint --fix` of the same policy with every `timeout: 5s` spelt out (5,000 safe fixes):
    // one lint to find them, one pass to apply them, one lint of the result.
    let spelt = splice(huge, "timeout: 5s", "timeout: 5 seconds")
    let fixing = measure(max(3, rounds / 3)) {
        Fixer.fix(spelt, safety: .safe) { PolicyLinter.lint($0, file: "huge.yaml", options: options) }.fixed
    }
    row("lint --fix of 5,000 fixes (lint, apply, lint)", fixing.ms, scan.ms)
    print("  fixes per run: \(fixing.check / (max(3, rounds / 3) + 1)); fix / full lint: \(format(fixing.ms / lint.ms))×")
    let policy = PolicyLinter.lint(huge, file: "huge.yaml", options: options).policy!
    let plan = measure(rounds) { Planner.plan(policy).steps.count }
    row("plan compilation (alone)", plan.ms, scan.ms)
    print("  plan steps: \(Planner.plan(policy).steps.count); plan / parse: \(format(plan.ms / tree.ms))×")

    print("\n\(files.count) cloud-init user-data files")
    let scanAll = measure(max(3, rounds / 3)) { files.reduce(0) { $0 + bareScan($1) } }
    row("bare libyaml event scan", scanAll.ms, scanAll.ms)
    let treeAll = measure(max(3, rounds / 3)) { files.reduce(0) { $0 + (YAMLParser.parse($1).root == nil ? 0 : 1) } }
    row("YAML tree", treeAll.ms, scanAll.ms)
    let lintAll = measure(max(3, rounds / 3)) { files.reduce(0) { $0 + PolicyLinter.lint($1, file: "f", options: options).findings.count } }
    row("tree + decode + full lint", lintAll.ms, scanAll.ms)

    print("\nplan compilation, linear in steps")
    for count in [2_500, 5_000, 10_000, 20_000] {
        let bytes = Array(Corpus.huge(probes: count).utf8)
        let policy = PolicyLinter.lint(bytes, file: "p", options: options).policy!
        let timing = measure(rounds) { Planner.plan(policy).steps.count }
        print("  \(count) probes: \(format(timing.ms)) ms, \(format(timing.ms * 1000 / Double(count))) µs per probe")
    }
    let tinyLint = measure(rounds * 10) { PolicyLinter.lint(tiny, file: "tiny.yaml", options: options).findings.count }
    print("\ntiny policy, in process: \(format(tinyLint.ms * 1000)) µs")
    print("peak RSS of this process: \(format(peakRSSMiB())) MiB")
default:
    print("unknown command \(arguments[1])")
    exit(2)
}
