#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Unpredictable DNS query IDs (they are what stands between a forwarder and a spoofed answer,
/// RFC 5452), drawn from the system CSPRNG 128 at a time (`arc4random_buf`: one `getrandom` for
/// all of them): `UInt16.random` made one system call per forwarded query.
struct RandomQueryIDs {
    private var buffer = [UInt16](repeating: 0, count: 128)
    private var used = 128

    mutating func next() -> UInt16 {
        if used == buffer.count { refill() }
        defer { used += 1 }
        return buffer[used]
    }

    private mutating func refill() {
        used = 0
        #if canImport(Glibc) || canImport(Darwin)
        buffer.withUnsafeMutableBytes { bytes in arc4random_buf(bytes.baseAddress!, bytes.count) }
        #else
        var generator = SystemRandomNumberGenerator()
        for i in buffer.indices { buffer[i] = generator.next() }
        #endif
    }
}
