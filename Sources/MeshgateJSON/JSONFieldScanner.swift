/// A resumable, lenient JSON tokenizer that reports each value with its key path, fed in chunks
/// split anywhere.
///
/// It does not validate: metering must read a provider's numbers even from a slightly odd body, and
/// the request side only needs byte offsets of a few members. Strings are skipped without copying
/// unless the visitor asks for their text; keys are interned into `JSONKey`. Nesting deeper than
/// `maxDepth` is skipped (counted, not reported), so memory stays bounded on hostile input.
package struct JSONFieldScanner: Sendable {
    /// Longest string text handed to a visitor; longer text is cut here.
    package static let maxCapture = 256
    /// Deepest nesting reported.
    package static let maxDepth = 128

    private struct Frame {
        var isObject: Bool
        var expectingKey: Bool
        var isEmpty: Bool
    }

    private enum Mode {
        case structure
        case string
        case escape
        case unicode(remaining: Int, value: UInt32)
        case number
        case literal
    }

    private var frames: [Frame] = []
    private var path = JSONPath()
    private var mode = Mode.structure
    private var hiddenDepth = 0
    /// Bytes consumed before the current chunk.
    package private(set) var offset = 0

    // The token in progress.
    private var tokenStart = 0
    private var stringIsKey = false
    private var stringWanted = false
    private var stringRawLength = 0
    private var textBuffer: [UInt8] = []
    private var numberValue = 0
    private var numberNegative = false
    private var numberIntegral = true
    private var literalFirst: UInt8 = 0

    /// Creates a scanner at the start of a document (allocates nothing until it sees input).
    package init() {}

    /// Returns to the start of a new document, keeping the buffers' capacity.
    package mutating func reset() {
        frames.removeAll(keepingCapacity: true)
        path.keys.removeAll(keepingCapacity: true)
        textBuffer.removeAll(keepingCapacity: true)
        mode = .structure
        hiddenDepth = 0
        offset = 0
    }

    /// Scans the next chunk of the document.
    package mutating func scan<V: JSONScanVisitor>(_ bytes: UnsafeRawBufferPointer, visitor: inout V) {
        let count = bytes.count
        var i = 0
        while i < count {
            let byte = bytes[i]
            switch mode {
            case .structure:
                i = structure(byte, at: i, visitor: &visitor)
            case .string:
                // Fast path: run to the next quote or backslash.
                let j = JSONLexer.firstQuoteOrBackslash(in: bytes, from: i)
                if collectsText {
                    for k in i..<j { appendText(bytes[k]) }
                }
                stringRawLength += j - i
                i = j
                guard i < count else { break }
                if bytes[i] == UInt8(ascii: "\"") {
                    endString(end: offset + i + 1, visitor: &visitor)
                } else {
                    stringRawLength += 1
                    mode = .escape
                }
                i += 1
            case .escape:
                stringRawLength += 1
                mode = .string
                if byte == UInt8(ascii: "u") {
                    mode = .unicode(remaining: 4, value: 0)
                } else {
                    // Lenient: an escape JSON does not define stands for its own byte.
                    appendText(JSONLexer.decodedEscape(byte) ?? byte)
                }
                i += 1
            case .unicode(let remaining, let value):
                stringRawLength += 1
                let next = value << 4 | UInt32(JSONLexer.hexValue(byte) ?? 0)
                if remaining == 1 {
                    // Only ASCII matters for keys and model names; anything else stands in as '?'.
                    appendText(next < 0x80 ? UInt8(next) : UInt8(ascii: "?"))
                    mode = .string
                } else {
                    mode = .unicode(remaining: remaining - 1, value: next)
                }
                i += 1
            case .number:
                switch byte {
                case UInt8(ascii: "0")...UInt8(ascii: "9"):
                    let (times, o1) = numberValue.multipliedReportingOverflow(by: 10)
                    let (sum, o2) = times.addingReportingOverflow(Int(byte - UInt8(ascii: "0")))
                    if o1 || o2 { numberIntegral = false } else { numberValue = sum }
                    i += 1
                case UInt8(ascii: "."), UInt8(ascii: "e"), UInt8(ascii: "E"), UInt8(ascii: "+"), UInt8(ascii: "-"):
                    numberIntegral = false
                    i += 1
                default:
                    endNumber(end: offset + i, visitor: &visitor)
                }
            case .literal:
                if (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) {
                    i += 1
                } else {
                    endLiteral(end: offset + i, visitor: &visitor)
                }
            }
        }
        offset += count
    }

    /// Scans the next chunk of the document.
    package mutating func scan<V: JSONScanVisitor>(_ bytes: some Collection<UInt8>, visitor: inout V) {
        let done: Void? = bytes.withContiguousStorageIfAvailable { buffer in
            scan(UnsafeRawBufferPointer(buffer), visitor: &visitor)
        }
        if done == nil {
            let copy = Array(bytes)
            copy.withUnsafeBytes { scan($0, visitor: &visitor) }
        }
    }

    /// Ends the document: a number or literal at the very end is reported now.
    package mutating func finish<V: JSONScanVisitor>(visitor: inout V) {
        switch mode {
        case .number: endNumber(end: offset, visitor: &visitor)
        case .literal: endLiteral(end: offset, visitor: &visitor)
        default: break
        }
    }

    // MARK: - Tokens

    private var collectsText: Bool { stringIsKey || stringWanted }

    private mutating func appendText(_ byte: UInt8) {
        guard collectsText, textBuffer.count < Self.maxCapture else { return }
        textBuffer.append(byte)
    }

    /// Handles one byte between tokens; returns the index of the next byte to look at.
    private mutating func structure<V: JSONScanVisitor>(_ byte: UInt8, at i: Int, visitor: inout V) -> Int {
        switch byte {
        case UInt8(ascii: "{"), UInt8(ascii: "["):
            let isObject = byte == UInt8(ascii: "{")
            if hiddenDepth > 0 || frames.count >= Self.maxDepth {
                hiddenDepth += 1
                return i + 1
            }
            beginValue()
            visitor.containerStart(path: path, isObject: isObject, offset: offset + i)
            frames.append(Frame(isObject: isObject, expectingKey: isObject, isEmpty: true))
            path.keys.append(isObject ? .other : .element)
        case UInt8(ascii: "}"), UInt8(ascii: "]"):
            if hiddenDepth > 0 {
                hiddenDepth -= 1
                return i + 1
            }
            guard let frame = frames.popLast() else { return i + 1 }
            path.keys.removeLast()
            visitor.containerEnd(path: path, isObject: frame.isObject, offset: offset + i, isEmpty: frame.isEmpty)
        case UInt8(ascii: ","):
            if hiddenDepth == 0, let last = frames.indices.last, frames[last].isObject {
                frames[last].expectingKey = true
            }
        case UInt8(ascii: "\""):
            stringIsKey = hiddenDepth == 0 && frames.last.map { $0.isObject && $0.expectingKey } ?? false
            if !stringIsKey {
                if hiddenDepth == 0 { beginValue() }
                stringWanted = hiddenDepth == 0 && visitor.wantsText(path: path)
            } else {
                stringWanted = false
            }
            tokenStart = offset + i
            stringRawLength = 0
            textBuffer.removeAll(keepingCapacity: true)
            mode = .string
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            if hiddenDepth == 0 { beginValue() }
            tokenStart = offset + i
            numberNegative = byte == UInt8(ascii: "-")
            numberValue = numberNegative ? 0 : Int(byte - UInt8(ascii: "0"))
            numberIntegral = true
            mode = .number
        case UInt8(ascii: "t"), UInt8(ascii: "f"), UInt8(ascii: "n"):
            if hiddenDepth == 0 { beginValue() }
            tokenStart = offset + i
            literalFirst = byte
            mode = .literal
        default:
            break  // whitespace, ':' and stray bytes
        }
        return i + 1
    }

    private mutating func beginValue() {
        guard let last = frames.indices.last else { return }
        frames[last].isEmpty = false
    }

    private mutating func endString<V: JSONScanVisitor>(end: Int, visitor: inout V) {
        mode = .structure
        if stringIsKey {
            if let last = frames.indices.last {
                frames[last].expectingKey = false
                path.keys[path.keys.count - 1] = JSONKey.lookup(textBuffer[...])
            }
            return
        }
        guard hiddenDepth == 0 else { return }
        let text = stringWanted ? String(decoding: textBuffer, as: UTF8.self) : nil
        visitor.scalar(path: path, value: .string(rawLength: stringRawLength, text: text), start: tokenStart, end: end)
    }

    private mutating func endNumber<V: JSONScanVisitor>(end: Int, visitor: inout V) {
        mode = .structure
        guard hiddenDepth == 0 else { return }
        let value = numberIntegral ? (numberNegative ? -numberValue : numberValue) : nil
        visitor.scalar(path: path, value: .number(value), start: tokenStart, end: end)
    }

    private mutating func endLiteral<V: JSONScanVisitor>(end: Int, visitor: inout V) {
        mode = .structure
        guard hiddenDepth == 0 else { return }
        let value: JSONScalar = switch literalFirst {
        case UInt8(ascii: "t"): .bool(true)
        case UInt8(ascii: "f"): .bool(false)
        default: .null
        }
        visitor.scalar(path: path, value: value, start: tokenStart, end: end)
    }
}
