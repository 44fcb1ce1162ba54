//! S3 access keys as Keystone EC2 credentials: an S3-compatible gateway (Ceph RGW, Swift's
//! s3api) that delegates authentication sends the AWS signature of a request it received, and
//! the model checks it with the key's secret (`POST /v3/ec2tokens`, `POST /v3/s3tokens`).
//!
//! Checking a signature needs the secret itself, so an S3 key's secret is kept sealed (as
//! Keystone keeps EC2 secrets encrypted with its credential keys): XChaCha20-Poly1305 under a
//! key held in `s3-secret-sealing.key` in the data directory (0600, created once with O_EXCL,
//! never logged), with the key ID as associated data, so a sealed secret copied onto another key
//! does not open. The secret is opened only inside a check and zeroized right after.
//!
//! Who may ask: as Keystone since its 2025 fix for presigned-URL replay (bug 2119646), the
//! caller must authenticate — here with the token of a service account (kc-console's principal
//! for a service), and only for the S3 keys of that service account's project, so one project's
//! gateway cannot turn another project's signatures into tokens.

use std::collections::BTreeMap;
use std::fs::{File, OpenOptions};
use std::io::{ErrorKind, Read, Write};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::Path;

use base64::alphabet;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use base64::Engine;
use chacha20poly1305::aead::{AeadInPlace, KeyInit};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use chrono::{DateTime, Duration, NaiveDateTime, TimeZone, Utc};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

use super::keys::{AccessKey, KeyKind};
use super::signature::{self, Scope, V4Request, V4_ALGORITHM};
use super::tokens::{IssuedToken, TokenInfo};
use super::{Actor, Console, Error, Principal, Result, Via};
use crate::store::{StoreError, Table};

/// The sealing key's file in the data directory.
pub const KEY_FILE: &str = "s3-secret-sealing.key";
const KEY_BYTES: usize = 32;
const NONCE_BYTES: usize = 24;
/// Associated data of every sealed secret, before the key ID.
const SEAL_CONTEXT: &[u8] = b"kc-console s3 secret v1\0";
const DECOY_KEY_ID: &str = "00000000000000000000000000000000";

/// The longest text field of a request (a path, a parameter or header value, a signature).
pub const MAX_FIELD_BYTES: usize = 4096;
/// The most parameters or headers a request may carry.
pub const MAX_ENTRIES: usize = 100;
/// The longest base64 string to sign `s3tokens` accepts.
pub const MAX_TOKEN_BYTES: usize = 16 * 1024;

/// How far a signed time may be from the server's clock: Keystone's `[credential] auth_ttl`
/// default (15 minutes), which is also AWS's allowance for clock skew.
const SIGNATURE_WINDOW_MINUTES: i64 = 15;
/// How old an S3 Signature Version 4 may be: AWS's longest presigned URL (7 days). An S3 gateway
/// relays presigned requests too, and their string to sign does not say how long they last.
const PRESIGNED_MAX_DAYS: i64 = 7;
/// Services an S3 Signature Version 4 may be scoped to (Keystone's list: RGW's STS and IAM too).
const S3_SERVICES: [&str; 3] = ["s3", "iam", "sts"];

/// One message for every credential failure — unknown, deleted or expired key, a key of
/// another project, a wrong signature — so a caller learns nothing about which it was.
const REFUSED: &str = "the S3 access key is invalid, expired or wrong, or the signature does not match";
const PREDATES_SEALING: &str = "this S3 access key was created before kc-console kept S3 secrets for signature checks (ec2tokens/s3tokens); delete it and create a new S3 access key";
const UNSEALABLE: &str = "this S3 access key's secret cannot be opened with this data directory's s3-secret-sealing.key (the key file was replaced or the record was altered); delete it and create a new S3 access key";
const UNDATED: &str = "the signed request carries no signed time (Timestamp or X-Amz-Date); kc-console refuses undated signatures, which could be replayed forever";
const OUT_OF_WINDOW: &str = "the signed request's time is outside the accepted window (15 minutes either side of the server's clock; S3 Signature Version 4: up to 7 days old, for presigned URLs); check the clocks";
const NOT_SUPPLIED: &str = "EC2 signature not supplied";

/// A secret sealed at rest: hex nonce and ciphertext (with its tag). Never leaves the model.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(super) struct SealedSecret {
    nonce: String,
    ciphertext: String,
}

