//! Checking who sent an inbox request: its HTTP signature (draft-cavage or
//! RFC 9421), the body's digest, the date, and the signer's key fetched by
//! its `keyId` (once more, fresh, when the cached key fails: the sender may
//! have rotated it).

use http::HeaderMap;
use jiff::Timestamp;

use super::remote::Remote;
use super::signatures::{
    SignatureError, content_digest_matches, digest_matches, is_fresh, parse_http_date, parse_signature_header,
    parse_signature_input, signature_base, signing_string, verify_rsa_sha256,
};

/// A request as signature checking reads it.
pub struct SignedRequest<'a> {
    /// `POST`.
    pub method: &'a str,
    /// The path and query as received (`/ap/inbox`).
    pub path_and_query: &'a str,
    /// The URL the sender called (for RFC 9421's `@target-uri`).
    pub target_uri: &'a str,
    /// The headers.
    pub headers: &'a HeaderMap,
    /// The body.
    pub body: &'a [u8],
}

/// What a signature needs to be checked: the key id, the message signed
/// and the signature bytes.
struct Claim {
    key_id: String,
    message: String,
    signature: Vec<u8>,
}

/// Verifies `request`'s signature at `now` and returns the actor that owns
/// the key it was made with.
pub async fn verify(
    request: &SignedRequest<'_>,
    remote: &Remote,
    allow_private: bool,
    now: Timestamp,
) -> Result<String, SignatureError> {
    let claim = claim(request, now)?;
    let key = remote.key(&claim.key_id, allow_private, false).await.map_err(SignatureError::Refused)?;
    if verify_rsa_sha256(&key.pem, claim.message.as_bytes(), &claim.signature).is_ok() {
        return Ok(key.owner);
    }
    // The key may have been rotated since it was cached: ask once more.
    let key = remote.key(&claim.key_id, allow_private, true).await.map_err(SignatureError::Refused)?;
    verify_rsa_sha256(&key.pem, claim.message.as_bytes(), &claim.signature)
        .map_err(|_| SignatureError::Mismatch(claim.key_id.clone()))?;
    Ok(key.owner)
}

/// Reads the signature of `request` and checks everything but the key:
/// what it covers, the digest, the date.
fn claim(request: &SignedRequest<'_>, now: Timestamp) -> Result<Claim, SignatureError> {
    let header = |name: &str| request.headers.get(name).and_then(|v| v.to_str().ok());
    if let (Some(input), Some(signature)) = (header("signature-input"), header("signature")) {
        return rfc9421_claim(request, input, signature, now);
    }
    let value = header("signature")
        .or_else(|| header("authorization").filter(|a| a.starts_with("Signature ")))
        .ok_or(SignatureError::Missing)?;
    let parsed = parse_signature_header(value)?;
    if let Some(algorithm) = &parsed.algorithm
        && algorithm != "rsa-sha256"
        && algorithm != "hs2019"
    {
        return Err(SignatureError::Refused(format!("algorithm {algorithm} is not supported; use rsa-sha256")));
    }
    let covers = |name: &str| parsed.headers.iter().any(|h| h == name);
    let dated = covers("date") || covers("(created)");
    if !covers("(request-target)") || !covers("host") || !dated {
        return Err(SignatureError::Refused(
            "the signature must cover (request-target), host and date (or (created))".into(),
        ));
    }
    if !request.body.is_empty() {
        if !covers("digest") {
            return Err(SignatureError::Refused("the signature must cover digest".into()));
        }
        let digest = header("digest").ok_or_else(|| SignatureError::Refused("no Digest header".into()))?;
        if !digest_matches(digest, request.body) {
            return Err(SignatureError::Refused("the Digest does not match the body".into()));
        }
    }
    let signed_at = match parsed.created {
        Some(created) if covers("(created)") => Timestamp::from_second(created).ok(),
        _ => header("date").and_then(parse_http_date),
    }
    .ok_or_else(|| SignatureError::Refused("no readable Date".into()))?;
    if !is_fresh(signed_at, now) {
        return Err(SignatureError::Refused("the Date is more than 12 hours from now".into()));
    }
    let message = signing_string(
        request.method,
        request.path_and_query,
        request.headers,
        &parsed.headers,
        parsed.created,
        parsed.expires,
    )?;
    Ok(Claim { key_id: parsed.key_id, message, signature: parsed.signature })
}

/// The same for an RFC 9421 signature.
fn rfc9421_claim(
    request: &SignedRequest<'_>,
    input: &str,
    signature: &str,
    now: Timestamp,
) -> Result<Claim, SignatureError> {
    let parsed = parse_signature_input(input, signature)?;
    if let Some(algorithm) = &parsed.algorithm
        && algorithm != "rsa-v1_5-sha256"
    {
        return Err(SignatureError::Refused(format!("alg {algorithm} is not supported; use rsa-v1_5-sha256")));
    }
    let covers = |name: &str| parsed.components.iter().any(|c| c.trim_matches('"') == name);
    let targets = covers("@target-uri") || (covers("@authority") && (covers("@path") || covers("@request-target")));
    if !covers("@method") || !targets {
        return Err(SignatureError::Refused("the signature must cover @method and @target-uri".into()));
    }
    if !request.body.is_empty() {
        let digest = request.headers.get("content-digest").and_then(|v| v.to_str().ok());
        match digest {
            Some(digest) if covers("content-digest") && content_digest_matches(digest, request.body) => {}
            Some(_) if covers("content-digest") => {
                return Err(SignatureError::Refused("the Content-Digest does not match the body".into()));
            }
            _ => return Err(SignatureError::Refused("the signature must cover content-digest".into())),
        }
    }
    let created = parsed
        .created
        .and_then(|c| Timestamp::from_second(c).ok())
        .ok_or_else(|| SignatureError::Refused("the signature has no created time".into()))?;
    if !is_fresh(created, now) {
        return Err(SignatureError::Refused("the signature was made more than 12 hours from now".into()));
    }
    let message = signature_base(&parsed, request.method, request.target_uri, request.headers)?;
    Ok(Claim { key_id: parsed.key_id, message, signature: parsed.signature })
}
