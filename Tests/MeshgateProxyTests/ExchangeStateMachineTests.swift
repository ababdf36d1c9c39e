import MeshgateCore
import NIOCore
import NIOHTTP1
import Testing

@testable import MeshgateProxy

/// The connection lifecycle, driven with plain values: every stage against every event.
@Suite struct ExchangeStateMachineTests {
    final class Exchange {}
    final class Upstream {}
    typealias Machine = ExchangeStateMachine<Exchange, Upstream>

    static let t0 = NIODeadline.uptimeNanoseconds(1_000_000_000)
    static let timeout = TimeAmount.seconds(30)
    static let head = HTTPServerRequestPart.head(HTTPRequestHead(version: .http1_1, method: .GET, uri: "/"))
    static let body = HTTPServerRequestPart.body(ByteBuffer(string: "x"))
    static let end = HTTPServerRequestPart.end(nil)

    /// Names each stage so tables can list them.
    enum Stage: String, CaseIterable, CustomTestStringConvertible {
        case idle, connecting, admitting, inspecting, forwarding, localResponse, localResponseClosing, connectPending, handedOff, closed
        var testDescription: String { rawValue }

        func machine() -> (Machine, Exchange) {
            var m = Machine(now: ExchangeStateMachineTests.t0)
            let e = Exchange()
            if self != .idle { _ = m.beginExchange(decoderStops: false) }
            switch self {
            case .idle: break
            case .connecting: m.enter(.connecting(e))
            case .admitting: m.enter(.admitting(e))
            case .inspecting: m.enter(.inspecting(e))
            case .forwarding: m.enter(.forwarding(e, Upstream()))
            case .localResponse: m.enter(.localResponse(e, closeAfter: false))
            case .localResponseClosing: m.enter(.localResponse(e, closeAfter: true))
            case .connectPending: m.enter(.connectPending(e, HostPort(host: "example.com", port: 443)))
            case .handedOff: m.handOff()
            case .closed: _ = m.close()
            }
            return (m, e)
        }
    }

    // MARK: pipelining

    @Test(arguments: Stage.allCases)
    func aHeadWaitsOnlyWhileAResponseIsGoingOut(_ stage: Stage) {
        var (m, _) = stage.machine()
        let delivered = m.received(Self.head)
        let waits = stage == .forwarding || stage == .localResponse || stage == .localResponseClosing
        #expect((delivered == nil) == waits)
        #expect(m.hasDeferredParts == waits)
    }