/// Seals and opens S3 secrets with the data directory's sealing key, loaded once at open.
pub(super) struct Sealer {
    cipher: XChaCha20Poly1305,
    /// Opened for an unknown access key, so a refusal costs what a wrong signature costs.
    decoy: SealedSecret,
}

fn unusable_key_file(path: &Path, why: impl std::fmt::Display) -> StoreError {
    StoreError(format!(
        "cannot use the S3 secret sealing key {}: {why}",
        path.display()
    ))
}

/// Reads the sealing key, or creates it (O_EXCL, 0600) when there is none. Never follows a
/// symbolic link; a key file others may read is narrowed to 0600, as the data directory's
/// other secrets are; a file of another owner or of the wrong size is refused.
fn load_or_create_key(dir: &Path) -> Result<Zeroizing<[u8; KEY_BYTES]>, StoreError> {
    let path = dir.join(KEY_FILE);
    let mut key = Zeroizing::new([0u8; KEY_BYTES]);
    match OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW)
        .open(&path)
    {
        Ok(mut file) => {
            let meta = file.metadata().map_err(|e| unusable_key_file(&path, e))?;
            // SAFETY: geteuid has no preconditions and cannot fail.
            let me = unsafe { libc::geteuid() };
            if !meta.is_file() || meta.uid() != me {
                return Err(unusable_key_file(
                    &path,
                    "it must be a regular file owned by the user running kc-console",
                ));
            }
            if meta.mode() & 0o077 != 0 {
                file.set_permissions(std::fs::Permissions::from_mode(0o600))
                    .map_err(|e| {
                        unusable_key_file(
                            &path,
                            format!("it is readable by others and cannot be narrowed to 0600: {e}"),
                        )
                    })?;
                tracing::warn!(file = %path.display(), "the S3 secret sealing key was readable by others; narrowed to 0600");
            }
            if meta.len() != KEY_BYTES as u64 {
                return Err(unusable_key_file(
                    &path,
                    format!("it must hold exactly {KEY_BYTES} bytes; restore it from a backup of the data directory"),
                ));
            }
            file.read_exact(key.as_mut())
                .map_err(|e| unusable_key_file(&path, e))?;
        }
        Err(e) if e.kind() == ErrorKind::NotFound => {
            // The OS generator always: the injected entropy is seeded in tests and demos, and a
            // sealing key (like its nonces) must never repeat between two data directories.
            rand::rngs::OsRng.fill_bytes(key.as_mut());
            create_key_file(dir, &path, key.as_ref()).map_err(|e| unusable_key_file(&path, e))?;
        }
        Err(e) if e.raw_os_error() == Some(libc::ELOOP) => {
            return Err(unusable_key_file(&path, "it is a symbolic link"));
        }
        Err(e) => return Err(unusable_key_file(&path, e)),
    }
    Ok(key)
}

/// Writes a new key file whole, then links it into place: a crash leaves either no key file or
/// a complete one, and an existing one (or anything planted at its name) is never overwritten.
/// The directory lock is held, so no other kc-console process is here.
fn create_key_file(dir: &Path, path: &Path, key: &[u8]) -> std::io::Result<()> {
    let staging = dir.join(format!("{KEY_FILE}.new"));
    match std::fs::remove_file(&staging) {
        Err(e) if e.kind() != ErrorKind::NotFound => return Err(e),
        _ => {}
    }
    let mut file: File = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .custom_flags(libc::O_NOFOLLOW)
        .open(&staging)?;
    file.write_all(key)?;
    file.sync_all()?;
    std::fs::hard_link(&staging, path)?;
    std::fs::remove_file(&staging)?;
    File::open(dir)?.sync_all()
}

fn associated_data(key_id: &str) -> Vec<u8> {
    [SEAL_CONTEXT, key_id.as_bytes()].concat()
}

/// Seals `secret` for the key `key_id`, with a fresh random 192-bit nonce.
fn seal(cipher: &XChaCha20Poly1305, key_id: &str, secret: &str) -> SealedSecret {
    let mut nonce = [0u8; NONCE_BYTES];
    rand::rngs::OsRng.fill_bytes(&mut nonce);
    // Room for the tag up front, so the buffer never moves and leaves a copy behind.
    let mut buffer = Zeroizing::new(Vec::with_capacity(secret.len() + 16));
    buffer.extend_from_slice(secret.as_bytes());
    cipher
        .encrypt_in_place(XNonce::from_slice(&nonce), &associated_data(key_id), &mut *buffer)
        .expect("XChaCha20-Poly1305 seals any secret of an access key's size");
    SealedSecret {
        nonce: hex::encode(nonce),
        ciphertext: hex::encode(&*buffer),
    }
}

