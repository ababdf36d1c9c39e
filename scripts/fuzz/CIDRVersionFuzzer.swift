@testable import Meshgate
@testable import MeshgateCore

// CIDR, IP address and ruleset version parsing. A parsed address formats to text that parses to
// the same bytes; a parsed network's canonical text parses to the same network, which contains its
// own address; host patterns parse without crashing; version order is a total order (reflexive,
// antisymmetric, transitive) so updates cannot flip-flop.
@Sendable func fuzzCIDRAndVersions(_ bytes: [UInt8]) {
    var input = FuzzInput(bytes)
    let a = String(decoding: input.field(), as: UTF8.self)
    let b = String(decoding: input.field(), as: UTF8.self)
    let c = String(decoding: input.rest(), as: UTF8.self)

    for text in [a, b, c] {
        if let address = IPAddress.parse(text) {
            invariant(address.count == 4 || address.count == 16, "\(address.count) address bytes from '\(text)'")
            let formatted = IPAddress.format(address)
            invariant(IPAddress.parse(formatted) == address, "'\(text)' → '\(formatted)' does not parse back")
        }
        if let network = CIDR(text) {
            let again = CIDR(network.description)
            invariant(again == network, "'\(text)' → '\(network)' re-parses as \(String(describing: again))")
            invariant(network.contains(network.network), "\(network) does not contain its own address")
        }
        if let pattern = HostPattern(text) {
            _ = HostPatternList([pattern]).matches(b)
        }
    }

    invariant(RulesetVersion.compare(a, a) == 0, "'\(a)' is not equal to itself")
    let ab = RulesetVersion.compare(a, b), ba = RulesetVersion.compare(b, a)
    invariant(ab == -ba, "compare('\(a)', '\(b)') = \(ab) but compare('\(b)', '\(a)') = \(ba)")
    let bc = RulesetVersion.compare(b, c), ac = RulesetVersion.compare(a, c)
    if ab < 0 && bc < 0 { invariant(ac < 0, "'\(a)' < '\(b)' < '\(c)' but compare(a, c) = \(ac)") }
    if ab == 0 && bc == 0 { invariant(ac == 0, "'\(a)' = '\(b)' = '\(c)' but compare(a, c) = \(ac)") }
}
