#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Substring search over request bytes, for the cheap "could this body matter?" checks that run
/// on every inspected body before anything costlier (a tree parse, a re-parse).
///
/// libc's `memchr` finds candidates at memory speed, so it is pointed at the needle's least common
/// byte in JSON and prose (a `j` rather than a `"`); each candidate is then compared in full.
public enum ByteSearch {
    /// Whether `needle` occurs in `haystack`. An empty needle occurs everywhere.
    public static func contains(_ haystack: UnsafeRawBufferPointer, _ needle: [UInt8]) -> Bool {
        contains(haystack, needle, anchor: needle.isEmpty ? 0 : anchorIndex(needle))
    }

    /// As `contains`, with the needle's anchor byte already chosen.
    static func contains(_ haystack: UnsafeRawBufferPointer, _ needle: [UInt8], anchor: Int) -> Bool {
        guard !needle.isEmpty else { return true }
        guard haystack.count >= needle.count, let base = haystack.baseAddress else { return false }
        let anchorByte = Int32(needle[anchor])
        // The needle can start at 0...lastStart, so its anchor byte sits at anchor...lastAnchor.
        let lastAnchor = haystack.count - needle.count + anchor
        var from = anchor
        return needle.withUnsafeBytes { needleBytes in
            while from <= lastAnchor {
                guard let hit = memchr(base + from, anchorByte, lastAnchor - from + 1) else { return false }
                let p = base.distance(to: UnsafeRawPointer(hit))
                if memcmp(base + (p - anchor), needleBytes.baseAddress!, needle.count) == 0 { return true }
                from = p + 1
            }
            return false
        }
    }

    /// The offset of the first `byte` in `haystack` at or after `from`, or nil.
    public static func firstIndex(of byte: UInt8, in haystack: UnsafeRawBufferPointer, from: Int = 0) -> Int? {
        guard from < haystack.count, let base = haystack.baseAddress,
              let hit = memchr(base + from, Int32(byte), haystack.count - from) else { return nil }
        return base.distance(to: UnsafeRawPointer(hit))
    }

    /// Whether any of `needles` occurs in `haystack` (see `NeedleSet`; build one to search often).
    public static func containsAny(_ haystack: UnsafeRawBufferPointer, _ needles: [[UInt8]]) -> Bool {
        NeedleSet(needles).occurs(in: haystack)
    }

    /// Whether any of `needles` occurs in `haystack`.
    public static func containsAny(_ haystack: [UInt8], _ needles: [[UInt8]]) -> Bool {
        haystack.withUnsafeBytes { containsAny($0, needles) }
    }

    /// Whether `needle` occurs in `haystack`.
    public static func contains(_ haystack: [UInt8], _ needle: [UInt8]) -> Bool {
        haystack.withUnsafeBytes { contains($0, needle) }
    }

    /// The index of the needle byte least likely to occur in a body.
    static func anchorIndex(_ needle: [UInt8]) -> Int {
        var best = 0
        for i in needle.indices where commonness(needle[i]) < commonness(needle[best]) { best = i }
        return best
    }

    /// A rough rank of how common a byte is in JSON carrying English text: higher is more common;
    /// bytes not listed (digits, capitals, rare punctuation) rank 0.
    private static func commonness(_ byte: UInt8) -> Int {
        let mostCommonFirst: StaticString = " \"etaoinsrhldcu:,mfpgwybvk{}[]jxqz"
        return mostCommonFirst.withUTF8Buffer { ranks in
            ranks.firstIndex(of: byte).map { ranks.count - $0 } ?? 0
        }
    }

    /// Needles searched for together, prepared once: each one's anchor byte is chosen, and needles
    /// that share their first two bytes (`ghp`, `gho`, `ghu`…) are ruled out together by one
    /// search for those two bytes.
    public struct NeedleSet: Sendable, Hashable {
        private struct Needle: Sendable, Hashable {
            let bytes: [UInt8]
            let anchor: Int
            init(_ bytes: [UInt8]) {
                self.bytes = bytes
                anchor = bytes.isEmpty ? 0 : ByteSearch.anchorIndex(bytes)
            }
        }

        private struct Group: Sendable, Hashable {
            /// The shared two-byte prefix, when the group has more than one needle.
            let prefix: Needle?
            var needles: [Needle]
        }

        private let groups: [Group]
        /// The needles, in the order given.
        public let needles: [[UInt8]]

        /// Prepares `needles` for searching.
        public init(_ needles: [[UInt8]]) {
            self.needles = needles
            var groups: [Group] = []
            var index: [[UInt8]: Int] = [:]
            for needle in needles {
                let key = Array(needle.prefix(2))
                if let at = index[key] {
                    groups[at].needles.append(Needle(needle))
                } else {
                    index[key] = groups.count
                    groups.append(Group(prefix: nil, needles: [Needle(needle)]))
                }
            }
            self.groups = groups.map { group in
                group.needles.count > 1 ? Group(prefix: Needle(Array(group.needles[0].bytes.prefix(2))), needles: group.needles) : group
            }
        }

        /// Whether any of the needles occurs in `haystack`.
        public func occurs(in haystack: UnsafeRawBufferPointer) -> Bool {
            groups.contains { group in
                if let prefix = group.prefix, !ByteSearch.contains(haystack, prefix.bytes, anchor: prefix.anchor) { return false }
                return group.needles.contains { ByteSearch.contains(haystack, $0.bytes, anchor: $0.anchor) }
            }
        }

        /// Whether any of the needles occurs in `haystack`.
        public func occurs(in haystack: [UInt8]) -> Bool {
            haystack.withUnsafeBytes { occurs(in: $0) }
        }
    }
}
