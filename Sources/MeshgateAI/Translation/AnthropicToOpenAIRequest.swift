import MeshgateInspection
import MeshgateJSON

/// An Anthropic Messages request as an OpenAI Chat Completions request.
///
/// Dropped on purpose: `cache_control` on any block or tool (OpenAI caches prompt prefixes by itself),
/// `citations` settings on text blocks, `service_tier: "auto"` and `thinking: {"type":"disabled"}`
/// (the defaults). Mapped: `max_tokens` to `max_completion_tokens` (OpenAI's reasoning models
/// refuse `max_tokens`), `metadata.user_id` to `user`, `disable_parallel_tool_use` to
/// `parallel_tool_calls: false`, a tool result's `is_error` to an `Error: ` prefix on its text (OpenAI
/// tool messages have no error flag). Refused: `top_k`, `thinking` (enabled), `mcp_servers`,
/// `container`, server tools (`tools[].type` other than `custom`), documents, images inside tool
/// results, thinking blocks in the history, and anything else unknown.
enum AnthropicToOpenAIRequest {
    private static let translated: Set<String> = [
        "model", "messages", "system", "max_tokens", "temperature", "top_p", "stop_sequences", "stream",
        "tools", "tool_choice", "metadata",
    ]

    static func translate(_ root: JSONValue, model: String) throws(TranslationError) -> JSONValue {
        for (key, value) in root.objectMembers ?? [] where !value.isNull && !translated.contains(key) {
            switch key {
            case "service_tier" where value.stringValue == "auto": continue
            case "thinking" where value["type"]?.stringValue == "disabled": continue
            default: throw .unsupported(key, to: .openai)
            }
        }
        var out = JSONObject()
        out.set("model", .string(model))
        var messages: [JSONValue] = []
        if let system = root.present("system") {
            messages.append(.object([("role", .string("system")), ("content", try systemContent(system))]))
        }
        guard let source = root.present("messages")?.arrayValue else {
            throw .invalid("messages", "must be an array of messages")
        }
        for (i, message) in source.enumerated() {
            messages += try convertMessage(message, path: "messages[\(i)]")
        }
        out.set("messages", .array(messages))
        out.set("max_completion_tokens", ifPresent: root.present("max_tokens"))
        out.set("temperature", ifPresent: root.present("temperature"))
        out.set("top_p", ifPresent: root.present("top_p"))
        out.set("stop", ifPresent: root.present("stop_sequences"))
        if let tools = root.present("tools") { out.set("tools", try convertTools(tools)) }
        if let choice = root.present("tool_choice") {
            let (converted, parallel) = try convertToolChoice(choice)
            out.set("tool_choice", converted)
            if parallel == false { out.set("parallel_tool_calls", .bool(false)) }
        }
        if let stream = root.present("stream") {
            out.set("stream", stream)
            if stream.boolValue == true {
                out.set("stream_options", .object([("include_usage", .bool(true))]))
            }
        }
        if let metadata = root.present("metadata") {
            for (key, value) in metadata.objectMembers ?? [] where !value.isNull {
                guard key == "user_id" else { throw .unsupported("metadata.\(key)", to: .openai) }
                out.set("user", value)
            }
        }
        return out.value
    }

    private static func systemContent(_ system: JSONValue) throws(TranslationError) -> JSONValue {
        switch system {
        case .string: return system
        case .array(let blocks):
            let parts = try textParts(blocks, path: "system")
            if parts.count == 1, let text = parts[0]["text"] { return text }
            return .array(parts)
        default: throw .invalid("system", "must be a string or an array of text blocks")
        }
    }

    /// Text blocks as OpenAI text parts.
    private static func textParts(_ blocks: [JSONValue], path: String) throws(TranslationError) -> [JSONValue] {
        var parts: [JSONValue] = []
        for (j, block) in blocks.enumerated() {
            guard block["type"]?.stringValue == "text", let text = block["text"]?.stringValue else {
                throw .unsupported("\(path)[\(j)].type", to: .openai, value: "'\(block["type"]?.stringValue ?? "missing")' here")
            }
            parts.append(textPart(text))
        }
        return parts
    }

    private static func textPart(_ text: String) -> JSONValue {
        .object([("type", .string("text")), ("text", .string(text))])
    }

    /// One Anthropic message as one or more OpenAI messages: a user message's tool results become
    /// `tool` messages placed first (OpenAI wants them right after the assistant's tool calls).
    private static func convertMessage(_ message: JSONValue, path: String) throws(TranslationError) -> [JSONValue] {
        guard let role = message["role"]?.stringValue else { throw .invalid(path + ".role", "is missing") }
        for (key, value) in message.objectMembers ?? [] where !value.isNull && key != "role" && key != "content" {
            throw .unsupported("\(path).\(key)", to: .openai)
        }
        guard role == "user" || role == "assistant" else {
            throw .unsupported(path + ".role", to: .openai, value: "'\(role)'")
        }
        let contentPath = path + ".content"
        switch message.present("content") {
        case .string(let s)?:
            return [.object([("role", .string(role)), ("content", .string(s))])]
        case .array(let blocks)?:
            return role == "user"
                ? try userMessages(blocks, path: contentPath)
                : [try assistantMessage(blocks, path: contentPath)]
        case nil:
            throw .invalid(contentPath, "is missing")
        case let other?:
            throw .invalid(contentPath, "must be a string or an array of content blocks, not \(other.kindName)")
        }
    }