impl Sealer {
    pub(super) fn open(dir: &Path) -> Result<Sealer, StoreError> {
        let key = load_or_create_key(dir)?;
        let cipher = XChaCha20Poly1305::new(key.as_ref().into());
        let mut decoy_secret = Zeroizing::new([0u8; KEY_BYTES]);
        rand::rngs::OsRng.fill_bytes(decoy_secret.as_mut());
        let decoy = seal(&cipher, DECOY_KEY_ID, &hex::encode(decoy_secret.as_ref()));
        Ok(Sealer { cipher, decoy })
    }

    pub(super) fn seal(&self, key_id: &str, secret: &str) -> SealedSecret {
        seal(&self.cipher, key_id, secret)
    }

    /// The secret, if `sealed` was sealed for `key_id` under this key; zeroized when dropped.
    fn open_secret(&self, key_id: &str, sealed: &SealedSecret) -> Option<Zeroizing<Vec<u8>>> {
        let nonce = hex::decode(&sealed.nonce)
            .ok()
            .filter(|n| n.len() == NONCE_BYTES)?;
        let mut buffer = Zeroizing::new(hex::decode(&sealed.ciphertext).ok()?);
        self.cipher
            .decrypt_in_place(XNonce::from_slice(&nonce), &associated_data(key_id), &mut *buffer)
            .ok()?;
        Some(buffer)
    }
}

/// `POST /v3/ec2tokens`: the parts of a signed EC2-style request (Keystone's `credentials`).
#[derive(Debug, Clone, Default)]
pub struct Ec2Credentials {
    pub access: String,
    pub signature: String,
    pub host: String,
    pub verb: String,
    pub path: String,
    pub params: BTreeMap<String, String>,
    pub headers: BTreeMap<String, String>,
    /// SHA-256 (hex) of the request body; needed by Signature Version 4.
    pub body_hash: Option<String>,
}

/// `POST /v3/s3tokens`: what an S3 gateway sends — the access key, the base64 of the string to
/// sign it built from the request, and the signature the request carried.
#[derive(Debug, Clone, Default)]
pub struct S3Credentials {
    pub access: String,
    pub token: String,
    pub signature: String,
}

fn bounded(field: &str, value: &str, max: usize) -> Result<()> {
    if value.len() > max {
        return Err(Error::Invalid(format!(
            "credentials.{field} is longer than {max} bytes"
        )));
    }
    Ok(())
}

fn bounded_map(field: &str, map: &BTreeMap<String, String>) -> Result<()> {
    if map.len() > MAX_ENTRIES {
        return Err(Error::Invalid(format!(
            "credentials.{field} has more than {MAX_ENTRIES} entries"
        )));
    }
    for (name, value) in map {
        bounded(field, name, MAX_FIELD_BYTES)?;
        bounded(field, value, MAX_FIELD_BYTES)?;
    }
    Ok(())
}

impl Ec2Credentials {
    /// Every field within its bound (the faces check too, before building this).
    pub fn check_bounds(&self) -> Result<()> {
        for (field, value) in [
            ("access", &self.access),
            ("signature", &self.signature),
            ("host", &self.host),
            ("verb", &self.verb),
            ("path", &self.path),
        ] {
            bounded(field, value, MAX_FIELD_BYTES)?;
        }
        bounded(
            "body_hash",
            self.body_hash.as_deref().unwrap_or(""),
            MAX_FIELD_BYTES,
        )?;
        bounded_map("params", &self.params)?;
        bounded_map("headers", &self.headers)
    }
}

impl S3Credentials {
    pub fn check_bounds(&self) -> Result<()> {
        bounded("access", &self.access, MAX_FIELD_BYTES)?;
        bounded("signature", &self.signature, MAX_FIELD_BYTES)?;
        bounded("token", &self.token, MAX_TOKEN_BYTES)
    }
}

/// When a signature was made, and so how long it may be accepted.
#[derive(Debug, Clone, Copy)]
enum SignedAt {
    /// A signed request time: within the window either side of now.
    Time(DateTime<Utc>),
    /// An S3 Signature Version 4 time, which may be a presigned URL's: up to 7 days old.
    S3V4(DateTime<Utc>),
    /// A presigned S3 Signature Version 2 URL's expiry.
    Expires(DateTime<Utc>),
}

