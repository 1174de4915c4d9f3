//! HTTP Signatures as the fediverse uses them: draft-cavage (`Signature:
//! keyId=…,algorithm="rsa-sha256",headers="(request-target) host date
//! digest",signature=…`, what Mastodon sends and expects) and RFC 9421
//! (`Signature-Input` + `Signature`, which Fedify tries first).
//!
//! Everything here is pure: parsing, the string that is signed, digests,
//! and the RSA operations (ring's, constant time). [`parse_signature_header`]
//! and [`parse_signature_input`] take untrusted text and are the fuzzing
//! boundary (they never panic; `tests/fuzz/` may call them directly).

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use http::HeaderMap;
use jiff::{SignedDuration, Timestamp};
use sha2::{Digest as _, Sha256, Sha512};

/// How far a request's `Date` (or `created`) may be from now: Mastodon's
/// window.
pub const MAX_CLOCK_SKEW: SignedDuration = SignedDuration::from_hours(12);

/// A parsed draft-cavage `Signature` header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CavageSignature {
    /// The URL of the signer's key.
    pub key_id: String,
    /// The algorithm named (`rsa-sha256`, `hs2019`), if any.
    pub algorithm: Option<String>,
    /// The signed headers, lowercase, in order (default `date`).
    pub headers: Vec<String>,
    /// The signature bytes.
    pub signature: Vec<u8>,
    /// `created`, if given (Unix seconds).
    pub created: Option<i64>,
    /// `expires`, if given (Unix seconds).
    pub expires: Option<i64>,
}

/// Why a signature was refused: said in the 401's body.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    /// No `Signature` header at all.
    #[error("the request is not signed")]
    Missing,
    /// The header could not be read.
    #[error("unreadable signature: {0}")]
    Malformed(String),
    /// The header is readable but signs too little or the wrong thing.
    #[error("{0}")]
    Refused(String),
    /// The signature does not match the key.
    #[error("the signature does not verify with the key {0}")]
    Mismatch(String),
}

/// Reads a draft-cavage `Signature` (or `Authorization: Signature …`)
/// header value. Never panics, whatever the input.
pub fn parse_signature_header(value: &str) -> Result<CavageSignature, SignatureError> {
    let value = value.trim();
    let value = value.strip_prefix("Signature ").unwrap_or(value);
    let mut key_id = None;
    let mut algorithm = None;
    let mut headers = None;
    let mut signature = None;
    let mut created = None;
    let mut expires = None;
    for (name, raw) in parameters(value)? {
        match name.to_ascii_lowercase().as_str() {
            "keyid" => key_id = Some(raw),
            "algorithm" => algorithm = Some(raw.to_ascii_lowercase()),
            "headers" => headers = Some(signed_header_names(&raw)?),
            "signature" => {
                signature = Some(
                    BASE64
                        .decode(raw.as_bytes())
                        .map_err(|e| SignatureError::Malformed(format!("signature is not base64: {e}")))?,
                )
            }
            "created" => created = raw.parse::<i64>().ok(),
            "expires" => expires = raw.parse::<i64>().ok(),
            _ => {}
        }
    }
    let key_id = key_id.ok_or_else(|| SignatureError::Malformed("no keyId".into()))?;
    let signature = signature.ok_or_else(|| SignatureError::Malformed("no signature".into()))?;
    Ok(CavageSignature {
        key_id,
        algorithm,
        headers: headers.unwrap_or_else(|| vec!["date".into()]),
        signature,
        created,
        expires,
    })
}

/// The names of a draft-cavage `headers` parameter, lowercase: HTTP field
/// names (tokens, RFC 9110) or a pseudo-header such as `(request-target)`.
/// Anything else cannot name a header of the request (a non-ASCII letter
/// would not even lowercase as HTTP does), so the signature is malformed.
fn signed_header_names(raw: &str) -> Result<Vec<String>, SignatureError> {
    let is_token = |name: &str| {
        !name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
    };
    raw.split_ascii_whitespace()
        .map(|name| {
            let pseudo = name.strip_prefix('(').and_then(|n| n.strip_suffix(')'));
            if pseudo.map_or_else(|| is_token(name), is_token) {
                Ok(name.to_ascii_lowercase())
            } else {
                Err(SignatureError::Malformed(format!(
                    "`headers` lists `{}`, which is not a header name",
                    preview(name)
                )))
            }
        })
        .collect()
}

