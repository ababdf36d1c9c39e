import Testing

@testable import MeshgateDNS

@Suite struct DNSCodecTests {
    static func name(_ text: String) -> DNSName {
        (try? DNSName(text)) ?? .root
    }

    static let soa = DNSSOA(primary: name("ns1.example.com"), mailbox: name("hostmaster.example.com"),
                            serial: 2026112901, refresh: 7200, retry: 900, expire: 1_209_600, minimum: 300)

    static let messages: [(String, DNSMessage)] = {
        var query = DNSHeader(id: 0x1234)
        query.recursionDesired = true
        var response = query
        response.isResponse = true
        response.recursionAvailable = true
        var nx = response
        nx.rcode = .nameError
        return [
            ("plain A query", DNSMessage(header: query, questions: [DNSQuestion(name: name("mcp.stripe.com"), type: .a)])),
            ("query with EDNS cookie", DNSMessage(header: query, questions: [DNSQuestion(name: name("Example.COM"), type: .aaaa)],
                                                  additionals: [DNSEDNS(udpPayloadSize: 4096, dnssecOK: true,
                                                                        options: [DNSEDNSOption(code: 10, data: [1, 2, 3, 4, 5, 6, 7, 8])]).record])),
            ("CNAME chain to A and AAAA", DNSMessage(header: response, questions: [DNSQuestion(name: name("www.example.com"), type: .a)], answers: [
                DNSRecord(name: name("www.example.com"), type: .cname, ttl: 300, data: .cname(name("cdn.example.net"))),
                .address(name("cdn.example.net"), [192, 0, 2, 1], ttl: 60),
                .address(name("cdn.example.net"), [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1], ttl: 60),
            ])),
            ("NXDOMAIN with SOA", DNSMessage(header: nx, questions: [DNSQuestion(name: name("nope.example.com"), type: .a)],
                                              authorities: [DNSRecord(name: name("example.com"), type: .soa, ttl: 900, data: .soa(soa))])),
            ("MX, NS, TXT and an unknown type", DNSMessage(header: response, questions: [DNSQuestion(name: name("example.com"), type: .any)], answers: [
                DNSRecord(name: name("example.com"), type: .mx, ttl: 3600, data: .mx(preference: 10, exchange: name("mail.example.com"))),
                DNSRecord(name: name("example.com"), type: .ns, ttl: 3600, data: .name(name("ns1.example.com"))),
                DNSRecord(name: name("example.com"), type: .txt, ttl: 3600, data: .opaque([5] + Array("hello".utf8))),
                DNSRecord(name: name("example.com"), type: DNSType(rawValue: 65280), ttl: 1, data: .opaque([0xde, 0xad])),
                DNSRecord(name: name("example.com"), type: .https, ttl: 1, data: .opaque([0, 1, 0])),
            ], additionals: [DNSEDNS(options: [.extendedError(.blocked, text: "blocked by meshgate rule x")]).record])),
            ("root question", DNSMessage(header: query, questions: [DNSQuestion(name: .root, type: .ns)])),
        ]
    }()

    @Test(arguments: messages)
    func roundTrips(_ label: String, _ message: DNSMessage) throws {
        let bytes = try message.encoded()
        let decoded = try DNSMessage(decoding: bytes)
        #expect(decoded == message, "\(label)")
        #expect(try decoded.encoded() == bytes, "\(label): encoding is stable")
    }

    @Test func namesAreCompressedAndCaseIsKept() throws {
        let message = Self.messages[2].1
        let bytes = try message.encoded()
        // www.example.com (17) is written once; the CNAME owner is a 2-byte pointer.
        #expect(bytes.count < 12 + 17 + 4 + 3 * 17 + 2 * 17)
        let query = try DNSMessage(decoding: try Self.messages[1].1.encoded())
        #expect(query.questions[0].name.wire == [7] + Array("Example".utf8) + [3] + Array("COM".utf8) + [0])
        #expect(query.questions[0].name.description == "example.com")
        #expect(query.edns?.udpPayloadSize == 4096)
        #expect(query.edns?.dnssecOK == true)
        #expect(query.edns?.options == [DNSEDNSOption(code: 10, data: [1, 2, 3, 4, 5, 6, 7, 8])])
    }

