/// The key algorithm of a newly created local CA. Leaves always use ECDSA P-256 whatever the CA key is.
public enum CAKeyType: String, Sendable, CaseIterable {
    /// ECDSA over P-256: small, fast to sign with, accepted by every current client.
    case ecdsaP256 = "ecdsa-p256"
    /// RSA with a 3072-bit modulus, for trust stores or middleboxes that still refuse ECDSA roots.
    case rsa3072 = "rsa-3072"
}
