/// A decoded body: the bytes up to the cap, and whether more would have followed.
public struct BodyDecodingResult: Sendable, Hashable {
    /// The decoded bytes, at most `maxDecodedBytes` of them.
    public var bytes: [UInt8]
    /// True when decoding stopped at `maxDecodedBytes` with more output still to come.
    public var truncated: Bool

    /// Creates a result.
    public init(bytes: [UInt8], truncated: Bool) {
        self.bytes = bytes
        self.truncated = truncated
    }
}