impl SignedAt {
    fn accepted_at(self, now: DateTime<Utc>) -> bool {
        let skew = Duration::minutes(SIGNATURE_WINDOW_MINUTES);
        let presigned = Duration::days(PRESIGNED_MAX_DAYS);
        match self {
            SignedAt::Time(t) => t <= now + skew && t >= now - skew,
            SignedAt::S3V4(t) => t <= now + skew && t >= now - presigned - skew,
            SignedAt::Expires(e) => e >= now - skew && e <= now + presigned + skew,
        }
    }
}

/// How to compute what the signature must be, once the secret is open.
enum Expected {
    /// EC2 Signature Version 2, over each spelling of the host Keystone tries: as sent, then
    /// without its port (some clients sign the host without it).
    Ec2V2 {
        verb: String,
        hosts: Vec<String>,
        path: String,
        params: BTreeMap<String, String>,
    },
    Ec2V4 {
        scope: Scope,
        string_to_sign: String,
    },
    S3V2 {
        string_to_sign: Vec<u8>,
    },
    S3V4 {
        scope: Scope,
        string_to_sign: Vec<u8>,
    },
}

impl Expected {
    /// Whether `presented` is the signature `secret` makes, compared in constant time.
    fn matches(&self, secret: &[u8], presented: &str) -> bool {
        let same = |expected: String| -> bool { expected.as_bytes().ct_eq(presented.as_bytes()).into() };
        match self {
            Expected::Ec2V2 {
                verb,
                hosts,
                path,
                params,
            } => hosts.iter().fold(false, |found, host| {
                found | same(signature::ec2_v2(secret, verb, host, path, params))
            }),
            Expected::Ec2V4 {
                scope,
                string_to_sign,
            } => same(signature::v4(secret, scope, string_to_sign.as_bytes())),
            Expected::S3V2 { string_to_sign } => same(signature::s3_v2(secret, string_to_sign)),
            Expected::S3V4 {
                scope,
                string_to_sign,
            } => same(signature::v4(secret, scope, string_to_sign)),
        }
    }
}

/// The host without its port (`example.com:8773` → `example.com`, `[::1]:80` → `::1`).
fn host_without_port(host: &str) -> Option<String> {
    match host.strip_prefix('[') {
        Some(bracketed) => bracketed.split_once(']').map(|(name, _)| name.to_string()),
        None => host.rsplit_once(':').map(|(name, _)| name.to_string()),
    }
}

fn refused(message: &str) -> Error {
    Error::Auth(message.into())
}

/// Keystone's first refusal: a request that names no access key or carries no signature.
fn supplied(access: &str, signature: &str) -> Result<()> {
    if access.is_empty() || signature.is_empty() {
        return Err(refused(NOT_SUPPLIED));
    }
    Ok(())
}

/// `20150830T123600Z`, the time format of Signature Version 4.
fn parse_basic_time(text: &str) -> Option<DateTime<Utc>> {
    NaiveDateTime::parse_from_str(text, "%Y%m%dT%H%M%SZ")
        .ok()
        .map(|t| Utc.from_utc_datetime(&t))
}

/// An EC2 `Timestamp`: ISO 8601 (`2024-01-01T00:00:00Z`, fractions and offsets allowed; no
/// zone means UTC, as Keystone reads it) or the basic form of Signature Version 4.
fn parse_iso_time(text: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&Utc))
        .ok()
        .or_else(|| {
            NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f")
                .ok()
                .map(|t| Utc.from_utc_datetime(&t))
        })
        .or_else(|| parse_basic_time(text))
}

/// An HTTP date (`Tue, 27 Mar 2007 19:36:42 +0000` or `… GMT`) or the basic ISO form.
fn parse_http_time(text: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc2822(text)
        .map(|t| t.with_timezone(&Utc))
        .ok()
        .or_else(|| parse_basic_time(text))
}

fn header<'a>(headers: &'a BTreeMap<String, String>, name: &str) -> Option<&'a str> {
    headers.get(name).map(String::as_str)
}

