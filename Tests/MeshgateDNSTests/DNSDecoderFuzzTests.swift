import Testing

@testable import MeshgateDNS

/// A seeded random-mutation fuzzer over the decoder, so every `swift test` fuzzes reproducibly
/// (coverage-guided fuzzing with libFuzzer is `scripts/fuzz-dns.sh`, which builds the codec with
/// `-sanitize=fuzzer,address` outside SwiftPM). Each iteration mutates a valid message — bit flips, byte overwrites
/// with interesting values, truncation, splices, count and pointer edits — and checks that
/// decoding either throws `DNSDecodeError` or yields a message that re-encodes and decodes to
/// itself. A crash, hang or trap fails the run.
@Suite struct DNSDecoderFuzzTests {
    /// SplitMix64: tiny, seedable, good enough to drive mutations reproducibly.
    struct SeededGenerator: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    static let interesting: [UInt8] = [0x00, 0x01, 0x3F, 0x40, 0x7F, 0x80, 0xBF, 0xC0, 0xC0, 0xFF, 12, 41]

    static func mutate(_ input: [UInt8], _ rng: inout SeededGenerator) -> [UInt8] {
        var bytes = input
        for _ in 0..<Int.random(in: 1...4, using: &rng) {
            guard !bytes.isEmpty else { bytes = [0]; continue }
            let at = Int.random(in: 0..<bytes.count, using: &rng)
            switch Int.random(in: 0..<7, using: &rng) {
            case 0: bytes[at] ^= UInt8(1) << UInt8.random(in: 0..<8, using: &rng)
            case 1: bytes[at] = interesting.randomElement(using: &rng) ?? 0
            case 2: bytes.removeLast(Int.random(in: 0...min(bytes.count, 16), using: &rng))
            case 3: bytes.insert(contentsOf: bytes[at..<min(bytes.count, at + Int.random(in: 1...24, using: &rng))],
                                 at: Int.random(in: 0...bytes.count, using: &rng))
            case 4 where bytes.count >= 12:
                // Section counts: a lie in either direction.
                let field = 4 + 2 * Int.random(in: 0..<4, using: &rng)
                bytes[field + 1] = UInt8.random(in: 0...255, using: &rng)
                if Bool.random(using: &rng) { bytes[field] = UInt8.random(in: 0...255, using: &rng) }
            case 5:
                // A compression pointer to anywhere.
                bytes[at] = 0xC0 | UInt8.random(in: 0...0x3F, using: &rng) & 0x01
                if at + 1 < bytes.count { bytes[at + 1] = UInt8.random(in: 0..<UInt8(clamping: max(1, bytes.count)), using: &rng) }
            default: bytes[at] = UInt8.random(in: 0...255, using: &rng)
            }
        }
        return bytes
    }

    @Test func decoderSurvivesTwentyThousandMutations() throws {
        let seeds = try DNSCodecTests.messages.map { try $0.1.encoded() } + DNSCodecTests.malformed.map(\.1)
        var rng = SeededGenerator(state: 0x6D65_7368_6761_7465)
        var decoded = 0
        for iteration in 0..<20_000 {
            let input = Self.mutate(seeds[iteration % seeds.count], &rng)
            let message: DNSMessage
            do {
                message = try DNSMessage(decoding: input)
            } catch {
                continue
            }
            decoded += 1
            let again = try DNSMessage(decoding: try message.encoded())
            #expect(again == message, "iteration \(iteration): \(input)")
            if again != message { return }
        }
        // Mutations must also produce valid messages, or the round-trip property is never checked.
        #expect(decoded > 500)
    }
}
