import MeshgateInspection
import Testing

@Suite("Content-Encoding parsing")
struct BodyContentCodingTests {
    @Test(arguments: [
        ("gzip", [BodyContentCoding.gzip]),
        ("x-gzip", [.gzip]),
        ("GZip", [.gzip]),
        ("deflate", [.deflate]),
        ("identity", [.identity]),
        ("gzip, identity", [.gzip, .identity]),
        ("deflate,gzip", [.deflate, .gzip]),
        ("br", [.br]),
        ("zstd", [.zstd]),
        ("gzip, BR, Zstd", [.gzip, .br, .zstd]),
        (" gzip ,\t, deflate ", [.gzip, .deflate]),
        ("", []),
    ])
    func parsesSupportedCodingsInOrderApplied(header: String, expected: [BodyContentCoding]) throws {
        #expect(try BodyContentCoding.parse(header) == expected)
    }

    @Test(arguments: [
        ("compress", "compress"),
        ("x-foo", "x-foo"),
        ("gzip, br, x-foo", "x-foo"),
        ("brotli", "brotli"),
        ("gzip;q=1", "gzip;q=1"),
    ])
    func rejectsUnsupportedCodingsByName(header: String, offending: String) {
        #expect(throws: BodyDecodingError.unsupportedEncoding(offending)) {
            try BodyContentCoding.parse(header)
        }
    }

    @Test func unsupportedCodingErrorNamesItAndWhatIsSupported() {
        let error = BodyDecodingError.unsupportedEncoding("compress")
        #expect(error.description == "unsupported Content-Encoding 'compress' (meshgate decodes gzip, x-gzip, deflate, br, zstd and identity)")
    }
}
