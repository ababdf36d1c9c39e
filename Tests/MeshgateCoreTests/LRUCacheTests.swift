import Testing

@testable import MeshgateCore

@Suite struct LRUCacheTests {
    enum Op: Sendable, CustomStringConvertible {
        case set(String, Int)
        case get(String)

        var description: String {
            switch self {
            case .set(let k, let v): "set \(k)=\(v)"
            case .get(let k): "get \(k)"
            }
        }
    }

    struct Case: Sendable, CustomTestStringConvertible {
        var name: String
        var capacity: Int
        var ops: [Op]
        /// Keys from most to least recently used afterwards.
        var recency: [String]
        /// Keys evicted, in order.
        var evicted: [String]
        var testDescription: String { name }
    }

    static let cases: [Case] = [
        Case(
            name: "fills without evicting",
            capacity: 3,
            ops: [.set("a", 1), .set("b", 2), .set("c", 3)],
            recency: ["c", "b", "a"],
            evicted: []
        ),
        Case(
            name: "evicts the oldest insert",
            capacity: 2,
            ops: [.set("a", 1), .set("b", 2), .set("c", 3)],
            recency: ["c", "b"],
            evicted: ["a"]
        ),
        Case(
            name: "a get protects from eviction",
            capacity: 2,
            ops: [.set("a", 1), .set("b", 2), .get("a"), .set("c", 3)],
            recency: ["c", "a"],
            evicted: ["b"]
        ),
        Case(
            name: "a set of an existing key refreshes it",
            capacity: 2,
            ops: [.set("a", 1), .set("b", 2), .set("a", 10), .set("c", 3)],
            recency: ["c", "a"],
            evicted: ["b"]
        ),
        Case(
            name: "a miss changes nothing",
            capacity: 2,
            ops: [.set("a", 1), .set("b", 2), .get("zzz"), .set("c", 3)],
            recency: ["c", "b"],
            evicted: ["a"]
        ),
        Case(
            name: "capacity one keeps the last",
            capacity: 1,
            ops: [.set("a", 1), .set("b", 2), .get("a"), .set("c", 3)],
            recency: ["c"],
            evicted: ["a", "b"]
        ),
        Case(
            name: "capacity below one is taken as one",
            capacity: 0,
            ops: [.set("a", 1), .set("b", 2)],
            recency: ["b"],
            evicted: ["a"]
        ),
        Case(
            name: "evictions follow recency through churn",
            capacity: 3,
            ops: [
                .set("a", 1), .set("b", 2), .set("c", 3), .get("a"), .get("b"), .set("d", 4), .get("a"),
                .set("e", 5), .set("f", 6),
            ],
            recency: ["f", "e", "a"],
            evicted: ["c", "b", "d"]
        ),
        Case(
            name: "getting the newest keeps order",
            capacity: 3,
            ops: [.set("a", 1), .set("b", 2), .get("b"), .get("b"), .set("c", 3), .set("d", 4)],
            recency: ["d", "c", "b"],
            evicted: ["a"]
        ),
    ]

    @Test(arguments: cases)
    func evictionOrder(_ testCase: Case) {
        var cache = LRUCache<String, Int>(capacity: testCase.capacity)
        var evicted: [String] = []
        for op in testCase.ops {
            switch op {
            case .set(let key, let value):
                if let gone = cache.set(key, value) { evicted.append(gone.key) }
            case .get(let key):
                _ = cache.get(key)
            }
        }
        #expect(cache.keysByRecency == testCase.recency)
        #expect(evicted == testCase.evicted)
        #expect(cache.count == testCase.recency.count)
        for key in evicted where !testCase.recency.contains(key) {
            #expect(cache.peek(key) == nil)
        }
    }

    @Test func getReturnsTheLatestValue() {
        var cache = LRUCache<String, Int>(capacity: 2)
        cache.set("a", 1)
        cache.set("a", 2)
        #expect(cache.get("a") == 2)
        #expect(cache.get("b") == nil)
        #expect(cache.count == 1)
        #expect(cache.capacity == 2)
    }

    @Test func staysConsistentUnderManyOperations() {
        // A reference model: an array ordered from most to least recent.
        var cache = LRUCache<Int, Int>(capacity: 8)
        var model: [(Int, Int)] = []
        var rng = SplitMix(seed: 42)
        for step in 0..<5_000 {
            let key = Int(rng.next() % 20)
            if rng.next() % 3 == 0 {
                let expected = model.firstIndex { $0.0 == key }.map { model[$0].1 }
                #expect(cache.get(key) == expected)
                if let i = model.firstIndex(where: { $0.0 == key }) { model.insert(model.remove(at: i), at: 0) }
            } else {
                cache.set(key, step)
                if let i = model.firstIndex(where: { $0.0 == key }) { model.remove(at: i) }
                model.insert((key, step), at: 0)
                if model.count > 8 { model.removeLast() }
            }
        }
        #expect(cache.keysByRecency == model.map(\.0))
    }
}

/// A tiny deterministic generator so the model test is reproducible.
struct SplitMix: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
