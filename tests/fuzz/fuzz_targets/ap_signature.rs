//! Fuzz target: what another fediverse server sends to be checked before
//! anything is trusted (`activitypub::signatures`, pure): draft-cavage
//! `Signature` headers, RFC 9421 `Signature-Input` + `Signature`, `Digest`
//! and `Content-Digest`, HTTP dates, and the PEM public keys of remote
//! actors. The first input byte picks the reader; the rest is its input
//! (two values, where a reader takes two, split at the first newline).
//!
//! - no panic, whatever the bytes;
//! - a parsed `Signature` header names its headers in lowercase, and the
//!   signing string built from it has one line per signed header, each
//!   starting with that header's name;
//! - an RFC 9421 signature base ends with its `@signature-params` line;
//! - herald's own `Digest` of any body matches that body;
//! - an HTTP date that parses (years 1970 to 9999) is written back by
//!   herald in a form that parses to the same instant.

#![no_main]

use herald::activitypub::signatures::{
    content_digest_matches, digest_header, digest_matches, http_date, parse_http_date, parse_signature_header,
    parse_signature_input, signature_base, signing_string, verify_rsa_sha256,
};
use http::{HeaderMap, HeaderValue};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&which, rest)) = data.split_first() else { return };
    let text = String::from_utf8_lossy(rest);
    let (first, second) = text.split_once('\n').unwrap_or((&text, ""));
    match which % 5 {
        0 => cavage(first, second),
        1 => rfc9421(first, second),
        2 => digests(first, rest),
        3 => dates(&text),
        _ => {
            let _ = herald::activitypub::keys::public_key_pkcs1_der(first);
            let _ = verify_rsa_sha256(first, second.as_bytes(), rest);
        }
    }
});

/// Headers a signed request to an inbox carries; `extra` is one more
/// (`x-extra`), when it is a valid header value.
fn headers(extra: &str) -> HeaderMap {
    let mut headers = HeaderMap::new();
    headers.insert("host", HeaderValue::from_static("example.vn"));
    headers.insert("date", HeaderValue::from_static("Mon, 07 Dec 2026 12:00:00 GMT"));
    headers.insert("digest", HeaderValue::from_static("SHA-256=47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="));
    headers.insert("content-type", HeaderValue::from_static("application/activity+json"));
    if let Ok(value) = HeaderValue::from_str(extra) {
        headers.insert("x-extra", value);
    }
    headers
}

fn cavage(header: &str, extra: &str) {
    let Ok(signature) = parse_signature_header(header) else { return };
    assert_eq!(parse_signature_header(header).as_ref(), Ok(&signature), "read two ways");
    for name in &signature.headers {
        assert_eq!(name, &name.to_lowercase(), "a signed header's name is not lowercase");
    }
    let Ok(string) =
        signing_string("POST", "/inbox?x=1", &headers(extra), &signature.headers, signature.created, signature.expires)
    else {
        return;
    };
    let lines: Vec<&str> = string.split('\n').collect();
    assert_eq!(lines.len(), signature.headers.len().max(1), "{string:?}");
    for (line, name) in lines.iter().zip(&signature.headers) {
        assert!(line.starts_with(&format!("{name}: ")), "{line:?} does not start with {name}");
    }
}

fn rfc9421(input: &str, signature: &str) {
    let Ok(parsed) = parse_signature_input(input, signature) else { return };
    assert_eq!(parse_signature_input(input, signature).as_ref(), Ok(&parsed), "read two ways");
    let Ok(base) = signature_base(&parsed, "POST", "https://example.vn/inbox?x=1", &headers("")) else { return };
    let last = base.rsplit('\n').next().unwrap_or_default();
    assert_eq!(last, format!("\"@signature-params\": {}", parsed.params_text));
}

fn digests(header: &str, body: &[u8]) {
    let _ = digest_matches(header, body);
    let _ = content_digest_matches(header, body);
    assert!(digest_matches(&digest_header(body), body), "herald's own Digest does not match its body");
}

fn dates(text: &str) {
    let Some(at) = parse_http_date(text) else { return };
    let year = at.to_zoned_datetime(jiff::tz::TimeZone::UTC).year();
    if (1970..=9999).contains(&year) {
        let written = http_date(at);
        assert_eq!(parse_http_date(&written), Some(at), "{text:?} → {at} → {written:?}");
    }
}
