// TEMPORARY: replaced by the translation library (Sources/MeshgateAI/Translation) at merge.
import NIOCore

public struct TranslationError: Error, Sendable, CustomStringConvertible {
    public var field: String?
    public var message: String
    public var description: String { message }
}

public enum RequestTranslator {
    public static func translate(_ body: [UInt8], from: LLMFormat, to: LLMFormat, model: String) throws(TranslationError) -> [UInt8] {
        guard from == to else { throw TranslationError(field: nil, message: "translation is not available yet") }
        return body
    }
}

public enum ResponseTranslator {
    public static func translate(_ body: [UInt8], from: LLMFormat, to: LLMFormat, model: String) throws(TranslationError) -> [UInt8] { body }
    public static func translateError(_ body: [UInt8], status: Int, from: LLMFormat, to: LLMFormat) -> [UInt8] { body }
}

public struct StreamTranslator: Sendable {
    public init(from: LLMFormat, to: LLMFormat, model: String) {}
    public mutating func translate(_ chunk: ByteBuffer) -> ByteBuffer { chunk }
    public mutating func finish() -> ByteBuffer { ByteBuffer() }
}
