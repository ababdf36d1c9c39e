@testable import MeshgateCore

// Authority parsing (CONNECT targets, Host headers, URL authorities): HostPort(authority:).
// A parsed authority has a plausible host and port, and its own spellings (`description`,
// `hostHeader`) parse back to the same value, so nothing that re-serialises it can change its meaning.
@Sendable func fuzzHostPort(_ bytes: [UInt8]) {
    var input = FuzzInput(bytes)
    let defaultPort = input.pick([nil, 80, 443, 8443] as [Int?])
    let text = String(decoding: input.rest(), as: UTF8.self)
    guard let parsed = HostPort(authority: text, defaultPort: defaultPort) else { return }
    invariant(!parsed.host.isEmpty, "empty host from '\(text)'")
    invariant((1...65535).contains(parsed.port), "port \(parsed.port) from '\(text)'")
    invariant(HostPort(host: parsed.host, port: parsed.port) == parsed, "host of '\(text)' is not normalised: '\(parsed.host)'")
    // Characters that would end or re-route a host in a URL, a Host header or an audit line.
    let unsafe = parsed.host.unicodeScalars.first { scalar in
        scalar.value < 0x21 || scalar.value == 0x7F || "/?#@[]\\\"".unicodeScalars.contains(scalar)
    }
    invariant(unsafe == nil, "host '\(parsed.host)' from '\(text)' contains U+\(String(unsafe?.value ?? 0, radix: 16))")
    let again = HostPort(authority: parsed.description, defaultPort: nil)
    invariant(again == parsed, "'\(text)' → \(parsed) re-parses as \(String(describing: again))")
    let header = parsed.hostHeader(defaultPort: 80)
    let fromHeader = HostPort(authority: header, defaultPort: 80)
    invariant(fromHeader == parsed, "'\(text)' → Host '\(header)' re-parses as \(String(describing: fromHeader))")
    invariant(parsed.isIPLiteral == IPAddress.isLiteral(parsed.host), "isIPLiteral disagrees for '\(parsed.host)'")
}