/// The `Credential` and `SignedHeaders` of a Signature Version 4, from the `Authorization`
/// header or the `X-Amz-*` query parameters.
fn v4_auth_parts(request: &Ec2Credentials, headers: &BTreeMap<String, String>) -> Option<(String, String)> {
    if let Some(authorization) = header(headers, "authorization") {
        let rest = authorization.strip_prefix(V4_ALGORITHM)?;
        let mut credential = None;
        let mut signed_headers = None;
        for part in rest.split(',') {
            match part.trim().split_once('=') {
                Some(("Credential", value)) => credential = Some(value.to_string()),
                Some(("SignedHeaders", value)) => signed_headers = Some(value.to_string()),
                _ => {}
            }
        }
        return Some((credential?, signed_headers?));
    }
    Some((
        request.params.get("X-Amz-Credential")?.clone(),
        request.params.get("X-Amz-SignedHeaders")?.clone(),
    ))
}

/// What an `ec2tokens` request's signature must be, and when it was made. Refusals here depend
/// only on the request, never on the key.
fn plan_ec2(request: &Ec2Credentials) -> Result<(Expected, SignedAt)> {
    // Header names are matched without regard to case; two spellings of one name are ambiguous.
    let mut headers = BTreeMap::new();
    for (name, value) in &request.headers {
        if headers
            .insert(name.trim().to_ascii_lowercase(), value.trim().to_string())
            .is_some()
        {
            return Err(Error::Invalid(
                "credentials.headers names one header twice (names are matched without regard to case)"
                    .into(),
            ));
        }
    }
    match request.params.get("SignatureVersion").map(String::as_str) {
        Some("2") => {
            let time = request.params.get("Timestamp").ok_or_else(|| refused(UNDATED))?;
            let time = parse_iso_time(time)
                .ok_or_else(|| refused("the Timestamp parameter is not an ISO 8601 time"))?;
            let mut hosts = vec![request.host.clone()];
            hosts.extend(host_without_port(&request.host).filter(|h| !h.is_empty() && *h != request.host));
            let expected = Expected::Ec2V2 {
                verb: request.verb.clone(),
                hosts,
                path: request.path.clone(),
                params: request.params.clone(),
            };
            Ok((expected, SignedAt::Time(time)))
        }
        Some(version @ ("0" | "1")) => Err(refused(&format!(
            "SignatureVersion {version} is not accepted (AWS retired it as unsafe); sign with Signature Version 4 or 2"
        ))),
        // Refusal messages never quote what was sent: they are audited, and bounded in kind.
        Some(_) => Err(refused(
            "unknown SignatureVersion; sign with Signature Version 4 or 2",
        )),
        None => {
            let v4 = header(&headers, "authorization").is_some_and(|a| a.starts_with(V4_ALGORITHM))
                || request.params.get("X-Amz-Algorithm").map(String::as_str) == Some(V4_ALGORITHM);
            if !v4 {
                return Err(refused(
                    "unexpected signature format: expected AWS Signature Version 4 or 2",
                ));
            }
            let malformed = || refused("the Signature Version 4 credential or signed headers are malformed");
            let (credential, signed_headers) = v4_auth_parts(request, &headers).ok_or_else(malformed)?;
            let (credential_access, scope) = credential.split_once('/').ok_or_else(malformed)?;
            let scope = Scope::parse(scope).ok_or_else(malformed)?;
            if credential_access != request.access {
                return Err(refused(REFUSED));
            }
            let timestamp = header(&headers, "x-amz-date")
                .or_else(|| request.params.get("X-Amz-Date").map(String::as_str))
                .ok_or_else(|| refused(UNDATED))?;
            let time = parse_basic_time(timestamp)
                .filter(|_| timestamp.starts_with(&scope.date))
                .ok_or_else(|| refused("X-Amz-Date must be YYYYMMDDTHHMMSSZ on the credential scope's date"))?;
            let body_hash = request.body_hash.as_deref().ok_or_else(|| {
                Error::Invalid("credentials.body_hash is required for a Signature Version 4 request".into())
            })?;
            let string_to_sign = signature::ec2_v4_string_to_sign(
                &V4Request {
                    verb: &request.verb,
                    path: &request.path,
                    params: &request.params,
                    headers: &headers,
                    signed_headers: &signed_headers,
                    body_hash,
                },
                timestamp,
                &scope,
            );
            Ok((
                Expected::Ec2V4 {
                    scope,
                    string_to_sign,
                },
                SignedAt::Time(time),
            ))
        }
    }
}