    private static func userMessages(_ blocks: [JSONValue], path: String) throws(TranslationError) -> [JSONValue] {
        var toolMessages: [JSONValue] = []
        var parts: [JSONValue] = []
        for (j, block) in blocks.enumerated() {
            let blockPath = "\(path)[\(j)]"
            switch block["type"]?.stringValue {
            case "text":
                guard let text = block["text"]?.stringValue else { throw .invalid(blockPath + ".text", "is missing") }
                parts.append(textPart(text))
            case "image":
                let url = try FormatMapping.imageURL(fromSource: block["source"], field: blockPath + ".source")
                parts.append(.object([("type", .string("image_url")), ("image_url", .object([("url", .string(url))]))]))
            case "tool_result":
                toolMessages.append(try toolMessage(block, path: blockPath))
            case let type:
                throw .unsupported(blockPath + ".type", to: .openai, value: "'\(type ?? "missing")'")
            }
        }
        if !parts.isEmpty {
            toolMessages.append(.object([("role", .string("user")), ("content", .array(parts))]))
        }
        return toolMessages
    }

    private static func toolMessage(_ block: JSONValue, path: String) throws(TranslationError) -> JSONValue {
        guard let id = block["tool_use_id"]?.stringValue else { throw .invalid(path + ".tool_use_id", "is missing") }
        let isError = block.present("is_error")?.boolValue == true
        var content: JSONValue
        switch block.present("content") {
        case .string(let s)?: content = .string(isError ? "Error: " + s : s)
        case nil: content = .string(isError ? "Error" : "")
        case .array(let blocks)?:
            var parts = try textParts(blocks, path: path + ".content")
            if isError { parts.insert(textPart("Error:"), at: 0) }
            content = .array(parts)
        case let other?:
            throw .invalid(path + ".content", "must be a string or an array of text blocks, not \(other.kindName)")
        }
        return .object([("role", .string("tool")), ("tool_call_id", .string(id)), ("content", content)])
    }

    private static func assistantMessage(_ blocks: [JSONValue], path: String) throws(TranslationError) -> JSONValue {
        var texts: [String] = []
        var toolCalls: [JSONValue] = []
        for (j, block) in blocks.enumerated() {
            let blockPath = "\(path)[\(j)]"
            switch block["type"]?.stringValue {
            case "text":
                guard let text = block["text"]?.stringValue else { throw .invalid(blockPath + ".text", "is missing") }
                texts.append(text)
            case "tool_use":
                guard let id = block["id"]?.stringValue, let name = block["name"]?.stringValue else {
                    throw .invalid(blockPath, "needs id and name")
                }
                let input = block["input"] ?? .object([])
                toolCalls.append(.object([
                    ("id", .string(id)),
                    ("type", .string("function")),
                    ("function", .object([("name", .string(name)), ("arguments", .string(input.description))])),
                ]))
            case let type:
                throw .unsupported(blockPath + ".type", to: .openai, value: "'\(type ?? "missing")'")
            }
        }
        var message = JSONObject()
        message.set("role", .string("assistant"))
        let content: JSONValue = switch texts.count {
        case 0: .null
        case 1: .string(texts[0])
        default: .array(texts.map(textPart))
        }
        message.set("content", content)
        if !toolCalls.isEmpty { message.set("tool_calls", .array(toolCalls)) }
        return message.value
    }

    private static func convertTools(_ tools: JSONValue) throws(TranslationError) -> JSONValue {
        guard let list = tools.arrayValue else { throw .invalid("tools", "must be an array") }
        var out: [JSONValue] = []
        for (i, tool) in list.enumerated() {
            let path = "tools[\(i)]"
            if let type = tool.present("type")?.stringValue, type != "custom" {
                throw .unsupported(path + ".type", to: .openai, value: "'\(type)' (a server tool)")
            }
            guard let name = tool["name"]?.stringValue else { throw .invalid(path + ".name", "is missing") }
            var function = JSONObject()
            function.set("name", .string(name))
            function.set("description", ifPresent: tool.present("description"))
            function.set("parameters", ifPresent: tool.present("input_schema"))
            out.append(.object([("type", .string("function")), ("function", function.value)]))
        }
        return .array(out)
    }

    /// The OpenAI `tool_choice` and, when parallel tool use is switched off, `false` for `parallel_tool_calls`.
    private static func convertToolChoice(_ choice: JSONValue) throws(TranslationError) -> (JSONValue, Bool?) {
        let parallel: Bool? = choice.present("disable_parallel_tool_use")?.boolValue.map { !$0 }
        switch choice["type"]?.stringValue {
        case "auto": return (.string("auto"), parallel)
        case "none": return (.string("none"), parallel)
        case "any": return (.string("required"), parallel)
        case "tool":
            guard let name = choice["name"]?.stringValue else { throw .invalid("tool_choice.name", "is missing") }
            return (.object([("type", .string("function")), ("function", .object([("name", .string(name))]))]), parallel)
        case let type:
            throw .unsupported("tool_choice.type", to: .openai, value: "'\(type ?? "missing")'")
        }
    }
}
