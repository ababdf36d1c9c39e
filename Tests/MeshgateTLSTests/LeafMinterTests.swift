import Foundation
import Testing
import X509

@testable import MeshgateTLS

@Suite struct LeafMinterTests {
    struct HostCase: Sendable, CustomTestStringConvertible {
        var host: String
        var expectedName: String
        var isIP: Bool
        var testDescription: String { host }
    }

    static let hosts: [HostCase] = [
        HostCase(host: "example.com", expectedName: "example.com", isIP: false),
        HostCase(host: "API.Example.COM.", expectedName: "api.example.com", isIP: false),
        HostCase(host: "192.0.2.7", expectedName: "192.0.2.7", isIP: true),
        HostCase(host: "2001:db8::1", expectedName: "2001:db8::1", isIP: true),
        HostCase(host: "[2001:DB8:0:0::1]", expectedName: "2001:db8::1", isIP: true),
        HostCase(
            host: String(repeating: "a", count: 60) + ".long-enough-to-exceed-the-common-name-limit.example",
            expectedName: String(repeating: "a", count: 60) + ".long-enough-to-exceed-the-common-name-limit.example",
            isIP: false
        ),
    ]

    /// Whole seconds, as certificates store them; within the fixture CAs' validity.
    static let now = Date(timeIntervalSince1970: Date().timeIntervalSince1970.rounded(.down))

    /// Verifies `leaf` against `ca` alone as a TLS server certificate for `name`, at the current time.
    static func verify(_ leaf: Certificate, ca: CertificateAuthority, name: String, isIP: Bool) async -> Bool {
        var verifier = Verifier(rootCertificates: CertificateStore([ca.certificate])) {
            RFC5280Policy()
            ServerIdentityPolicy(serverHostname: isIP ? nil : name, serverIP: isIP ? name : nil)
        }
        let result = await verifier.validate(leaf: leaf, intermediates: CertificateStore())
        if case .validCertificate = result { return true }
        return false
    }

    @Test(arguments: CAKeyType.allCases, hosts)
    func mintedLeafVerifiesForItsHost(keyType: CAKeyType, hostCase: HostCase) async throws {
        let ca = Fixtures.ca(keyType)
        let minter = try LeafMinter(authority: ca)
        let leaf = try minter.mint(host: hostCase.host, now: Self.now)

        #expect(leaf.host == hostCase.expectedName)
        #expect(await Self.verify(leaf.certificate, ca: ca, name: hostCase.expectedName, isIP: hostCase.isIP))
        // The same leaf must not pass for another name: the verifier really checks the SAN.
        #expect(!(await Self.verify(leaf.certificate, ca: ca, name: "other.example", isIP: false)))

        let san = try #require(try leaf.certificate.extensions.subjectAlternativeNames)
        if hostCase.isIP {
            let octets = san.compactMap { name -> [UInt8]? in
                if case .ipAddress(let o) = name { return Array(o.bytes) }
                return nil
            }
            #expect(octets.count == 1)
            #expect(octets.first?.count == (hostCase.expectedName.contains(":") ? 16 : 4))
        } else {
            #expect(Array(san) == [.dnsName(hostCase.expectedName)])
        }
        let expectsCN = hostCase.expectedName.utf8.count <= 64
        #expect(leaf.certificate.subject.description.contains("CN=\(hostCase.expectedName)") == expectsCN)
        #expect(leaf.certificate.extensions[oid: .X509ExtensionID.subjectAlternativeName]?.critical == !expectsCN)
    }

