@testable import MeshgateDNS

// The DNS decoder. Every input either fails to decode with DNSDecodeError or decodes to a message
// that encodes and decodes back to itself.
@Sendable func fuzzDNSDecoder(_ bytes: [UInt8]) {
    guard let message = try? DNSMessage(decoding: bytes) else { return }
    guard let encoded = try? message.encoded(), let again = try? DNSMessage(decoding: encoded) else {
        invariant(false, "a decoded message does not encode and decode again: \(bytes)")
        return
    }
    invariant(again == message, "round trip changed the message: \(bytes)")
}
