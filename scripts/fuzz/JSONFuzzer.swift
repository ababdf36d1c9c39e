import MeshgateInspection
import MeshgateJSON

// The JSON scanner behind the canonicaliser and the parser. For every body:
// - canonicalising is idempotent: canonical text that is JSON canonicalises to itself and the same tree;
// - the cheap text-only path, the tree-only parser and the full canonicaliser agree on what is JSON
//   and on the result;
// - when `addsNoPlainLiteral` lets the proxy skip canonicalising a body, every plain literal the
//   canonical text holds is in the raw body too (else a rule's literal prefilter could be evaded);
// - the limits hold: no tree deeper than maxDepth.
@Sendable func fuzzJSON(_ bytes: [UInt8]) {
    var input = FuzzInput(bytes)
    let limits = input.pick([JSONLimits.default, JSONLimits(maxDepth: 4, maxBytes: 256, maxValues: 32)])
    let body = input.rest()

    let canonical = JSONCanonicalizer.canonicalize(body, limits: limits)
    let text = JSONCanonicalizer.canonicalText(body, limits: limits)
    let tree = try? JSONParser.parse(body, limits: limits)
    invariant(text == canonical?.text, "canonicalText \(String(describing: text?.count)) ≠ canonicalize \(String(describing: canonical?.text.count)) bytes")
    invariant(tree == canonical?.value, "JSONParser and JSONCanonicalizer disagree on \(body.count) bytes")
    guard let canonical else { return }

    invariant(depth(canonical.value) <= limits.maxDepth, "tree depth \(depth(canonical.value)) over the limit \(limits.maxDepth)")
    // The canonical text writes \n, \r and \t escapes as the characters themselves (so patterns can
    // match across them), which JSON forbids inside strings; any other canonical text is JSON whose
    // canonical form is itself.
    if !canonical.text.contains(where: { $0 < 0x20 }) {
        let again = JSONCanonicalizer.canonicalize(canonical.text, limits: JSONLimits(maxDepth: limits.maxDepth, maxBytes: 1 << 24, maxValues: 1 << 24))
        invariant(again?.text == canonical.text, "canonical text is not canonical: '\(canonical.string)' → '\(again.map(\.string) ?? "not JSON")'")
        invariant(again?.value == canonical.value, "canonical text parses to another tree: '\(canonical.string)'")
    }

    if JSONCanonicalizer.addsNoPlainLiteral(to: body) {
        for run in plainRuns(canonical.text) {
            invariant(contains(body, run), "canonical form holds '\(String(decoding: run, as: UTF8.self))', the raw body does not, yet addsNoPlainLiteral is true")
        }
    }
}

private func depth(_ value: JSONValue) -> Int {
    if let items = value.arrayValue { return 1 + (items.map(depth).max() ?? 0) }
    if let members = value.objectMembers { return 1 + (members.map { depth($0.value) }.max() ?? 0) }
    return 0
}

/// Maximal runs of bytes that `JSONCanonicalizer.isPlainLiteral` accepts.
private func plainRuns(_ text: [UInt8]) -> [ArraySlice<UInt8>] {
    var runs: [ArraySlice<UInt8>] = []
    var start: Int?
    for i in 0...text.count {
        let plain = i < text.count && JSONCanonicalizer.isPlainLiteral([text[i]])
        if plain, start == nil { start = i }
        if !plain, let s = start {
            runs.append(text[s..<i])
            start = nil
        }
    }
    return runs
}

private func contains(_ haystack: [UInt8], _ needle: ArraySlice<UInt8>) -> Bool {
    guard !needle.isEmpty else { return true }
    guard needle.count <= haystack.count else { return false }
    for i in 0...(haystack.count - needle.count) where haystack[i] == needle.first {
        if haystack[i..<(i + needle.count)].elementsEqual(needle) { return true }
    }
    return false
}