/// Base64 as RGW (standard alphabet) and Swift's s3api (URL-safe) write it, padded or not.
fn decode_token(token: &str) -> Result<Vec<u8>> {
    const ANY_PADDING: GeneralPurpose = GeneralPurpose::new(
        &alphabet::STANDARD,
        GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
    );
    let standard: String = token
        .chars()
        .map(|c| match c {
            '-' => '+',
            '_' => '/',
            other => other,
        })
        .collect();
    ANY_PADDING
        .decode(standard)
        .map_err(|_| Error::Invalid("credentials.token must be the base64 of the string to sign".into()))
}

/// What an `s3tokens` request's signature must be, and when it was made.
fn plan_s3(request: &S3Credentials) -> Result<(Expected, SignedAt)> {
    if request.token.is_empty() {
        return Err(Error::Invalid(
            "credentials.token (the base64 of the string to sign) is required".into(),
        ));
    }
    let string_to_sign = decode_token(&request.token)?;
    let text = String::from_utf8_lossy(&string_to_sign).into_owned();
    if string_to_sign.starts_with(b"AWS4") {
        let malformed = || {
            refused("the string to sign is not a Signature Version 4 string to sign (AWS4-HMAC-SHA256, time, scope, hash)")
        };
        let lines: Vec<&str> = text.split('\n').collect();
        let [V4_ALGORITHM, timestamp, scope, hash] = lines[..] else {
            return Err(malformed());
        };
        let scope = Scope::parse(scope)
            .filter(|s| S3_SERVICES.contains(&s.service.as_str()))
            .ok_or_else(malformed)?;
        let time = parse_basic_time(timestamp)
            .filter(|_| timestamp.starts_with(&scope.date))
            .ok_or_else(malformed)?;
        if hash.len() != 64 || !hash.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(malformed());
        }
        return Ok((
            Expected::S3V4 {
                scope,
                string_to_sign,
            },
            SignedAt::S3V4(time),
        ));
    }
    // Signature Version 2: verb, Content-MD5, Content-Type, Date, x-amz-* headers, resource.
    let lines: Vec<&str> = text.split('\n').collect();
    if lines.len() < 5 {
        return Err(refused(
            "the string to sign is neither an S3 Signature Version 2 nor a Version 4 string to sign",
        ));
    }
    let date = lines[3];
    let unreadable = || refused("the signed Date of the request cannot be read");
    let signed_at = if date.is_empty() {
        let amz_date = lines[4..lines.len() - 1]
            .iter()
            .find_map(|l| l.strip_prefix("x-amz-date:"))
            .ok_or_else(|| refused(UNDATED))?;
        SignedAt::Time(parse_http_time(amz_date.trim()).ok_or_else(unreadable)?)
    } else if date.bytes().all(|b| b.is_ascii_digit()) {
        // A presigned URL signs its Expires (seconds since 1970) where the Date would be.
        let expires = date
            .parse::<i64>()
            .ok()
            .and_then(|s| Utc.timestamp_opt(s, 0).single());
        SignedAt::Expires(expires.ok_or_else(unreadable)?)
    } else {
        SignedAt::Time(parse_http_time(date).ok_or_else(unreadable)?)
    };
    Ok((Expected::S3V2 { string_to_sign }, signed_at))
}

impl Console {
    /// Seals a new S3 key's secret for its record.
    pub(super) fn seal_s3_secret(&self, key_id: &str, secret: &str) -> SealedSecret {
        self.sealer.seal(key_id, secret)
    }

    /// `POST /v3/ec2tokens`: checks the signature and issues a token for the key's project,
    /// with the `ec2credential` method.
    pub fn ec2_token(&self, caller: &Actor, request: &Ec2Credentials) -> Result<IssuedToken> {
        let checked = request.check_bounds().and_then(|()| {
            let project = self.gateway_project(caller)?;
            supplied(&request.access, &request.signature)?;
            let (expected, signed_at) = plan_ec2(request)?;
            let info = self.checked_key(
                &project,
                &request.access,
                &request.signature,
                &expected,
                signed_at,
            )?;
            Ok(self.mint_token(info))
        });
        self.audit_check(caller, "ec2tokens", &request.access, checked, |issued| {
            &issued.info
        })
    }