/// `name="value"` (or `name=value`) pairs separated by commas.
fn parameters(text: &str) -> Result<Vec<(String, String)>, SignatureError> {
    let mut out = Vec::new();
    let mut rest = text;
    loop {
        rest = rest.trim_start_matches([' ', ',', '\t']);
        if rest.is_empty() {
            return Ok(out);
        }
        let Some(eq) = rest.find('=') else {
            return Err(SignatureError::Malformed(format!("expected name=value at `{}`", preview(rest))));
        };
        let name = rest[..eq].trim().to_string();
        rest = &rest[eq + 1..];
        let value = if let Some(quoted) = rest.strip_prefix('"') {
            let Some(end) = quoted.find('"') else {
                return Err(SignatureError::Malformed(format!("unterminated quote after {name}")));
            };
            let value = quoted[..end].to_string();
            rest = &quoted[end + 1..];
            value
        } else {
            let end = rest.find(',').unwrap_or(rest.len());
            let value = rest[..end].trim().to_string();
            rest = &rest[end..];
            value
        };
        out.push((name, value));
    }
}

fn preview(text: &str) -> String {
    text.chars().take(40).collect()
}

/// The draft-cavage signing string of a request with `method`, `path_and_query`
/// and `headers` over `covered` header names.
pub fn signing_string(
    method: &str,
    path_and_query: &str,
    headers: &HeaderMap,
    covered: &[String],
    created: Option<i64>,
    expires: Option<i64>,
) -> Result<String, SignatureError> {
    let mut lines = Vec::with_capacity(covered.len());
    for name in covered {
        let line = match name.as_str() {
            "(request-target)" => format!("(request-target): {} {path_and_query}", method.to_ascii_lowercase()),
            "(created)" => format!(
                "(created): {}",
                created.ok_or_else(|| SignatureError::Refused("(created) is signed but not given".into()))?
            ),
            "(expires)" => format!(
                "(expires): {}",
                expires.ok_or_else(|| SignatureError::Refused("(expires) is signed but not given".into()))?
            ),
            header => {
                let values: Vec<&str> = headers.get_all(header).iter().filter_map(|v| v.to_str().ok()).collect();
                if values.is_empty() {
                    return Err(SignatureError::Refused(format!("the signed header `{header}` is missing")));
                }
                format!("{header}: {}", values.iter().map(|v| v.trim()).collect::<Vec<_>>().join(", "))
            }
        };
        lines.push(line);
    }
    Ok(lines.join("\n"))
}

/// `SHA-256=…` of `body`, the `Digest` header herald sends.
pub fn digest_header(body: &[u8]) -> String {
    format!("SHA-256={}", BASE64.encode(Sha256::digest(body)))
}

/// Whether a `Digest` header (`SHA-256=…`, maybe among others) matches
/// `body`: at least one known algorithm is given, and every known one
/// matches.
pub fn digest_matches(header: &str, body: &[u8]) -> bool {
    let mut checked = false;
    for part in header.split(',') {
        let Some((algorithm, value)) = part.trim().split_once('=') else { continue };
        let expected = match algorithm.to_ascii_lowercase().as_str() {
            "sha-256" => BASE64.encode(Sha256::digest(body)),
            "sha-512" => BASE64.encode(Sha512::digest(body)),
            _ => continue,
        };
        if value.trim() != expected {
            return false;
        }
        checked = true;
    }
    checked
}

/// Whether an RFC 9530 `Content-Digest` (`sha-256=:…:`) matches `body`.
pub fn content_digest_matches(header: &str, body: &[u8]) -> bool {
    let mut checked = false;
    for part in header.split(',') {
        let Some((algorithm, value)) = part.trim().split_once('=') else { continue };
        let value = value.trim().trim_matches(':');
        let expected = match algorithm.trim().to_ascii_lowercase().as_str() {
            "sha-256" => BASE64.encode(Sha256::digest(body)),
            "sha-512" => BASE64.encode(Sha512::digest(body)),
            _ => continue,
        };
        if value != expected {
            return false;
        }
        checked = true;
    }
    checked
}

/// An HTTP date (`Date` header) for `at`.
pub fn http_date(at: Timestamp) -> String {
    at.to_zoned_datetime(jiff::tz::TimeZone::UTC).strftime("%a, %d %b %Y %H:%M:%S GMT").to_string()
}

/// Reads an HTTP date (RFC 9110 IMF-fixdate, or RFC 2822 forms).
pub fn parse_http_date(text: &str) -> Option<Timestamp> {
    let text = text.trim();
    jiff::fmt::rfc2822::parse(text).ok().map(|z| z.timestamp()).or_else(|| {
        jiff::civil::DateTime::strptime("%a, %d %b %Y %H:%M:%S GMT", text)
            .ok()
            .and_then(|dt| dt.to_zoned_datetime(jiff::tz::TimeZone::UTC).ok())
            .map(|z| z.timestamp())
    })
}

