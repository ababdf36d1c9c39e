// libFuzzer entry point for the DNS decoder (built by scripts/fuzz-dns.sh together with
// Sources/MeshgateDNS/Codec, outside SwiftPM). Every input either fails to decode with
// DNSDecodeError or decodes to a message that encodes and decodes back to itself.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzDNSDecoder(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    guard let message = try? DNSMessage(decoding: bytes) else { return 0 }
    guard let encoded = try? message.encoded(), let again = try? DNSMessage(decoding: encoded), again == message else {
        fatalError("round trip failed for \(bytes)")
    }
    return 0
}
