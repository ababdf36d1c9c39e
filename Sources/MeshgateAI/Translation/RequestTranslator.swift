import MeshgateInspection
import MeshgateJSON

/// Translates request bodies between OpenAI Chat Completions (`/v1/chat/completions`) and
/// Anthropic Messages (`/v1/messages`). Pure: bytes in, bytes out.
///
/// Every field of the source is either translated, dropped on purpose (listed in the per-direction
/// translators, each harmless), or refused with a `TranslationError` naming it: nothing the caller
/// asked for disappears silently. An explicit `null` counts as "not given".
public enum RequestTranslator {
    /// Translates a request body written for `from`'s endpoint into `to`'s, with `model` set to
    /// `model`. For `to == .openai` with `stream: true` the result always asks for
    /// `stream_options.include_usage` (metering needs the usage chunk). `from == to` returns the body
    /// with only `model` replaced (member order and everything else as sent).
    public static func translate(_ body: [UInt8], from: LLMFormat, to: LLMFormat, model: String) throws(TranslationError) -> [UInt8] {
        let root = try JSONValue.parseObject(body, what: "the request body")
        let translated: JSONValue
        switch (from, to) {
        case (.openai, .anthropic):
            translated = try OpenAIToAnthropicRequest.translate(root, model: model)
        case (.anthropic, .openai):
            translated = try AnthropicToOpenAIRequest.translate(root, model: model)
        case (.openai, .openai), (.anthropic, .anthropic):
            translated = replacingModel(root, with: model)
        }
        return translated.bytes
    }

    private static func replacingModel(_ root: JSONValue, with model: String) -> JSONValue {
        var members = root.objectMembers ?? []
        // Every duplicate too, so no parser downstream can pick the caller's original.
        var found = false
        for i in members.indices where members[i].key == "model" {
            members[i].value = .string(model)
            found = true
        }
        if !found { members.insert(("model", .string(model)), at: 0) }
        return .object(members)
    }
}
