// Compiled into the partial MeshgateProxy module of scripts/fuzz.sh: in the full module another
// file imports Foundation, which makes String.range(of:) visible to ProxyRequestClassifier.swift.
import Foundation
