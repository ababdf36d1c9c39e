// Compiled into the partial MeshgateProxy module of scripts/fuzz.sh: in the full module other files
// import Foundation, which makes its String API visible to every file of the module.
import Foundation