    @Test func compressionPointsAtTheLongestSuffixWrittenInAnyCase() throws {
        var header = DNSHeader(id: 1)
        header.isResponse = true
        let message = DNSMessage(header: header, questions: [DNSQuestion(name: Self.name("www.example.com"), type: .a)], answers: [
            DNSRecord(name: Self.name("WWW.Example.com"), type: .cname, ttl: 60, data: .cname(Self.name("cdn.example.com"))),
            .address(Self.name("cdn.EXAMPLE.com"), [192, 0, 2, 1], ttl: 60),
        ])
        let bytes = try message.encoded()
        #expect(bytes.count == 67)
        #expect(Array(bytes[33..<35]) == [0xC0, 12], "the CNAME owner points at the question name")
        #expect(Array(bytes[45..<51]) == [3] + Array("cdn".utf8) + [0xC0, 16], "its target reuses example.com")
        #expect(Array(bytes[51..<53]) == [0xC0, 45], "the A owner points at the CNAME target")
        #expect(try DNSMessage(decoding: bytes) == message)
    }

    @Test func aMessageWithHundredsOfNamesRoundTrips() throws {
        // More names than the writer offers for reuse: later ones are written in full.
        var header = DNSHeader(id: 2)
        header.isResponse = true
        let answers = (0..<400).map { DNSRecord(name: Self.name("host\($0 % 150).zone\($0 % 7).example.net"), type: .cname, ttl: 60,
                                                data: .cname(Self.name("t\($0).zone\($0 % 7).example.net"))) }
        let message = DNSMessage(header: header, questions: [DNSQuestion(name: Self.name("host0.zone0.example.net"), type: .cname)], answers: answers)
        let bytes = try message.encoded()
        #expect(try DNSMessage(decoding: bytes) == message)
        var uncompressed = 12 + 25 + 4
        for answer in answers {
            guard case .cname(let target) = answer.data else { continue }
            uncompressed += answer.name.wire.count + 10 + target.wire.count
        }
        #expect(bytes.count < uncompressed * 3 / 4, "\(bytes.count) of \(uncompressed) bytes")
    }

    @Test func extendedErrorsCarryTheirCode() throws {
        let message = Self.messages[4].1
        let decoded = try DNSMessage(decoding: try message.encoded())
        let option = try #require(decoded.edns?.options.first)
        #expect(option.extendedError == .blocked)
        #expect(String(decoding: option.data.dropFirst(2), as: UTF8.self) == "blocked by meshgate rule x")
    }

