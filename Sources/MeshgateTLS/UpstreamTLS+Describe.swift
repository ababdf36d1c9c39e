import Foundation
import MeshgateCore
import NIOCore
import NIOSSL
import SwiftASN1
import X509

extension UpstreamTLS {
    /// One line explaining an upstream handshake failure, for a 502 body and the audit log, e.g.
    /// "certificate for example.com is not trusted (self-signed or unknown issuer)" or
    /// "hostname mismatch: the certificate presented by example.com is not valid for that name".
    ///
    /// BoringSSL reports every chain problem as CERTIFICATE_VERIFY_FAILED, so from the error alone an
    /// expired certificate cannot be told from an untrusted one; pass the peer certificate to the other
    /// overload to get that distinction.
    public static func describe(_ error: any Error, host: String) -> String {
        describe(error, host: host, peerCertificate: nil)
    }

    /// As `describe(_:host:)`, refined by the certificate the origin presented (read it from
    /// `NIOSSLHandler.peerCertificate` when the handshake fails): expired, not yet valid, self-signed,
    /// or the issuer that is not trusted, and the names a mismatching certificate does carry.
    public static func describe(
        _ error: any Error,
        host: String,
        peerCertificate: NIOSSLCertificate?,
        now: Date = Date()
    ) -> String {
        let peer = peerCertificate.flatMap { try? Certificate(derEncoded: $0.toDERBytes()) }

        if let extra = error as? NIOSSLExtraError {
            switch extra {
            case .failedToValidateHostname:
                if let names = peer.flatMap(certificateNames), !names.isEmpty {
                    return
                        "hostname mismatch: the certificate presented by \(host) is for \(names.joined(separator: ", "))"
                }
                return "hostname mismatch: the certificate presented by \(host) is not valid for that name"
            case .cannotUseIPAddressInSNI, .invalidSNIHostname, .serverHostnameImpossibleToMatch:
                return "\(host) cannot be used as a TLS server name"
            default:
                return "TLS with \(host) failed: \(extra)"
            }
        }
        if let sslError = error as? NIOSSLError {
            switch sslError {
            case .handshakeFailed(let inner):
                return describe(inner, host: host, peer: peer, now: now)
            case .uncleanShutdown:
                return "\(host) closed the connection without a TLS close_notify"
            case .noCertificateToValidate:
                return "\(host) presented no certificate"
            case .unableToValidateCertificate:
                return "the certificate presented by \(host) could not be validated"
            default:
                return "TLS with \(host) failed: \(sslError)"
            }
        }
        if let boring = error as? BoringSSLError {
            return describe(boring, host: host, peer: peer, now: now)
        }
        if error is NIOSSLCloseTimedOutError {
            return "\(host) did not finish closing the TLS connection in time"
        }
        if let channelError = error as? ChannelError, case .connectTimeout = channelError {
            return "connecting to \(host) timed out"
        }
        if let ioError = error as? IOError {
            return "connection to \(host) failed: \(ioError.description)"
        }
        return "TLS with \(host) failed: \(error)"
    }

