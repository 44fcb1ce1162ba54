//! AWS request signatures, computed the way Keystone checks them for `ec2tokens` and `s3tokens`
//! (python-keystoneclient's `Ec2Signer` and Keystone's `s3tokens`): EC2's query Signature
//! Version 2, S3's HMAC-SHA1 signature (botocore's `HmacV1`) and Signature Version 4.
//!
//! Pure functions of their inputs: no I/O, no clock, no secrets kept. The caller compares the
//! result with the presented signature in constant time.

use std::collections::BTreeMap;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use hmac::{Hmac, Mac};
use sha1::Sha1;
use sha2::{Digest, Sha256};

/// The algorithm name of Signature Version 4, first line of its string to sign.
pub const V4_ALGORITHM: &str = "AWS4-HMAC-SHA256";

fn hmac_sha256(key: &[u8], message: &[u8]) -> [u8; 32] {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes any key length");
    mac.update(message);
    mac.finalize().into_bytes().into()
}

/// S3's signature version 2 (HMAC-SHA1, base64) over a string to sign.
pub fn s3_v2(secret: &[u8], string_to_sign: &[u8]) -> String {
    let mut mac = Hmac::<Sha1>::new_from_slice(secret).expect("HMAC takes any key length");
    mac.update(string_to_sign);
    STANDARD.encode(mac.finalize().into_bytes())
}

/// AWS's URI encoding: every byte except the unreserved `A-Z a-z 0-9 - _ . ~` as `%XX`.
pub fn uri_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~') {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// The sorted, encoded query string both EC2 signature versions sign. A `BTreeMap` orders keys
/// by code point, as Keystone's `sorted()` does.
pub fn canonical_query(params: &BTreeMap<String, String>) -> String {
    params
        .iter()
        .map(|(key, value)| format!("{}={}", uri_encode(key), uri_encode(value)))
        .collect::<Vec<_>>()
        .join("&")
}

/// EC2's query Signature Version 2 (HMAC-SHA256, base64). As Keystone's signer, the
/// `SignatureMethod` signed is always `HmacSHA256`: a request signed with HmacSHA1 does not match.
pub fn ec2_v2(
    secret: &[u8],
    verb: &str,
    host: &str,
    path: &str,
    params: &BTreeMap<String, String>,
) -> String {
    let mut params = params.clone();
    params.insert("SignatureMethod".into(), "HmacSHA256".into());
    let string_to_sign = format!("{verb}\n{host}\n{path}\n{}", canonical_query(&params));
    STANDARD.encode(hmac_sha256(secret, string_to_sign.as_bytes()))
}

/// A Signature Version 4 credential scope: `date/region/service/aws4_request`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scope {
    pub date: String,
    pub region: String,
    pub service: String,
}

impl Scope {
    /// Reads `YYYYMMDD/region/service/aws4_request`; `None` for anything else.
    pub fn parse(text: &str) -> Option<Scope> {
        let parts: Vec<&str> = text.split('/').collect();
        let [date, region, service, "aws4_request"] = parts[..] else {
            return None;
        };
        let date_ok = date.len() == 8 && date.bytes().all(|b| b.is_ascii_digit());
        let name_ok = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_graphic());
        (date_ok && name_ok(region) && name_ok(service)).then(|| Scope {
            date: date.into(),
            region: region.into(),
            service: service.into(),
        })
    }

    pub fn text(&self) -> String {
        format!("{}/{}/{}/aws4_request", self.date, self.region, self.service)
    }
}

/// Signature Version 4 (hex) over a string to sign, with the key derived for `scope`.
pub fn v4(secret: &[u8], scope: &Scope, string_to_sign: &[u8]) -> String {
    let mut first = Vec::with_capacity(4 + secret.len());
    first.extend_from_slice(b"AWS4");
    first.extend_from_slice(secret);
    let date_key = hmac_sha256(&first, scope.date.as_bytes());
    zeroize::Zeroize::zeroize(&mut first);
    let region_key = hmac_sha256(&date_key, scope.region.as_bytes());
    let service_key = hmac_sha256(&region_key, scope.service.as_bytes());
    let signing_key = hmac_sha256(&service_key, b"aws4_request");
    hex::encode(hmac_sha256(&signing_key, string_to_sign))
}