/// Whether `at` is within [`MAX_CLOCK_SKEW`] of `now`.
pub fn is_fresh(at: Timestamp, now: Timestamp) -> bool {
    now.duration_since(at).abs() <= MAX_CLOCK_SKEW
}

/// Verifies an RSA PKCS#1 v1.5 SHA-256 `signature` of `message` with a
/// public key in PEM (SPKI `PUBLIC KEY` or PKCS#1 `RSA PUBLIC KEY`).
pub fn verify_rsa_sha256(public_key_pem: &str, message: &[u8], signature: &[u8]) -> Result<(), String> {
    let der = super::keys::public_key_pkcs1_der(public_key_pem)?;
    ring::signature::UnparsedPublicKey::new(&ring::signature::RSA_PKCS1_2048_8192_SHA256, der)
        .verify(message, signature)
        .map_err(|_| "the signature does not match".to_string())
}

/// One RFC 9421 signature: its label, covered components, parameters and
/// bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageSignature {
    /// The label (`sig1`).
    pub label: String,
    /// Covered components, as written (`"@method"`, `"content-digest"`).
    pub components: Vec<String>,
    /// The whole inner list with its parameters, as written (the
    /// `@signature-params` line).
    pub params_text: String,
    /// `keyid`.
    pub key_id: String,
    /// `alg`, if given.
    pub algorithm: Option<String>,
    /// `created`, if given.
    pub created: Option<i64>,
    /// `expires`, if given.
    pub expires: Option<i64>,
    /// The signature bytes.
    pub signature: Vec<u8>,
}

/// Reads RFC 9421 `Signature-Input` and `Signature` header values: the
/// first signature found in both. Never panics, whatever the input.
pub fn parse_signature_input(input: &str, signature: &str) -> Result<MessageSignature, SignatureError> {
    let malformed = |what: &str| SignatureError::Malformed(what.to_string());
    let (label, rest) = input.split_once('=').ok_or_else(|| malformed("Signature-Input has no label"))?;
    let label = label.trim().to_string();
    let rest = rest.trim();
    // Only the first member: stop at a comma outside quotes and parentheses.
    let mut depth = 0i32;
    let mut quoted = false;
    let mut end = rest.len();
    for (i, c) in rest.char_indices() {
        match c {
            '"' => quoted = !quoted,
            '(' if !quoted => depth += 1,
            ')' if !quoted => depth -= 1,
            ',' if !quoted && depth == 0 => {
                end = i;
                break;
            }
            _ => {}
        }
    }
    let params_text = rest[..end].trim().to_string();
    let inner = params_text.strip_prefix('(').ok_or_else(|| malformed("Signature-Input lacks its component list"))?;
    let close = inner.find(')').ok_or_else(|| malformed("Signature-Input's component list is not closed"))?;
    let components: Vec<String> = inner[..close].split_ascii_whitespace().map(str::to_string).collect();
    let mut key_id = None;
    let mut algorithm = None;
    let mut created = None;
    let mut expires = None;
    for param in inner[close + 1..].split(';').map(str::trim).filter(|p| !p.is_empty()) {
        let (name, value) = param.split_once('=').unwrap_or((param, ""));
        let value = value.trim_matches('"').to_string();
        match name {
            "keyid" => key_id = Some(value),
            "alg" => algorithm = Some(value),
            "created" => created = value.parse().ok(),
            "expires" => expires = value.parse().ok(),
            _ => {}
        }
    }
    let bytes = signature
        .split(',')
        .filter_map(|member| member.split_once('='))
        .find(|(name, _)| name.trim() == label)
        .map(|(_, value)| value.trim().trim_matches(':').to_string())
        .ok_or_else(|| malformed("no Signature for the Signature-Input's label"))?;
    let signature = BASE64.decode(bytes.as_bytes()).map_err(|e| malformed(&format!("signature is not base64: {e}")))?;
    Ok(MessageSignature {
        label,
        components,
        params_text,
        key_id: key_id.ok_or_else(|| malformed("Signature-Input has no keyid"))?,
        algorithm,
        created,
        expires,
        signature,
    })
}

