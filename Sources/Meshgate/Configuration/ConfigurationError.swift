import MeshgatePolicy

/// A problem in `meshgate.yaml`, pointing at the offending spot and saying how to fix it:
/// `meshgate.yaml:4:3: listeners.explicit: expected host:port, found 'localhost'; write e.g. 127.0.0.1:3128`.
public typealias ConfigurationError = YAMLError
