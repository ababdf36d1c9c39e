import MeshgateInspection
@testable import MeshgateAI

// The SSE parser and the usage scan that meters LLM responses (UsageMeter: SSEParser feeding
// JSONFieldScanner and UsageScan). Both are fed chunks split anywhere, so the events, usage and
// estimate must not depend on where the chunks were cut; the parser's events are also checked
// against a one-byte-at-a-time feed.
@Sendable func fuzzSSEUsage(_ bytes: [UInt8]) {
    var input = FuzzInput(bytes)
    let format = input.pick(LLMFormat.allCases)
    let streaming = input.byte() & 1 == 0
    let sizes = (0..<(1 + input.choose(4))).map { _ in input.byte() }
    let body = input.rest()

    var whole = UsageMeter(format: format, streaming: streaming, estimatedInputTokens: 7)
    var wholeEvents: [StreamUsageEvent] = []
    body.withUnsafeBytes { whole.consume($0) { wholeEvents.append($0) } }
    let wholeUsage = whole.finish()

    var split = UsageMeter(format: format, streaming: streaming, estimatedInputTokens: 7)
    var splitEvents: [StreamUsageEvent] = []
    for piece in chunks(of: body, sizes: sizes) {
        Array(piece).withUnsafeBytes { split.consume($0) { splitEvents.append($0) } }
    }
    let splitUsage = split.finish()
    invariant(wholeEvents == splitEvents, "events differ when split: \(wholeEvents) vs \(splitEvents)")
    invariant(wholeUsage == splitUsage, "usage differs when split: \(wholeUsage) vs \(splitUsage)")
    invariant(whole.model == split.model && whole.outputTextBytes == split.outputTextBytes, "model/text bytes differ when split")
    invariant(whole.bytesSeen == body.count, "bytesSeen \(whole.bytesSeen) of \(body.count)")
    invariant(whole.toolCalls == split.toolCalls, "tool calls differ when split: \(whole.toolCalls) vs \(split.toolCalls)")

    // The event framer the MCP drift filter rewrites streams with: lossless, and the same events
    // however the chunks fall.
    var framerWhole = SSEEventFramer()
    var piecesWhole = framerWhole.feed(body)
    if let rest = framerWhole.finish() { piecesWhole.append(rest) }
    var framerSplit = SSEEventFramer()
    var piecesSplit: [SSEEventFramer.Piece] = []
    for piece in chunks(of: body, sizes: sizes) { piecesSplit += framerSplit.feed(piece) }
    if let rest = framerSplit.finish() { piecesSplit.append(rest) }
    func joined(_ pieces: [SSEEventFramer.Piece]) -> [UInt8] {
        pieces.flatMap { piece -> [UInt8] in
            switch piece {
            case .event(let bytes), .passed(let bytes): bytes
            }
        }
    }
    func events(_ pieces: [SSEEventFramer.Piece]) -> [[UInt8]] {
        pieces.compactMap { if case .event(let bytes) = $0 { bytes } else { nil } }
    }
    invariant(joined(piecesWhole) == body, "the framer lost or changed bytes")
    invariant(joined(piecesSplit) == body, "the framer lost or changed bytes when split")
    invariant(events(piecesWhole) == events(piecesSplit), "framed events differ when split")

    guard streaming else { return }
    var oneShot = SSEParser()
    var recorderA = EventRecorder()
    oneShot.feed(body, handler: &recorderA)
    var byteWise = SSEParser()
    var recorderB = EventRecorder()
    for byte in body { withUnsafeBytes(of: byte) { byteWise.feed($0, handler: &recorderB) } }
    invariant(recorderA.events == recorderB.events && recorderA.pending == recorderB.pending,
              "SSE events differ fed whole and byte by byte: \(recorderA.events) vs \(recorderB.events)")
}

/// Collects dispatched events as (name, data with lines joined by LF).
private struct EventRecorder: SSEEventHandler {
    var events: [String] = []
    var pending: [UInt8] = []
    var name = ""

    mutating func data(_ bytes: UnsafeRawBufferPointer, firstOfLine: Bool) {
        if firstOfLine { pending.append(0x0A) }
        pending.append(contentsOf: bytes)
    }

    mutating func eventName(_ name: String) { self.name = name }

    mutating func dispatch() {
        events.append(name + "|" + String(decoding: pending, as: UTF8.self))
        pending.removeAll()
        name = ""
    }
}