/// The RFC 9421 signature base of `signature` over a request.
pub fn signature_base(
    signature: &MessageSignature,
    method: &str,
    target_uri: &str,
    headers: &HeaderMap,
) -> Result<String, SignatureError> {
    let uri = url::Url::parse(target_uri).map_err(|e| SignatureError::Refused(format!("bad target URI: {e}")))?;
    let mut lines = Vec::new();
    for component in &signature.components {
        let name = component.trim_matches('"');
        let value = match name {
            "@method" => method.to_ascii_uppercase(),
            "@target-uri" => target_uri.to_string(),
            "@authority" => authority(&uri),
            "@scheme" => uri.scheme().to_string(),
            "@path" => uri.path().to_string(),
            "@query" => format!("?{}", uri.query().unwrap_or("")),
            "@request-target" => match uri.query() {
                Some(q) => format!("{}?{q}", uri.path()),
                None => uri.path().to_string(),
            },
            header if !header.starts_with('@') => {
                let values: Vec<&str> = headers.get_all(header).iter().filter_map(|v| v.to_str().ok()).collect();
                if values.is_empty() {
                    return Err(SignatureError::Refused(format!("the signed header `{header}` is missing")));
                }
                values.iter().map(|v| v.trim()).collect::<Vec<_>>().join(", ")
            }
            other => return Err(SignatureError::Refused(format!("component {other} is not supported"))),
        };
        lines.push(format!("\"{name}\": {value}"));
    }
    lines.push(format!("\"@signature-params\": {}", signature.params_text));
    Ok(lines.join("\n"))
}

fn authority(uri: &url::Url) -> String {
    let host = uri.host_str().unwrap_or_default().to_ascii_lowercase();
    match uri.port() {
        Some(port) => format!("{host}:{port}"),
        None => host,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_mastodon_signature_header_parses() {
        let header = r#"keyId="https://m.example/users/a#main-key",algorithm="rsa-sha256",headers="(request-target) host date digest",signature="AAEC""#;
        let parsed = parse_signature_header(header).unwrap();
        assert_eq!(parsed.key_id, "https://m.example/users/a#main-key");
        assert_eq!(parsed.headers, ["(request-target)", "host", "date", "digest"]);
        assert_eq!(parsed.signature, [0, 1, 2]);
        assert!(parse_signature_header("keyId=\"x\"").is_err(), "no signature");
        assert!(parse_signature_header("keyId=\"x,signature=\"AA==\"").is_err(), "unterminated");
        assert!(parse_signature_header("garbage").is_err());
        // Whatever the input, no panic.
        for text in ["", "=", "==", "a=\"", ",,,", "signature=!!", "keyId=,signature=", "\u{0}=\u{1}"] {
            let _ = parse_signature_header(text);
            let _ = parse_signature_input(text, text);
        }
    }

    #[test]
    fn digests_and_dates() {
        let body = b"{}";
        assert!(digest_matches(&digest_header(body), body));
        assert!(!digest_matches(&digest_header(b"x"), body));
        assert!(!digest_matches("MD5=abc", body), "no known algorithm");
        let at: Timestamp = "2026-12-07T10:00:00Z".parse().unwrap();
        assert_eq!(http_date(at), "Mon, 07 Dec 2026 10:00:00 GMT");
        assert_eq!(parse_http_date("Mon, 07 Dec 2026 10:00:00 GMT"), Some(at));
        assert!(is_fresh(at, "2026-12-07T21:59:00Z".parse().unwrap()));
        assert!(!is_fresh(at, "2026-12-07T22:01:00Z".parse().unwrap()));
    }

    #[test]
    fn rfc9421_input_parses_into_a_base() {
        let input = r#"sig1=("@method" "@target-uri" "content-digest");created=1700000000;keyid="https://f.example/u#k";alg="rsa-v1_5-sha256""#;
        let parsed = parse_signature_input(input, "sig1=:AAEC:").unwrap();
        assert_eq!(parsed.key_id, "https://f.example/u#k");
        assert_eq!(parsed.created, Some(1_700_000_000));
        let mut headers = HeaderMap::new();
        headers.insert("content-digest", "sha-256=:x:".parse().unwrap());
        let base = signature_base(&parsed, "post", "https://h.example/ap/inbox", &headers).unwrap();
        assert_eq!(
            base,
            "\"@method\": POST\n\"@target-uri\": https://h.example/ap/inbox\n\"content-digest\": sha-256=:x:\n\
             \"@signature-params\": (\"@method\" \"@target-uri\" \"content-digest\");created=1700000000;\
             keyid=\"https://f.example/u#k\";alg=\"rsa-v1_5-sha256\""
        );
    }
}