/// The parts of an EC2 API request that its Signature Version 4 covers.
pub struct V4Request<'a> {
    pub verb: &'a str,
    pub path: &'a str,
    pub params: &'a BTreeMap<String, String>,
    /// Header names in lower case, values as received.
    pub headers: &'a BTreeMap<String, String>,
    /// `;`-separated lower-case names, as in the `Authorization` header.
    pub signed_headers: &'a str,
    pub body_hash: &'a str,
}

/// The string to sign of an EC2 API request signed with Signature Version 4, as Keystone builds
/// it from the request's parts: POST parameters travel in the body, so a POST signs no query;
/// a signed header the request lacks is left out.
pub fn ec2_v4_string_to_sign(request: &V4Request, timestamp: &str, scope: &Scope) -> String {
    let query = if request.verb.eq_ignore_ascii_case("POST") {
        String::new()
    } else {
        canonical_query(request.params)
    };
    let mut headers = String::new();
    for name in request.signed_headers.split(';') {
        if let Some(value) = request.headers.get(name) {
            // AWS trims a value and folds each run of spaces into one.
            let folded = value.split_whitespace().collect::<Vec<_>>().join(" ");
            headers.push_str(&format!("{name}:{folded}\n"));
        }
    }
    let canonical = [
        request.verb.to_ascii_uppercase().as_str(),
        request.path,
        &query,
        &headers,
        request.signed_headers,
        request.body_hash,
    ]
    .join("\n");
    format!(
        "{V4_ALGORITHM}\n{timestamp}\n{}\n{}",
        scope.text(),
        hex::encode(Sha256::digest(canonical.as_bytes()))
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    // AWS's published Signature Version 4 example (the IAM ListUsers request of the "Signature
    // Version 4 signing process" guide), with its example secret.
    const AWS_EXAMPLE_SECRET: &[u8] = b"wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";

    #[test]
    fn v4_matches_the_aws_guide_example() {
        let mut params = BTreeMap::new();
        params.insert("Action".to_string(), "ListUsers".to_string());
        params.insert("Version".to_string(), "2010-05-08".to_string());
        let mut headers = BTreeMap::new();
        headers.insert(
            "content-type".to_string(),
            "application/x-www-form-urlencoded; charset=utf-8".to_string(),
        );
        headers.insert("host".to_string(), "iam.amazonaws.com".to_string());
        headers.insert("x-amz-date".to_string(), "20150830T123600Z".to_string());
        let request = V4Request {
            verb: "GET",
            path: "/",
            params: &params,
            headers: &headers,
            signed_headers: "content-type;host;x-amz-date",
            body_hash: "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        };
        let scope = Scope::parse("20150830/us-east-1/iam/aws4_request").unwrap();
        let string_to_sign = ec2_v4_string_to_sign(&request, "20150830T123600Z", &scope);
        assert_eq!(
            string_to_sign,
            "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/iam/aws4_request\nf536975d06c0309214f805bb90ccff089219ecd68b2577efef23edd43b7e1a59"
        );
        assert_eq!(
            v4(AWS_EXAMPLE_SECRET, &scope, string_to_sign.as_bytes()),
            "5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7"
        );
    }

    #[test]
    fn s3_v2_matches_the_aws_guide_example() {
        // "Signing and authenticating REST requests", Example Object GET (that guide spells the
        // example secret with a slash where the Signature Version 4 guide has a plus).
        let secret = b"wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
        let string_to_sign = "GET\n\n\nTue, 27 Mar 2007 19:36:42 +0000\n/awsexamplebucket1/photos/puppy.jpg";
        assert_eq!(
            s3_v2(secret, string_to_sign.as_bytes()),
            "qgk2+6Sv9/oM7G3qLEjTH1a1l1g="
        );
    }

    #[test]
    fn scopes_other_than_the_four_part_form_are_refused() {
        for bad in [
            "20150830/us-east-1/iam",
            "20150830/us-east-1/iam/aws4_request,",
            "2015083/us-east-1/iam/aws4_request",
            "20150830//iam/aws4_request",
            "20150830/us east/iam/aws4_request",
        ] {
            assert_eq!(Scope::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn uri_encoding_keeps_only_unreserved_characters() {
        assert_eq!(uri_encode("a-b_c.d~e f/g+h=é"), "a-b_c.d~e%20f%2Fg%2Bh%3D%C3%A9");
    }
}
