@testable import MeshgateProxy
import NIOCore
import Testing

@Suite struct LogRateLimiterTests {
    @Test func letsOneLineThroughPerIntervalAndCountsTheRest() {
        let limiter = LogRateLimiter(interval: .seconds(10))
        let start = NIODeadline.uptimeNanoseconds(1_000_000_000)
        #expect(limiter.admit("explicit", now: start) == 0, "the first line goes out")
        for i in 1...50 {
            #expect(limiter.admit("explicit", now: start + .milliseconds(Int64(i) * 100)) == nil, "held back within the interval")
        }
        #expect(limiter.admit("explicit", now: start + .seconds(10)) == 50, "the next line says how many were held back")
        #expect(limiter.admit("explicit", now: start + .seconds(11)) == nil)
        #expect(limiter.admit("explicit", now: start + .seconds(25)) == 1)
        #expect(limiter.admit("explicit", now: start + .seconds(40)) == 0)
    }

    @Test func eachListenerHasItsOwnAllowance() {
        let limiter = LogRateLimiter(interval: .seconds(10))
        let start = NIODeadline.uptimeNanoseconds(1_000_000_000)
        #expect(limiter.admit("explicit", now: start) == 0)
        #expect(limiter.admit("explicit", now: start + .seconds(1)) == nil)
        #expect(limiter.admit("transparent", now: start + .seconds(1)) == 0, "another listener's noise does not silence this one")
        #expect(limiter.admit("ai", now: start + .seconds(2)) == 0)
    }
}
