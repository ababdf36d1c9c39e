extension StringProtocol {
    /// Whether `needle`, lowercase ASCII, occurs in this string with ASCII letters compared
    /// case-insensitively. For header values on the request path, where `lowercased().contains`
    /// would copy the value and go through Foundation.
    public func containsASCIICaseInsensitive(_ needle: String) -> Bool {
        // Native strings hand out their bytes without a copy; others are copied once.
        let found = needle.utf8.withContiguousStorageIfAvailable { pattern in
            utf8.withContiguousStorageIfAvailable { Self.search(pattern, in: $0) }
        }
        return (found ?? nil) ?? Self.search(Array(needle.utf8), in: Array(utf8))
    }

    /// Whether this string starts with `prefix`, lowercase ASCII, ignoring ASCII case.
    public func hasASCIICaseInsensitivePrefix(_ prefix: String) -> Bool {
        var bytes = utf8.makeIterator()
        for expected in prefix.utf8 {
            guard let byte = bytes.next(), Self.folded(byte) == expected else { return false }
        }
        return true
    }

    private static func search<P: RandomAccessCollection<UInt8>, H: RandomAccessCollection<UInt8>>(_ pattern: P, in hay: H) -> Bool
    where P.Index == Int, H.Index == Int {
        guard !pattern.isEmpty else { return true }
        guard hay.count >= pattern.count else { return false }
        outer: for start in 0...(hay.count - pattern.count) {
            for (offset, expected) in pattern.enumerated() where folded(hay[hay.startIndex + start + offset]) != expected {
                continue outer
            }
            return true
        }
        return false
    }

    private static func folded(_ byte: UInt8) -> UInt8 {
        byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z") ? byte | 0x20 : byte
    }
}