    /// `POST /v3/s3tokens`: checks the signature an S3 gateway relays and says whom it proves
    /// (Keystone's token body; as in Keystone, no token leaves this call).
    pub fn s3_token(&self, caller: &Actor, request: &S3Credentials) -> Result<TokenInfo> {
        let checked = request.check_bounds().and_then(|()| {
            let project = self.gateway_project(caller)?;
            supplied(&request.access, &request.signature)?;
            let (expected, signed_at) = plan_s3(request)?;
            self.checked_key(
                &project,
                &request.access,
                &request.signature,
                &expected,
                signed_at,
            )
        });
        self.audit_check(caller, "s3tokens", &request.access, checked, |info| info)
    }

    /// The project whose S3 keys `caller` may check: a service account's, through its token.
    fn gateway_project(&self, caller: &Actor) -> Result<String> {
        match (&caller.principal, &caller.via) {
            (Principal::ServiceAccount(_), Via::Token { project_id: Some(project_id), .. }) => Ok(project_id.clone()),
            _ => Err(Error::Denied(
                "only a service account's token may check S3 signatures (the S3 gateway's own identity, as Keystone's service role), and only for the S3 access keys of its project".into(),
            )),
        }
    }

    /// What the S3 key of `project` whose secret made `presented` stands for, checked in this
    /// order: the key exists there (else the same work on a decoy), its secret is sealed and
    /// opens, the signature matches, the key still stands (owner, membership, project), and
    /// — last, as in Keystone, so that only the signer learns of it — the time is in the window.
    fn checked_key(
        &self,
        project: &str,
        access: &str,
        presented: &str,
        expected: &Expected,
        signed_at: SignedAt,
    ) -> Result<TokenInfo> {
        let key = self
            .store
            .get::<AccessKey>(Table::Keys, access)?
            .filter(|k| k.kind == KeyKind::S3 && k.project_id == project);
        let Some(key) = key else {
            if let Some(secret) = self.sealer.open_secret(DECOY_KEY_ID, &self.sealer.decoy) {
                let _ = expected.matches(&secret, presented);
            }
            return Err(refused(REFUSED));
        };
        let sealed = key
            .sealed_secret
            .as_ref()
            .ok_or_else(|| refused(PREDATES_SEALING))?;
        let secret = self
            .sealer
            .open_secret(&key.id, sealed)
            .ok_or_else(|| refused(UNSEALABLE))?;
        let matched = expected.matches(&secret, presented);
        drop(secret);
        if !matched {
            return Err(refused(REFUSED));
        }
        let info = self.ec2_token_info(&key).map_err(|e| match e {
            Error::Auth(_) => refused(REFUSED),
            other => other,
        })?;
        if !signed_at.accepted_at(self.now()) {
            return Err(refused(OUT_OF_WINDOW));
        }
        Ok(info)
    }

    /// Audits a check: a success as one record (as a token issue), a refusal into the tally.
    fn audit_check<T>(
        &self,
        caller: &Actor,
        action: &'static str,
        access: &str,
        checked: Result<T>,
        info: impl Fn(&T) -> &TokenInfo,
    ) -> Result<T> {
        match &checked {
            Ok(value) => {
                let info = info(value);
                super::audit::append_alone(self, caller, action, &info.key_id, "ok")?;
                tracing::debug!(caller = %caller.label, action, key = %info.key_id, "S3 signature accepted");
            }
            Err(e @ (Error::Auth(_) | Error::Denied(_) | Error::Invalid(_))) => {
                let target = self.failure_target(caller, access);
                tracing::info!(caller = %caller.label, action, target = %target, reason = %e, "S3 signature refused");
                // Counted with the token API's refusals: one audit record per (caller, key,
                // reason) for as many failures as arrive between two writes of the tallies.
                self.tally_by(caller, action, &target, format!("refused: {}", e.message()))?;
            }
            Err(_) => {}
        }
        checked
    }

    /// What a refusal records of the access key: its ID when it is a key of the caller's
    /// project, one shared name otherwise — never an unknown value sent from outside.
    fn failure_target(&self, caller: &Actor, access: &str) -> String {
        let project = match &caller.via {
            Via::Token {
                project_id: Some(project_id),
                ..
            } => project_id.as_str(),
            _ => "",
        };
        let known = super::validate::is_id(access)
            && matches!(self.store.get::<AccessKey>(Table::Keys, access), Ok(Some(k)) if k.kind == KeyKind::S3 && k.project_id == project);
        if known {
            access.to_string()
        } else {
            "<unknown access key>".into()
        }
    }
}
