// A small tool for the token ledger: measures reservations + settlements per second, and serves as
// the child process the durability test kills with SIGKILL.
//
//   MeshgateLedgerBench bench LEDGER [PAIRS] [CONCURRENCY]   LEDGER is sqlite:PATH or postgres://…
//   MeshgateLedgerBench settle-and-wait sqlite:PATH COUNT MARKER
//   MeshgateLedgerBench scan        (metering throughput: request facts and SSE usage metering)
import Foundation
import Logging
import MeshgateAI
import MeshgateInspection
import MeshgateJSON
import MeshgateLedger

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data((message + "\n").utf8))
    exit(1)
}

func openLedger(_ spec: String) -> (any TokenLedger, PostgresTokenLedger?) {
    do {
        if spec.hasPrefix("sqlite:") {
            return (try SQLiteTokenLedger(path: String(spec.dropFirst("sqlite:".count))), nil)
        }
        var logger = Logger(label: "meshgate.ledger-bench")
        logger.logLevel = .warning
        let postgres = try PostgresTokenLedger(url: spec, logger: logger)
        return (postgres, postgres)
    } catch {
        fail("\(error)")
    }
}

func usage(id: String, charges: [BudgetCharge]) -> UsageRecord {
    UsageRecord(id: id, timestampMilliseconds: Int64(Date().timeIntervalSince1970 * 1000), identity: "bench-agent",
                team: "bench", provider: "openai", model: "gpt-4o", usage: TokenUsage(input: 90, output: 10), charges: charges)
}

let arguments = CommandLine.arguments
func seconds(_ duration: Duration) -> Double {
    Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
}

/// Throughput of the metering code on synthetic bodies shaped like real traffic.
func scanBenchmark() {
    let clock = ContinuousClock()
    // A 1 MiB chat request: many messages of prose.
    var request = #"{"model":"gpt-4o","stream":true,"messages":["#
    var n = 0
    while request.utf8.count < 1 << 20 {
        if n > 0 { request += "," }
        request += #"{"role":"user","content":"The quick brown fox jumps over the lazy dog, \"quoted\" and escaped\n. "#
            + String(repeating: "Lorem ipsum dolor sit amet. ", count: 20) + #""}"#
        n += 1
    }
    request += "]}"
    let requestBytes = Array(request.utf8)
    var rounds = 0
    var elapsed = clock.measure {
        for _ in 0..<50 {
            let facts = LLMRequestFacts(body: requestBytes)
            rounds += facts.textBytes > 0 ? 1 : 0
            _ = LLMRequestFacts.includeUsageEdit(body: requestBytes, endpoint: .chatCompletions)
        }
    }
    print(String(format: "request facts + include_usage edit: %.0f MB/s (1 MiB body, %.2f ms per body)",
                 100 * Double(requestBytes.count) / 1e6 / seconds(elapsed), seconds(elapsed) * 1000 / 100))
    // For comparison: the inspection module's tree-building parser on the same body.
    var parsed = 0
    elapsed = clock.measure {
        for _ in 0..<20 where (try? JSONParser.parse(requestBytes, limits: JSONLimits(maxBytes: 4 << 20))) != nil { parsed += 1 }
    }
    guard parsed == 20 else { fail("JSONParser rejected the benchmark body") }
    print(String(format: "MeshgateInspection JSONParser (tree) on the same body: %.0f MB/s (%.2f ms per body)",
                 20 * Double(requestBytes.count) / 1e6 / seconds(elapsed), seconds(elapsed) * 1000 / 20))

    // An OpenAI stream of 20,000 one-token chunks.
    var stream = ""
    for i in 0..<20_000 {
        stream += #"data: {"id":"chatcmpl-123","object":"chat.completion.chunk","created":1694268190,"model":"gpt-4o-mini","#
            + #""choices":[{"index":0,"delta":{"content":" tok\#(i)"},"logprobs":null,"finish_reason":null}],"usage":null}"# + "\n\n"
    }
    stream += #"data: {"choices":[],"usage":{"prompt_tokens":9,"completion_tokens":20000}}"# + "\n\ndata: [DONE]\n\n"
    let streamBytes = Array(stream.utf8)
    var events = 0
    elapsed = clock.measure {
        for _ in 0..<5 {
            var meter = UsageMeter(format: .openai, streaming: true)
            var offset = 0
            while offset < streamBytes.count {  // 1400-byte chunks, like TLS records off the wire
                let end = min(streamBytes.count, offset + 1400)
                streamBytes[offset..<end].withUnsafeBytes { meter.consume($0) { _ in events += 1 } }
                offset = end
            }
            _ = meter.finish()
        }
    }
    print(String(format: "SSE usage metering: %.0f MB/s, %.2f µs per event", 5 * Double(streamBytes.count) / 1e6 / seconds(elapsed),
                 seconds(elapsed) * 1e6 / Double(events)))
}

