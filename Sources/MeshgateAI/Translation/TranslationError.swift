/// Why a body could not be translated between the OpenAI and Anthropic formats. The description is
/// the text of the 400 answered to the caller, naming the field and what to do about it.
public struct TranslationError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The offending field as a path into the body (`messages[2].content[0].type`), when one is to blame.
    public var field: String?
    /// What is wrong.
    public var message: String

    /// Creates an error.
    public init(field: String?, message: String) {
        self.field = field
        self.message = message
    }

    /// The 400 body text.
    public var description: String { message }

    /// A field (or a value of it) the target format has no counterpart for.
    static func unsupported(_ field: String, to format: LLMFormat, value: String? = nil) -> TranslationError {
        let what = value.map { "field '\(field)' with value \($0)" } ?? "field '\(field)'"
        return TranslationError(field: field, message: "\(what) cannot be translated to the \(format.rawValue) format; remove it")
    }

    /// A field whose value is malformed.
    static func invalid(_ field: String, _ problem: String) -> TranslationError {
        TranslationError(field: field, message: "field '\(field)' \(problem)")
    }

    /// A body that is not a JSON object.
    static func notJSON(_ what: String, _ detail: String) -> TranslationError {
        TranslationError(field: nil, message: "\(what) is not a JSON object: \(detail)")
    }
}
