//! TLS for a server on another machine: the server's certificate is self-signed (there is no
//! authority to vouch for it), so a client pins it by the SHA-256 fingerprint the server prints
//! when it starts — as ssh pins a host key. The handshake's signatures are still verified.

use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::console::{Error, Result};

/// `SHA256:` and 64 lowercase hex digits: how a fingerprint is shown.
pub fn fingerprint_of(certificate: &[u8]) -> String {
    format!("SHA256:{}", hex::encode(Sha256::digest(certificate)))
}

/// Reads a fingerprint as a user types it: with or without `SHA256:`, colons, any case.
pub fn parse_fingerprint(text: &str) -> Result<[u8; 32]> {
    let bad = || {
        Error::Invalid(
            "--server-fingerprint must be the SHA-256 fingerprint the server printed (SHA256: and 64 hex digits)".into(),
        )
    };
    if text.len() > 200 {
        return Err(bad());
    }
    let hex_digits: String = text
        .trim()
        .trim_start_matches("SHA256:")
        .trim_start_matches("sha256:")
        .chars()
        .filter(|c| *c != ':')
        .collect();
    let mut pinned = [0u8; 32];
    hex::decode_to_slice(hex_digits.to_ascii_lowercase(), &mut pinned).map_err(|_| bad())?;
    Ok(pinned)
}

pub(crate) fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

#[derive(Debug)]
struct Pinned {
    fingerprint: [u8; 32],
    provider: Arc<rustls::crypto::CryptoProvider>,
}

impl ServerCertVerifier for Pinned {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> std::result::Result<ServerCertVerified, rustls::Error> {
        let presented = Sha256::digest(end_entity.as_ref());
        if bool::from(presented.as_slice().ct_eq(&self.fingerprint)) {
            Ok(ServerCertVerified::assertion())
        } else {
            Err(rustls::Error::General(format!(
                "the server's certificate is {}, not the pinned one; if the server's certificate changed on purpose, pin the new fingerprint",
                fingerprint_of(end_entity.as_ref())
            )))
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

/// A client configuration that trusts exactly the certificate with this fingerprint.
pub fn pinned_client(fingerprint: [u8; 32]) -> Result<Arc<rustls::ClientConfig>> {
    let provider = provider();
    let config = rustls::ClientConfig::builder_with_provider(Arc::clone(&provider))
        .with_safe_default_protocol_versions()
        .map_err(|e| Error::Internal(format!("TLS set-up failed: {e}")))?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(Pinned {
            fingerprint,
            provider,
        }))
        .with_no_client_auth();
    Ok(Arc::new(config))
}
