@testable import MeshgateProxy
import Testing

@Suite struct ReadAheadWindowTests {
    @Test func opensOnceBetweenARequestsEndAndItsResponsesEnd() {
        var window = ReadAheadWindow()
        var opened: Bool
        opened = window.takeReadAhead()
        #expect(!opened, "nothing has arrived yet")
        window.requestHead()
        opened = window.takeReadAhead()
        #expect(!opened, "the body may still be streaming: its back-pressure is not ours")
        window.requestEnd()
        opened = window.takeReadAhead()
        #expect(opened)
        opened = window.takeReadAhead()
        #expect(!opened, "one read per window bounds what a pipelining client gets buffered")
        window.responseEnd()
        opened = window.takeReadAhead()
        #expect(!opened, "answered: the serialising handler reads again itself")
        window.requestHead()
        window.requestEnd()
        opened = window.takeReadAhead()
        #expect(opened, "the next exchange opens a new window")
    }

    @Test func aPipelinedRequestClosesTheWindow() {
        var window = ReadAheadWindow()
        var opened: Bool
        window.requestHead()
        window.requestEnd()
        window.requestHead()
        opened = window.takeReadAhead()
        #expect(!opened)
        window.requestEnd()
        opened = window.takeReadAhead()
        #expect(!opened, "two requests wait for answers")
        window.responseEnd()
        opened = window.takeReadAhead()
        #expect(opened, "one left unanswered and nothing after it")
    }

    @Test func anEarlyResponseLeavesNoWindow() {
        var window = ReadAheadWindow()
        var opened: Bool
        window.requestHead()
        window.responseEnd()  // e.g. a 403 before the body finished
        window.requestEnd()
        opened = window.takeReadAhead()
        #expect(!opened)
    }
}