guard arguments.count >= 2 else {
    fail("usage: MeshgateLedgerBench bench LEDGER [PAIRS] [CONCURRENCY] | settle-and-wait sqlite:PATH COUNT MARKER | scan")
}
if arguments[1] == "scan" {
    scanBenchmark()
    exit(0)
}
guard arguments.count >= 3 else { fail("usage: MeshgateLedgerBench bench LEDGER [PAIRS] [CONCURRENCY] | settle-and-wait sqlite:PATH COUNT MARKER") }

switch arguments[1] {
case "bench":
    let pairs = arguments.count > 3 ? Int(arguments[3]) ?? 2000 : 2000
    let concurrency = arguments.count > 4 ? Int(arguments[4]) ?? 1 : 1
    let (ledger, postgres) = openLedger(arguments[2])
    await withDiscardingTaskGroup { group in
        if let postgres { group.addTask { await postgres.run() } }
        do {
            try await postgres?.migrate()
            let team = "bench-\(UInt32.random(in: 0...UInt32.max))"
            let budget = TokenBudget(subject: .team(team), tokens: Int.max / 2, window: .fixed(seconds: 86_400))
            let start = ContinuousClock.now
            try await withThrowingTaskGroup(of: Void.self) { workers in
                for worker in 0..<concurrency {
                    workers.addTask {
                        for _ in stride(from: worker, to: pairs, by: concurrency) {
                            let now = Int64(Date().timeIntervalSince1970)
                            let charges = TokenBudget.charges([budget], identity: "bench-agent", team: team, at: now)
                            guard case .reserved(let reservation) = try await ledger.reserve(200, charges: charges, now: now) else {
                                fail("reservation refused")
                            }
                            try await ledger.settle(reservation, usage: usage(id: reservation.id, charges: charges))
                        }
                    }
                }
                try await workers.waitForAll()
            }
            let elapsed = ContinuousClock.now - start
            let seconds = seconds(elapsed)
            let backend = arguments[2].hasPrefix("sqlite:") ? "sqlite" : "postgres"
            print("\(backend): \(pairs) reservations+settlements, concurrency \(concurrency): "
                  + String(format: "%.0f pairs/s (%.0f ledger ops/s), %.3f ms per pair", Double(pairs) / seconds,
                           2 * Double(pairs) / seconds, seconds * 1000 / Double(pairs)))
        } catch {
            fail("\(error)")
        }
        group.cancelAll()
    }

case "settle-and-wait":
    guard arguments.count == 5, let count = Int(arguments[3]) else { fail("usage: settle-and-wait sqlite:PATH COUNT MARKER") }
    let (ledger, _) = openLedger(arguments[2])
    let budget = TokenBudget(subject: .team("durable"), tokens: 1_000_000, window: .month)
    for i in 0..<count {
        let now = Int64(Date().timeIntervalSince1970)
        let charges = TokenBudget.charges([budget], identity: "agent", team: "durable", at: now)
        do {
            guard case .reserved(let reservation) = try await ledger.reserve(500, charges: charges, now: now) else { fail("refused") }
            try await ledger.settle(reservation, usage: usage(id: "settled-\(i)", charges: charges))
        } catch {
            fail("\(error)")
        }
    }
    // One reservation left open, as a request in flight when the process dies.
    let now = Int64(Date().timeIntervalSince1970)
    do {
        _ = try await ledger.reserve(700, charges: TokenBudget.charges([budget], identity: "agent", team: "durable", at: now), now: now)
    } catch {
        fail("\(error)")
    }
    _ = FileManager.default.createFile(atPath: arguments[4], contents: Data("settled \(count)\n".utf8))
    while true { try await Task.sleep(for: .seconds(60)) }

default:
    fail("unknown command \(arguments[1])")
}
