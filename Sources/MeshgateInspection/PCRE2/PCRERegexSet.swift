import NIOCore

/// A named pattern as it appears in a DLP profile: `{ name: MCP Tools Call, regex: '…' }`.
public struct PCRENamedPattern: Sendable, Hashable {
    /// The name reported as a detection when the regex matches.
    public var name: String
    /// The PCRE2 pattern text.
    public var regex: String

    /// Creates a named pattern.
    public init(name: String, regex: String) {
        self.name = name
        self.regex = regex
    }
}

/// Many named regexes scanned over one buffer — the DLP-profile case: which of the profile's
/// patterns occur in this body? Each pattern is a separate compiled `PCRERegex`, so every match is
/// reported by name and one pattern hitting its limit does not hide the others' results.
public struct PCRERegexSet: Sendable {
    /// One compiled member of the set.
    public struct Member: Sendable {
        /// The pattern's name.
        public let name: String
        /// The compiled regex.
        public let regex: PCRERegex
    }

    /// The outcome of one scan.
    public struct Result: Sendable, Hashable {
        /// Names of the patterns that matched, in the set's order (a name listed twice appears twice).
        public var matchedNames: [String]
        /// Patterns that could not give an answer (limit exceeded); the body is not proven free of them.
        public var failures: [Failure]

        /// Whether any pattern matched.
        public var hasMatch: Bool { !matchedNames.isEmpty }
        /// Whether every pattern gave a yes/no answer.
        public var isComplete: Bool { failures.isEmpty }

        /// Creates a result.
        public init(matchedNames: [String] = [], failures: [Failure] = []) {
            self.matchedNames = matchedNames
            self.failures = failures
        }
    }

    /// A pattern whose match failed, with the reason.
    public struct Failure: Sendable, Hashable, CustomStringConvertible {
        /// The pattern's name.
        public var name: String
        /// Why it failed.
        public var error: PCREMatchError

        /// Creates a failure record.
        public init(name: String, error: PCREMatchError) {
            self.name = name
            self.error = error
        }

        /// "pattern \"NAME\": …".
        public var description: String { "pattern \"\(name)\": \(error)" }
    }

    /// The compiled members, in the order given.
    public let members: [Member]

    /// Compiles every pattern; the first one that does not compile is thrown, with its name set.
    public init(
        _ patterns: [PCRENamedPattern],
        options: PCRERegex.Options = [],
        limits: PCRERegex.Limits = .default
    ) throws(PCRECompileError) {
        var members: [Member] = []
        members.reserveCapacity(patterns.count)
        for pattern in patterns {
            do {
                members.append(Member(name: pattern.name, regex: try PCRERegex(pattern.regex, options: options, limits: limits)))
            } catch {
                var named = error
                named.patternName = pattern.name
                throw named
            }
        }
        self.members = members
    }

    /// Names of the members, in order.
    public var names: [String] { members.map(\.name) }

    /// Scans `bytes` with every member (or until the first match when `stopAtFirstMatch`).
    public func scan(_ bytes: UnsafeRawBufferPointer, stopAtFirstMatch: Bool = false) -> Result {
        var result = Result()
        for member in members {
            do {
                if try member.regex.matches(in: bytes) {
                    result.matchedNames.append(member.name)
                    if stopAtFirstMatch { break }
                }
            } catch {
                result.failures.append(Failure(name: member.name, error: error))
            }
        }
        return result
    }

    /// Scans `bytes` with every member (or until the first match when `stopAtFirstMatch`).
    public func scan(_ bytes: [UInt8], stopAtFirstMatch: Bool = false) -> Result {
        bytes.withUnsafeBytes { scan($0, stopAtFirstMatch: stopAtFirstMatch) }
    }

    /// Scans the readable bytes of `buffer` with every member.
    public func scan(_ buffer: ByteBuffer, stopAtFirstMatch: Bool = false) -> Result {
        buffer.withUnsafeReadableBytes { scan($0, stopAtFirstMatch: stopAtFirstMatch) }
    }

    /// Scans the UTF-8 of `string` with every member.
    public func scan(_ string: String, stopAtFirstMatch: Bool = false) -> Result {
        var string = string
        return string.withUTF8 { scan(UnsafeRawBufferPointer($0), stopAtFirstMatch: stopAtFirstMatch) }
    }

    /// Names of the members that match `bytes`; throws the first failure instead of reporting it.
    public func matchingNames(in bytes: UnsafeRawBufferPointer) throws(PCREMatchError) -> [String] {
        let result = scan(bytes)
        if let failure = result.failures.first { throw failure.error }
        return result.matchedNames
    }

    /// Names of the members that match `bytes`; throws the first failure instead of reporting it.
    public func matchingNames(in bytes: [UInt8]) throws(PCREMatchError) -> [String] {
        try bytes.withUnsafeBytes { raw in
            Swift.Result { () throws(PCREMatchError) in try matchingNames(in: raw) }
        }.get()
    }

    /// Names of the members that match the readable bytes of `buffer`; throws the first failure.
    public func matchingNames(in buffer: ByteBuffer) throws(PCREMatchError) -> [String] {
        try buffer.withUnsafeReadableBytes { raw in
            Swift.Result { () throws(PCREMatchError) in try matchingNames(in: raw) }
        }.get()
    }
}
