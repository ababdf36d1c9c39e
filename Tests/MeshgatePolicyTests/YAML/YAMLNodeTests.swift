import Testing
@testable import MeshgatePolicy

@Suite("YAMLNode")
struct YAMLNodeTests {
    private func root(_ text: String, mergeKeys: Bool = false) throws -> YAMLNode {
        let source = YAMLSource(file: "t.yaml", baseDirectory: "/etc/meshgate", foldsMergeKeys: mergeKeys)
        return try #require(try YAMLNode.root(of: text, source: source))
    }

    @Test("an error at a scalar carries its position, key path and value")
    func scalarError() throws {
        let top = try root("limits:\n  port: 70000\n").mapping(keys: ["limits"])
        let limits = try top.required("limits").mapping(keys: ["port"])
        let error = try #require(throws: YAMLError.self) { try limits.required("port").int(in: 1...65535, what: "port") }
        #expect(error.location == SourceLocation(file: "t.yaml", line: 2, column: 9))
        #expect(error.keyPath == "limits.port")
        #expect(error.value == "70000")
        #expect(error.description == "t.yaml:2:9: limits.port: port 70000 is out of range (1-65535)")
    }

    @Test("a missing key is reported at the key naming the mapping, without a value")
    func missingKey() throws {
        let top = try root("a: 1\nrule:\n  x: 1\n").mapping(keys: ["a", "rule"])
        let rule = try top.required("rule").inRule("r1").mapping(keys: ["x", "id"])
        let error = try #require(throws: YAMLError.self) { try rule.required("id", fix: "add one") }
        #expect(error.line == 2 && error.value == nil)
        #expect(error.description == "t.yaml:2:1: rule 'r1': rule: missing required key 'id'; add one")
    }

    @Test("unknown keys name the key and take a misplaced hint verbatim")
    func unknownKey() throws {
        let error = try #require(throws: YAMLError.self) {
            try root("mtach: {}\n").mapping(keys: ["match"], misplaced: ["mtach": "write 'match:'"])
        }
        #expect(error.value == "mtach")
        #expect(error.description == "t.yaml:1:1: mtach: unknown key 'mtach'; write 'match:'")
    }

    @Test("merge keys fold only where the source folds them")
    func mergeKeys() throws {
        let text = "base: &b { x: 1 }\nitem:\n  <<: *b\n  y: 2\n"
        let folded = try root(text, mergeKeys: true).mapping(keys: ["base", "item"])
        let item = try folded.required("item").mapping(keys: ["x", "y"])
        #expect(try item.required("x").int(in: 0...9) == 1)
        let plain = try root(text).mapping(keys: ["base", "item"])
        let error = try #require(throws: YAMLError.self) { try plain.required("item").mapping(keys: ["x", "y"]) }
        #expect(error.message == "unknown key '<<'")
    }

    @Test("relative paths resolve against the file's folder")
    func paths() throws {
        let top = try root("ca: ../state/ca.pem\n").mapping(keys: ["ca"])
        #expect(try top.required("ca").path() == "/etc/state/ca.pem")
    }

    @Test("a syntax error is located, with the hint for its likely slip")
    func syntaxError() throws {
        let source = YAMLSource(file: "t.yaml", baseDirectory: "/")
        let error = try #require(throws: YAMLError.self) { try YAMLNode.root(of: "a:\n\t- b\n", source: source) }
        #expect(error.line == 2 && error.message.hasPrefix("invalid YAML"), "\(error)")
        #expect(error.fix == "indent with spaces, not tabs")
        #expect(try YAMLNode.root(of: "# nothing\n", source: source) == nil)
    }
}
