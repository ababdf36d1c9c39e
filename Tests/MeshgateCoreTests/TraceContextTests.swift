import MeshgateCore
import Testing

/// W3C Trace Context for one hop: continue a valid `traceparent`, start over otherwise.
@Suite struct TraceContextTests {
    struct Counter: RandomNumberGenerator {
        var n: UInt64 = 0
        mutating func next() -> UInt64 {
            n += 1
            return n == 1 ? 0 : n  // a zero draw must never become an all-zero id
        }
    }

    @Test func aValidParentIsContinuedWithANewSpan() {
        var rng = Counter()
        let hop = TraceContext.hop(incoming: ["00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"], using: &rng)
        #expect(hop.continued)
        #expect(hop.traceID == "4bf92f3577b34da6a3ce929d0e0e4736")
        #expect(hop.spanID == "0000000000000002")
        #expect(hop.traceparent == "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000002-01")
    }

    @Test(arguments: [
        "00-00000000000000000000000000000000-00f067aa0ba902b7-01",  // zero trace id
        "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",  // zero parent
        "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",  // upper case
        "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",  // forbidden version
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra",  // version 00 has no more fields
        "00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01",  // short
        "garbage",
        "",
    ])
    func invalidParentsStartANewTrace(value: String) {
        #expect(TraceContext.parse(value) == nil)
        let hop = TraceContext.hop(incoming: [value])
        #expect(!hop.continued)
        #expect(TraceContext.parse(hop.traceparent) != nil, "what meshgate sends is valid: \(hop.traceparent)")
        #expect(hop.flags == "01")
    }

    @Test func aLaterVersionIsReadAsVersionZeroAndTwoHeadersStartOver() {
        #expect(TraceContext.parse("01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00-more")?.traceID == "4bf92f3577b34da6a3ce929d0e0e4736")
        let valid = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
        #expect(!TraceContext.hop(incoming: [valid, valid]).continued)
        #expect(TraceContext.hop(incoming: []).traceID.count == 32)
    }

    @Test func requestIDsDiffer() {
        let ids = Set((0..<100).map { _ in TraceContext.newRequestID() })
        #expect(ids.count == 100)
        #expect(ids.allSatisfy { $0.count == 16 })
    }
}
