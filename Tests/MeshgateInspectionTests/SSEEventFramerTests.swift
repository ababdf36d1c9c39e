import MeshgateInspection
import Testing

/// Cutting an event stream into whole events, however the chunks fall.
@Suite struct SSEEventFramerTests {
    static func events(_ chunks: [String], max: Int = 1 << 20) -> [SSEEventFramer.Piece] {
        var framer = SSEEventFramer(maxEventBytes: max)
        var pieces: [SSEEventFramer.Piece] = []
        for chunk in chunks { pieces += framer.feed(Array(chunk.utf8)) }
        if let rest = framer.finish() { pieces.append(rest) }
        return pieces
    }

    static func text(_ piece: SSEEventFramer.Piece) -> String {
        switch piece {
        case .event(let bytes): "E:" + String(decoding: bytes, as: UTF8.self)
        case .passed(let bytes): "P:" + String(decoding: bytes, as: UTF8.self)
        }
    }

    @Test(arguments: ["\n", "\r\n", "\r"])
    func eventsEndAtABlankLineWhateverTheLineEnds(eol: String) {
        let stream = "event: message\(eol)data: {\"a\":1}\(eol)\(eol)data: two\(eol)\(eol)"
        let whole = Self.events([stream]).map(Self.text)
        #expect(whole == ["E:event: message\(eol)data: {\"a\":1}\(eol)\(eol)", "E:data: two\(eol)\(eol)"])
        // Byte by byte gives the same events.
        let split = Self.events(stream.map { String($0) }).map(Self.text)
        #expect(split == whole, "\(split)")
    }

    @Test func dataLinesAreJoinedAndReplaced() {
        let event = Array("id: 7\nevent: message\ndata: {\"a\":\ndata:  1}\n\n".utf8)
        #expect(SSEEventFramer.data(of: event).map { String(decoding: $0, as: UTF8.self) } == "{\"a\":\n 1}")
        let replaced = SSEEventFramer.replacingData(of: event, with: Array("{\"b\":2}".utf8))
        #expect(String(decoding: replaced, as: UTF8.self) == "id: 7\nevent: message\ndata: {\"b\":2}\n\n")
        #expect(SSEEventFramer.data(of: Array(": comment\n\n".utf8)) == nil)
    }

    @Test func aGiantEventPassesUnheld() {
        let big = "data: " + String(repeating: "x", count: 100) + "\n\n"
        let pieces = Self.events([big, "data: small\n\n"], max: 32)
        #expect(pieces.map(Self.text).joined() == "P:" + big + "E:data: small\n\n")
        #expect(pieces.contains { if case .event = $0 { true } else { false } })
    }

    @Test func anUnfinishedEventIsLeftForFinish() {
        var framer = SSEEventFramer()
        #expect(framer.feed(Array("data: partial".utf8)).isEmpty)
        #expect(framer.finish() == .passed(Array("data: partial".utf8)))
        #expect(framer.finish() == nil)
    }
}
