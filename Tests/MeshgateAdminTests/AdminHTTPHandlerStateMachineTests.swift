import NIOHTTP1
import Testing

@testable import MeshgateAdmin

@Suite("AdminHTTPHandler.StateMachine")
struct AdminHTTPHandlerStateMachineTests {
    private let head = HTTPRequestHead(version: .http1_1, method: .POST, uri: "/admin/reload")

    @Test func requestWithoutBodyIsRoutedAtEnd() {
        var machine = AdminHTTPHandler.StateMachine(maxBodyBytes: 10)
        #expect(machine.receivedHead(head) == .none)
        #expect(machine.receivedEnd() == .respond(head))
        // A pipelined second request is ignored: the response closes the connection.
        #expect(machine.receivedHead(head) == .none)
        #expect(machine.receivedEnd() == .none)
    }

    @Test(arguments: [([4, 6], true), ([10], true), ([5, 6], false), ([11], false)])
    func bodyLimit(chunks: [Int], accepted: Bool) {
        var machine = AdminHTTPHandler.StateMachine(maxBodyBytes: 10)
        _ = machine.receivedHead(head)
        var actions = chunks.map { machine.receivedBody(byteCount: $0) }
        actions.append(machine.receivedEnd())
        if accepted {
            #expect(actions.last == .respond(head))
            #expect(actions.dropLast().allSatisfy { $0 == .none })
        } else {
            #expect(actions.contains(.rejectTooLarge(head)))
            #expect(!actions.contains(.respond(head)))
        }
    }

    @Test func readTimeoutClosesAnUnfinishedRequestButNotOneBeingAnswered() {
        var idle = AdminHTTPHandler.StateMachine(maxBodyBytes: 10)
        #expect(idle.readTimedOut() == .close)

        var partial = AdminHTTPHandler.StateMachine(maxBodyBytes: 10)
        _ = partial.receivedHead(head)
        #expect(partial.readTimedOut() == .close)

        var answering = AdminHTTPHandler.StateMachine(maxBodyBytes: 10)
        _ = answering.receivedHead(head)
        _ = answering.receivedEnd()
        #expect(answering.readTimedOut() == .none)
    }
}