    @Test func bodyAndEndFollowADeferredHeadInOrder() {
        var (m, _) = Stage.forwarding.machine()
        do { let v = m.received(Self.head); #expect(v == nil) }
        do { let v = m.received(Self.body); #expect(v == nil, "a part behind a deferred head waits too") }
        do { let v = m.received(Self.end); #expect(v == nil) }
        _ = m.becameIdle(now: Self.t0, headerTimeout: Self.timeout)
        do { let v = m.beginReplay(); #expect(v) }
        do { let v = m.nextDeferredPart(); #expect(v == Self.head) }
        // The replayed head starts an exchange: its body is delivered, the next head is not.
        do { let v = m.beginExchange(decoderStops: false); #expect(v) }
        m.enter(.inspecting(Exchange()))
        do { let v = m.nextDeferredPart(); #expect(v == Self.body) }
        do { let v = m.nextDeferredPart(); #expect(v == Self.end) }
        do { let v = m.nextDeferredPart(); #expect(v == nil) }
        m.endReplay()
    }

    @Test func aSecondDeferredHeadWaitsForTheFirstExchangeToEnd() {
        var (m, _) = Stage.forwarding.machine()
        for part in [Self.head, Self.end, Self.head, Self.end] { #expect(m.received(part) == nil) }
        _ = m.becameIdle(now: Self.t0, headerTimeout: Self.timeout)
        do { let v = m.beginReplay(); #expect(v) }
        do { let v = m.nextDeferredPart(); #expect(v == Self.head) }
        _ = m.beginExchange(decoderStops: false)
        m.enter(.forwarding(Exchange(), Upstream()))
        do { let v = m.nextDeferredPart(); #expect(v == Self.end) }
        do { let v = m.nextDeferredPart(); #expect(v == nil, "the next head waits for this exchange's answer") }
        m.endReplay()
        do { let v = m.afterReplay(); #expect(v == .none) }
        _ = m.becameIdle(now: Self.t0, headerTimeout: Self.timeout)
        do { let v = m.beginReplay(); #expect(v) }
        do { let v = m.nextDeferredPart(); #expect(v == Self.head) }
    }

    @Test func aReplayDoesNotNestWhenAnExchangeEndsDuringIt() {
        var (m, _) = Stage.forwarding.machine()
        _ = m.received(Self.head)
        _ = m.becameIdle(now: Self.t0, headerTimeout: Self.timeout)
        do { let v = m.beginReplay(); #expect(v) }
        do { let v = m.beginReplay(); #expect(!v, "an exchange answered while its head is replayed does not start a second replay") }
        m.endReplay()
        do { let v = m.beginReplay(); #expect(v) }
    }

    @Test func nothingToReplayIsNoReplay() {
        var (m, _) = Stage.idle.machine()
        do { let v = m.beginReplay(); #expect(!v) }
    }

    @Test(arguments: Stage.allCases)
    func aNewHeadIsAcceptedOnlyWhenIdle(_ stage: Stage) {
        var (m, _) = stage.machine()
        do { let v = m.beginExchange(decoderStops: false); #expect(v == (stage == .idle)) }
    }

    // MARK: stages

    @Test(arguments: [Stage.handedOff, .closed])
    func aTunnelOrAClosedConnectionKeepsItsState(_ stage: Stage) {
        var (m, e) = stage.machine()
        m.enter(.forwarding(e, Upstream()))
        m.enter(.localResponse(e, closeAfter: false))
        #expect(m.current == nil)
        #expect(m.isHandedOff == (stage == .handedOff))
        #expect(m.isClosed == (stage == .closed))
        do { let v = m.becameIdle(now: Self.t0, headerTimeout: Self.timeout); #expect(v == .init(), "a late exchange end cannot revive it") }
        #expect(!m.isIdle)
    }

    @Test func currentNamesTheExchangeInEveryBusyStage() {
        for stage in Stage.allCases {
            let (m, e) = stage.machine()
            let busy = ![.idle, .handedOff, .closed].contains(stage)
            #expect(m.isCurrent(e) == busy, "\(stage)")
        }
    }

    @Test func closeHappensOnce() {
        var (m, _) = Stage.forwarding.machine()
        do { let v = m.close(); #expect(v) }
        do { let v = m.close(); #expect(!v) }
        #expect(m.isClosed)
    }

    @Test func losingTheClientReturnsWhatWasInProgressAndForgetsTheQueue() {
        var (m, e) = Stage.forwarding.machine()
        _ = m.received(Self.head)
        _ = m.malformedRequest(.invalidMethod, requestEnded: true)
        guard case .forwarding(let lost, _) = m.connectionLost() else {
            Issue.record("the forwarding exchange is handed back to be settled")
            return
        }
        #expect(lost === e)
        #expect(m.isClosed)
        #expect(!m.hasDeferredParts)
        do { let v = m.afterReplay(); #expect(v == .none, "nothing is answered on a connection that is gone") }
    }

    // MARK: between exchanges

    @Test func aStoppedDecoderIsRestartedAtTheNextIdle() {
        var m = Machine(now: Self.t0)
        _ = m.beginExchange(decoderStops: true)
        m.enter(.localResponse(Exchange(), closeAfter: false))
        do { let v = m.becameIdle(now: Self.t0, headerTimeout: Self.timeout); #expect(v.restartDecoder) }
        _ = m.beginExchange(decoderStops: false)
        m.enter(.localResponse(Exchange(), closeAfter: false))
        do { let v = m.becameIdle(now: Self.t0, headerTimeout: Self.timeout); #expect(!v.restartDecoder, "only once") }
    }

    @Test func aMalformedRequestBehindAnAnsweredOneIsAnsweredAfterIt() {
        var (m, _) = Stage.forwarding.machine()
        do { let v = m.malformedRequest(.invalidMethod, requestEnded: true); #expect(v == .deferred) }
        _ = m.becameIdle(now: Self.t0, headerTimeout: Self.timeout)
        do { let v = m.afterReplay(); #expect(v == .answerMalformed(.invalidMethod)) }
        do { let v = m.afterReplay(); #expect(v == .none, "answered once") }
    }

    @Test func aMalformedRequestBehindDeferredPartsWaitsForThem() {
        var (m, _) = Stage.forwarding.machine()
        _ = m.received(Self.head)
        _ = m.received(Self.end)
        _ = m.becameIdle(now: Self.t0, headerTimeout: Self.timeout)
        // The error arrives while the pipelined request is still queued.
        do { let v = m.malformedRequest(.invalidMethod, requestEnded: false); #expect(v == .deferred) }
        do { let v = m.afterReplay(); #expect(v == .none, "not before the queued request") }
    }

    @Test(arguments: Stage.allCases)
    func whatAMalformedRequestMeansAtEachStage(_ stage: Stage) {
        var (m, _) = stage.machine()
        let cut = m.malformedRequest(.invalidMethod, requestEnded: false)
        let expected: Machine.MalformedAction = switch stage {
        case .idle: .answer
        case .connecting, .admitting, .inspecting, .forwarding: .refuseCurrent
        case .localResponse, .localResponseClosing, .connectPending, .handedOff, .closed: .close
        }
        #expect(cut == expected)
    }

    @Test func halfCloseWhenIdleClosesOnceTheQueueIsAnswered() {
        var (m, _) = Stage.forwarding.machine()
        _ = m.received(Self.head)
        _ = m.received(Self.end)
        do { let v = m.clientClosedInput(requestEnded: true, isLLMCall: false); #expect(v == .none, "the forwarded response is still owed") }
        _ = m.becameIdle(now: Self.t0, headerTimeout: Self.timeout)
        do { let v = m.afterReplay(); #expect(v == .none, "the queued request is answered first") }
        do { let v = m.beginReplay(); #expect(v) }
        while m.nextDeferredPart() != nil {}
        m.endReplay()
        _ = m.becameIdle(now: Self.t0, headerTimeout: Self.timeout)
        do { let v = m.afterReplay(); #expect(v == .close) }
    }

    @Test(arguments: Stage.allCases, [false, true])
    func whatAHalfCloseMeansAtEachStage(_ stage: Stage, requestEnded: Bool) {
        var (m, _) = stage.machine()
        let plain = m.clientClosedInput(requestEnded: requestEnded, isLLMCall: false)
        var (llm, _) = stage.machine()
        let call = llm.clientClosedInput(requestEnded: requestEnded, isLLMCall: true)
        switch stage {
        case .idle, .connectPending:
            #expect(plain == .close && call == .close)
        case .connecting, .admitting, .inspecting, .forwarding:
            #expect(plain == (requestEnded ? .none : .close), "a whole request is still answered")
            #expect(call == (requestEnded ? .abandonAndClose : .close), "an LLM caller that left is not waited for")
        case .localResponse, .localResponseClosing:
            #expect(plain == (requestEnded ? .none : .endLocalRequest))
            #expect(call == plain)
        case .handedOff, .closed:
            #expect(plain == .none && call == .none)
        }
        #expect(m.clientInputClosed)
    }

    // MARK: flow control

    @Test func aReadAskedForWhileHeldIsIssuedOnRelease() {
        var m = Machine(now: Self.t0)
        do { let v = m.readRequested(); #expect(v) }
        do { let v = m.setReadsHeld(true); #expect(!v) }
        do { let v = m.readRequested(); #expect(!v) }
        do { let v = m.setReadsHeld(true); #expect(!v, "still held") }
        do { let v = m.setReadsHeld(false); #expect(v) }
        do { let v = m.setReadsHeld(false); #expect(!v, "issued once") }
        do { let v = m.readRequested(); #expect(v) }
    }

    @Test func becomingIdleReleasesHeldReads() {
        var (m, _) = Stage.connecting.machine()
        _ = m.setReadsHeld(true)
        _ = m.readRequested()
        do { let v = m.becameIdle(now: Self.t0, headerTimeout: Self.timeout); #expect(v.read) }
        do { let v = m.readRequested(); #expect(v) }
    }

    // MARK: header timer

    @Test func theHeaderCheckIsScheduledOnceAndWaitsOutTheRest() {
        var m = Machine(now: Self.t0)
        do { let v = m.armHeaderCheck(now: Self.t0, headerTimeout: Self.timeout); #expect(v == Self.t0 + Self.timeout) }
        do { let v = m.armHeaderCheck(now: Self.t0, headerTimeout: Self.timeout); #expect(v == nil, "one pending check") }
        // An exchange ran and ended 10s in: the check at 30s finds 20s of idleness and waits the rest.
        _ = m.beginExchange(decoderStops: false)
        m.enter(.forwarding(Exchange(), Upstream()))
        m.exchangeRecorded()
        let tenSeconds = Self.t0 + .seconds(10)
        do { let v = m.becameIdle(now: tenSeconds, headerTimeout: Self.timeout); #expect(v.scheduleHeaderCheck == nil) }
        do { let v = m.headerCheckDue(now: Self.t0 + Self.timeout, headerTimeout: Self.timeout); #expect(v == .recheck(at: tenSeconds + Self.timeout)) }
        do { let v = m.headerCheckDue(now: tenSeconds + Self.timeout, headerTimeout: Self.timeout); #expect(v == .timedOut(explain: false), "after a served request the connection just closes") }
    }

    @Test func aClientThatNeverSentAHeadIsToldWhy() {
        var m = Machine(now: Self.t0)
        _ = m.armHeaderCheck(now: Self.t0, headerTimeout: Self.timeout)
        do { let v = m.headerCheckDue(now: Self.t0 + Self.timeout, headerTimeout: Self.timeout); #expect(v == .timedOut(explain: true)) }
    }

    @Test(arguments: Stage.allCases.filter { $0 != .idle })
    func aCheckThatFindsTheConnectionBusyLapses(_ stage: Stage) {
        var (m, _) = stage.machine()
        _ = m.armHeaderCheck(now: Self.t0, headerTimeout: Self.timeout)
        do { let v = m.headerCheckDue(now: Self.t0 + .seconds(3600), headerTimeout: Self.timeout); #expect(v == .lapse) }
        if !m.isClosed, !m.isHandedOff {
            do { let v = m.becameIdle(now: Self.t0, headerTimeout: Self.timeout); #expect(v.scheduleHeaderCheck != nil, "the next idle period arms a new one") }
        }
    }

    @Test func aCancelledCheckIsArmedAgain() {
        var m = Machine(now: Self.t0)
        _ = m.armHeaderCheck(now: Self.t0, headerTimeout: Self.timeout)
        m.headerCheckCancelled()
        do { let v = m.armHeaderCheck(now: Self.t0, headerTimeout: Self.timeout); #expect(v != nil) }
    }
}
