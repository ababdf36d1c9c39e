import NIOCore

/// Monotonic time for TTLs, injectable so tests can move it.
public protocol DNSClock: Sendable {
    /// Nanoseconds on a monotonic clock.
    func nowNanoseconds() -> UInt64
}

/// The process's monotonic clock.
public struct SystemDNSClock: DNSClock {
    /// Creates the clock.
    public init() {}
    /// `NIODeadline.now()`.
    public func nowNanoseconds() -> UInt64 { NIODeadline.now().uptimeNanoseconds }
}