    /// Hand-made packets a hostile client or upstream might send.
    static let malformed: [(String, [UInt8])] = {
        let header: [UInt8] = [0xAB, 0xCD, 0x01, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00]
        let question: [UInt8] = [3] + Array("mcp".utf8) + [0, 0, 1, 0, 1]
        var label64: [UInt8] = [64] + [UInt8](repeating: UInt8(ascii: "a"), count: 64) + [0, 0, 1, 0, 1]
        label64 = header + label64
        var long: [UInt8] = []
        for _ in 0..<5 { long += [63] + [UInt8](repeating: UInt8(ascii: "b"), count: 63) }
        return [
            ("header only, but one question promised", header),
            ("pointer to itself", header + [0xC0, 12, 0, 1, 0, 1]),
            ("two pointers pointing at each other", header + [0xC0, 14, 0xC0, 12, 0, 1, 0, 1]),
            ("label then pointer back to that label", header + [1, UInt8(ascii: "a"), 0xC0, 12, 0, 1, 0, 1]),
            ("forward pointer", header + [0xC0, 40, 0, 1, 0, 1] + [UInt8](repeating: 0, count: 40)),
            ("pointer into the header", header + [0xC0, 2, 0, 1, 0, 1]),
            ("truncated label", header + [10, 1, 2, 3]),
            ("truncated question type", header + [3] + Array("mcp".utf8) + [0, 0]),
            ("label of 64 bytes", label64),
            ("extended label type 0x40", header + [0x41, 0, 0, 1, 0, 1]),
            ("name over 255 bytes", header + long + [0, 0, 1, 0, 1]),
            ("answer count lies", [0xAB, 0xCD, 0x81, 0x80, 0x00, 0x01, 0x00, 0x05, 0x00, 0x00, 0x00, 0x00] + question
                + [0xC0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 1, 2, 3, 4]),
            ("65535 questions in 40 bytes", [0xAB, 0xCD, 0x01, 0x00, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF] + question),
            ("A record with 5 bytes", [0xAB, 0xCD, 0x81, 0x80, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00] + question
                + [0xC0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 5, 1, 2, 3, 4, 5]),
            ("RDLENGTH past the end", [0xAB, 0xCD, 0x81, 0x80, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00] + question
                + [0xC0, 12, 0, 16, 0, 1, 0, 0, 0, 60, 0xFF, 0xFF, 1]),
            ("CNAME whose name overruns RDLENGTH", [0xAB, 0xCD, 0x81, 0x80, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00] + question
                + [0xC0, 12, 0, 5, 0, 1, 0, 0, 0, 60, 0, 2, 3, UInt8(ascii: "x"), UInt8(ascii: "y"), UInt8(ascii: "z"), 0]),
            ("EDNS option longer than its record", [0xAB, 0xCD, 0x01, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01] + question
                + [0, 0, 41, 4, 208, 0, 0, 0, 0, 0, 6, 0, 15, 0, 9, 0, 15]),
            ("two OPT records", [0xAB, 0xCD, 0x01, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02] + question
                + [0, 0, 41, 4, 208, 0, 0, 0, 0, 0, 0] + [0, 0, 41, 4, 208, 0, 0, 0, 0, 0, 0]),
            ("OPT in the answer section", [0xAB, 0xCD, 0x81, 0x00, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00] + question
                + [0, 0, 41, 4, 208, 0, 0, 0, 0, 0, 0]),
        ]
    }()

    @Test(arguments: malformed)
    func malformedInputIsRejected(_ label: String, _ bytes: [UInt8]) {
        #expect(throws: DNSDecodeError.self, "\(label)") { try DNSMessage(decoding: bytes) }
        #expect(DNSMessage.header(of: bytes)?.id == 0xABCD, "the header stays readable, so FORMERR can be answered")
    }

    @Test func aPointerChainBackwardsIsFine() throws {
        // "mcp" at 12, then a second question "x" + pointer to 12.
        let bytes: [UInt8] = [0, 1, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0] + [3] + Array("mcp".utf8) + [0, 0, 1, 0, 1]
            + [1, UInt8(ascii: "x"), 0xC0, 12, 0, 1, 0, 1]
        let message = try DNSMessage(decoding: bytes)
        #expect(message.questions.map(\.name.description) == ["mcp", "x.mcp"])
    }

    @Test(arguments: [
        ("a." + String(repeating: "b", count: 64) + ".com", "a label of 64 bytes (at most 63)"),
        ("a..com", "an empty label"),
        (Array(repeating: String(repeating: "c", count: 63), count: 5).joined(separator: "."), "321 bytes in wire form (at most 255)"),
    ])
    func textNamesAreChecked(_ text: String, _ problem: String) {
        #expect(throws: DNSNameError(name: text, problem: problem)) { try DNSName(text) }
    }

    @Test func namesCompareWithoutCaseAndPrintEscaped() throws {
        #expect(try DNSName("MCP.Stripe.com.") == DNSName("mcp.stripe.com"))
        #expect(try DNSName("MCP.Stripe.com").hashValue == DNSName("mcp.stripe.com").hashValue)
        let odd = DNSName(uncheckedWire: [3, UInt8(ascii: "a"), UInt8(ascii: "."), 0x07, 0])
        #expect(odd.description == "a\\.\\007")
        #expect(DNSName.root.description == ".")
    }

    @Test func typeAndRcodeNames() {
        #expect(DNSType.a.description == "A")
        #expect(DNSType.aaaa.description == "AAAA")
        #expect(DNSType(rawValue: 65280).description == "TYPE65280")
        #expect(DNSResponseCode.nameError.description == "NXDOMAIN")
        #expect(DNSResponseCode.noError.description == "NOERROR")
        #expect(DNSResponseCode(rawValue: 15).description == "RCODE15")
    }
}
