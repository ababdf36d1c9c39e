/// A problem in a ruleset file: a ``YAMLError`` located in the file, naming the rule it is in.
public typealias RulesetError = YAMLError
