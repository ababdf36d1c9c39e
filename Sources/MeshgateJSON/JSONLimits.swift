/// Bounds on the JSON parser, so that a hostile body costs bounded time, memory and stack.
public struct JSONLimits: Sendable, Hashable {
    /// Deepest nesting of arrays and objects accepted (a bare scalar is depth 0, `[]` is depth 1).
    /// Parsing is iterative at any depth, but freeing a `JSONValue` tree recurses once per level,
    /// so keep this in the hundreds.
    public var maxDepth: Int
    /// Largest input accepted, in bytes, before any transcoding.
    public var maxBytes: Int
    /// Most values (scalars and containers together) accepted in one document.
    public var maxValues: Int

    /// Creates limits; the defaults suit a request body capped at `inspection.max_body_bytes` (1 MiB).
    public init(maxDepth: Int = 128, maxBytes: Int = 1 << 20, maxValues: Int = 1 << 19) {
        self.maxDepth = maxDepth
        self.maxBytes = maxBytes
        self.maxValues = maxValues
    }

    /// Depth 128, 1 MiB, 524,288 values.
    public static let `default` = JSONLimits()
}