    private static func describe(_ error: BoringSSLError, host: String, peer: Certificate?, now: Date) -> String {
        let stack: NIOBoringSSLErrorStack
        switch error {
        case .sslError(let s), .unknownError(let s), .invalidSNIName(let s), .failedToSetALPN(let s):
            stack = s
        case .zeroReturn, .syscallError:
            return "\(host) closed the connection during the TLS handshake"
        default:
            return "TLS handshake with \(host) failed: \(error)"
        }
        if stack.contains(.eofDuringHandshake) || stack.isEmpty {
            return "\(host) closed the connection during the TLS handshake"
        }
        let reasons = Set(stack.map(reasonCode))

        if reasons.contains("CERTIFICATE_VERIFY_FAILED") {
            return describeUntrusted(host: host, peer: peer, now: now)
        }
        if !reasons.isDisjoint(with: [
            "WRONG_VERSION_NUMBER", "PACKET_LENGTH_TOO_LONG", "RECORD_TOO_LARGE", "HTTP_REQUEST",
        ]) {
            return "\(host) did not answer with TLS (is it plain HTTP on this port?)"
        }
        if !reasons.isDisjoint(with: ["UNSUPPORTED_PROTOCOL", "TLSV1_ALERT_PROTOCOL_VERSION"]) {
            return "no TLS version in common with \(host) (meshgate requires TLS 1.2 or newer)"
        }
        if !reasons.isDisjoint(with: ["TLSV13_ALERT_CERTIFICATE_REQUIRED", "SSLV3_ALERT_BAD_CERTIFICATE"]) {
            return "\(host) requires a client certificate, which meshgate does not present"
        }
        if !reasons.isDisjoint(with: [
            "SSLV3_ALERT_HANDSHAKE_FAILURE", "NO_SHARED_CIPHER", "NO_CIPHERS_AVAILABLE",
            "NO_COMMON_SIGNATURE_ALGORITHMS", "WRONG_CIPHER_RETURNED", "TLSV1_ALERT_INSUFFICIENT_SECURITY",
        ]) {
            return "\(host) rejected the TLS handshake (no cipher suite or parameters in common)"
        }
        if reasons.contains("TLSV1_ALERT_UNRECOGNIZED_NAME") {
            return "\(host) does not serve that name (TLS alert unrecognized_name)"
        }
        if reasons.contains("TLSV1_ALERT_INTERNAL_ERROR") {
            return "\(host) reported an internal TLS error"
        }
        let listed = stack.map(reasonCode).map { $0.lowercased().replacingOccurrences(of: "_", with: " ") }
        return "TLS handshake with \(host) failed: \(listed.joined(separator: "; "))"
    }

    private static func describeUntrusted(host: String, peer: Certificate?, now: Date) -> String {
        guard let peer else {
            return "certificate for \(host) is not trusted (self-signed, unknown issuer, or expired)"
        }
        if now > peer.notValidAfter {
            return "certificate for \(host) expired at \(timestamp(peer.notValidAfter))"
        }
        if now < peer.notValidBefore {
            return "certificate for \(host) is not valid until \(timestamp(peer.notValidBefore)) (check the clocks)"
        }
        if peer.issuer == peer.subject {
            return "certificate for \(host) is not trusted (self-signed)"
        }
        return "certificate for \(host) is not trusted (unknown issuer \(peer.issuer))"
    }

    /// The DNS names and IP addresses a certificate is valid for (SAN, else CN).
    private static func certificateNames(_ certificate: Certificate) -> [String]? {
        var names: [String] = []
        if let san = try? certificate.extensions.subjectAlternativeNames {
            for name in san {
                switch name {
                case .dnsName(let dns):
                    names.append(dns)
                case .ipAddress(let octets):
                    names.append(IPAddress.format(Array(octets.bytes)))
                default:
                    continue
                }
            }
        }
        if names.isEmpty {
            for rdn in certificate.subject {
                for attribute in rdn where attribute.type == .RDNAttributeType.commonName {
                    names.append(String(describing: attribute.value))
                }
            }
        }
        return names
    }

    /// BoringSSL's reason code, e.g. `CERTIFICATE_VERIFY_FAILED`, from an entry rendered as
    /// `Error: 268435581 error:1000007d:SSL routines:OPENSSL_internal:CERTIFICATE_VERIFY_FAILED at file:line`.
    static func reasonCode(_ entry: BoringSSLInternalError) -> String {
        let text = entry.description
        guard let marker = text.range(of: "OPENSSL_internal:") else {
            return text.replacingOccurrences(of: "Error: ", with: "").trimmingCharacters(in: .whitespaces)
        }
        let rest = text[marker.upperBound...]
        return String(rest.prefix { $0 != " " })
    }

    private static func timestamp(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.string(from: date)
    }
}
