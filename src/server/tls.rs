//! The management API's certificate for TCP beyond loopback: self-signed, made on first use and
//! kept in the data directory (0600, like every file there), so its fingerprint — which clients
//! pin — stays the same across restarts.

use std::path::Path;
use std::sync::Arc;

use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

use crate::console::{Error, Result};
use crate::org::tls::{fingerprint_of, provider};

const CERT_FILE: &str = "admin-tls.cert.der";
const KEY_FILE: &str = "admin-tls.key.der";

fn write_private(path: &Path, bytes: &[u8]) -> Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(|e| Error::Storage(format!("cannot write {}: {e}", path.display())))?;
    file.write_all(bytes)
        .and_then(|()| file.sync_all())
        .map_err(|e| Error::Storage(format!("cannot write {}: {e}", path.display())))
}

/// The certificate and key, made once.
fn load_or_create(dir: &Path) -> Result<(Vec<u8>, Vec<u8>)> {
    let (cert_path, key_path) = (dir.join(CERT_FILE), dir.join(KEY_FILE));
    if let (Ok(cert), Ok(key)) = (std::fs::read(&cert_path), std::fs::read(&key_path)) {
        return Ok((cert, key));
    }
    let made = rcgen::generate_simple_self_signed(vec!["kc-console".to_string()])
        .map_err(|e| Error::Internal(format!("cannot make the server's certificate: {e}")))?;
    let (cert, key) = (made.cert.der().to_vec(), made.key_pair.serialize_der());
    let _ = std::fs::remove_file(&cert_path);
    let _ = std::fs::remove_file(&key_path);
    write_private(&key_path, &key)?;
    write_private(&cert_path, &cert)?;
    Ok((cert, key))
}

/// The TLS configuration and the certificate's fingerprint.
pub fn server_config(dir: &Path) -> Result<(Arc<rustls::ServerConfig>, String)> {
    let (cert, key) = load_or_create(dir)?;
    let fingerprint = fingerprint_of(&cert);
    let config = rustls::ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| Error::Internal(format!("TLS set-up failed: {e}")))?
        .with_no_client_auth()
        .with_single_cert(
            vec![CertificateDer::from(cert)],
            PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key)),
        )
        .map_err(|e| {
            Error::Storage(format!(
                "the server's certificate in the data directory cannot be used: {e}"
            ))
        })?;
    Ok((Arc::new(config), fingerprint))
}
