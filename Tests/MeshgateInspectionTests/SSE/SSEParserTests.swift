import MeshgateInspection
import Testing

@Suite struct SSEParserTests {
    @Test func sseParserFollowsTheSpec() {
        struct Collect: SSEEventHandler {
            var events: [(name: String?, data: String)] = []
            var name: String?
            var data: [UInt8] = []
            var lines = 0
            mutating func data(_ bytes: UnsafeRawBufferPointer, firstOfLine: Bool) {
                if firstOfLine { lines += 1; if lines > 1 { data.append(0x0A) } }
                data.append(contentsOf: bytes)
            }
            mutating func eventName(_ name: String) { self.name = name }
            mutating func dispatch() {
                events.append((name, String(decoding: data, as: UTF8.self)))
                name = nil; data = []; lines = 0
            }
        }
        var parser = SSEParser()
        var collect = Collect()
        let text = ": comment\r\nretry: 10\nid: 7\nevent:update\ndata:first\ndata:  second\n\ndata\n\n\n\ndata: x\r\r"
        parser.feed(Array(text.utf8), handler: &collect)
        #expect(collect.events.map(\.name) == ["update", nil, nil])
        #expect(collect.events.map(\.data) == ["first\n second", "", "x"])
    }
}