    @Test(arguments: CAKeyType.allCases)
    func leafCarriesTheServerProfile(keyType: CAKeyType) throws {
        let ca = Fixtures.ca(keyType)
        let leaf = try LeafMinter(authority: ca).mint(host: "example.com", now: Self.now).certificate
        let extensions = leaf.extensions

        #expect(try extensions.basicConstraints == .notCertificateAuthority)
        #expect(try extensions.keyUsage == KeyUsage(digitalSignature: true))
        #expect(try extensions.extendedKeyUsage == ExtendedKeyUsage([.serverAuth]))
        #expect(try extensions.subjectKeyIdentifier == SubjectKeyIdentifier(hash: leaf.publicKey))
        #expect(
            try extensions.authorityKeyIdentifier?.keyIdentifier
                == ca.certificate.extensions.subjectKeyIdentifier?.keyIdentifier
        )
        #expect(leaf.issuer == ca.certificate.subject)
        #expect(ca.certificate.publicKey.isValidSignature(leaf.signature, for: leaf))
        #expect(leaf.signatureAlgorithm == (keyType == .rsa3072 ? .sha256WithRSAEncryption : .ecdsaWithSHA256))
    }

    @Test func validityIsBackdatedAndShort() throws {
        let minter = try LeafMinter(authority: Fixtures.ecdsaCA)
        let leaf = try minter.mint(host: "example.com", now: Self.now)
        #expect(leaf.certificate.notValidBefore == Self.now - 3_600)
        #expect(leaf.certificate.notValidAfter == Self.now + 7 * 86_400)

        let shortLived = try LeafMinter(authority: Fixtures.ecdsaCA, validity: 3_600).mint(
            host: "example.com",
            now: Self.now
        )
        #expect(shortLived.certificate.notValidAfter == Self.now + 3_600)
    }

    @Test func leafNeverOutlivesTheCA() throws {
        let ca = Fixtures.ecdsaCA
        let nearCAExpiry = ca.certificate.notValidAfter - 86_400
        let leaf = try LeafMinter(authority: ca).mint(host: "example.com", now: nearCAExpiry)
        #expect(leaf.certificate.notValidAfter == ca.certificate.notValidAfter)

        let error = #expect(throws: LeafMintError.self) {
            try LeafMinter(authority: ca).mint(host: "example.com", now: ca.certificate.notValidAfter + 1)
        }
        #expect(error?.description.contains("expired") == true)
    }

    @Test func leavesShareOneKeyButNotSerials() throws {
        let minter = try LeafMinter(authority: Fixtures.ecdsaCA)
        let a = try minter.mint(host: "a.example", now: Self.now)
        let b = try minter.mint(host: "b.example", now: Self.now)
        #expect(a.certificate.publicKey == b.certificate.publicKey)
        #expect(a.certificate.publicKey == minter.leafPublicKey)
        #expect(a.privateKey == b.privateKey)
        #expect(a.certificate.serialNumber != b.certificate.serialNumber)
        for serial in [a.certificate.serialNumber, b.certificate.serialNumber] {
            #expect(serial.bytes.count == 16)
            #expect(serial.bytes.first.map { $0 & 0x80 == 0 && $0 != 0 } == true)
        }
        // Another minter has its own key.
        let other = try LeafMinter(authority: Fixtures.ecdsaCA).mint(host: "a.example", now: Self.now)
        #expect(other.certificate.publicKey != a.certificate.publicKey)
    }

    @Test func chainIsLeafThenCA() throws {
        let ca = Fixtures.rsaCA
        let leaf = try LeafMinter(authority: ca).mint(host: "example.com", now: Self.now)
        #expect(leaf.chain.count == 2)
        #expect(try x509(leaf.chain[0]) == leaf.certificate)
        #expect(try x509(leaf.chain[1]) == ca.certificate)
    }

    @Test(arguments: [
        "", " ", "exa mple.com", "bad..dots", "host:443", "ünïcode.example", "a/b", "*.example.com",
        String(repeating: "x", count: 64) + ".example", String(repeating: "abcdefghi.", count: 26) + "com",
    ])
    func namesNoCertificateCanCarryAreRefused(host: String) throws {
        let minter = try LeafMinter(authority: Fixtures.ecdsaCA)
        let error = #expect(throws: LeafMintError.self) { try minter.mint(host: host) }
        #expect(error?.host == host)
    }

    @Test func underscoresAreKeptBecauseRealHostsUseThem() throws {
        // swift-certificates' ServerIdentityPolicy rejects them, but browsers and BoringSSL match them.
        let leaf = try LeafMinter(authority: Fixtures.ecdsaCA).mint(host: "my_service.internal.example")
        #expect(
            try leaf.certificate.extensions.subjectAlternativeNames.map(Array.init) == [
                .dnsName("my_service.internal.example")
            ]
        )
    }

    @Test func nonPositiveValidityIsRefused() {
        #expect(throws: LeafMintError.self) { try LeafMinter(authority: Fixtures.ecdsaCA, validity: 0) }
    }
}
