//! `X-Hub-Signature` (WebSub §7.1): an HMAC of the delivered body with the
//! subscriber's secret, as `method=hex`.

use hmac::{Hmac, KeyInit, Mac};

use crate::config::SignatureAlgorithm;

/// The `X-Hub-Signature` value for `body` signed with `secret`.
pub fn sign(algorithm: SignatureAlgorithm, secret: &[u8], body: &[u8]) -> String {
    fn hex_mac<M: Mac + KeyInit>(secret: &[u8], body: &[u8]) -> String {
        let mut mac = <M as KeyInit>::new_from_slice(secret).expect("HMAC takes keys of any length");
        mac.update(body);
        hex::encode(mac.finalize().into_bytes())
    }
    match algorithm {
        SignatureAlgorithm::Sha1 => format!("sha1={}", hex_mac::<Hmac<sha1::Sha1>>(secret, body)),
        SignatureAlgorithm::Sha256 => format!("sha256={}", hex_mac::<Hmac<sha2::Sha256>>(secret, body)),
        SignatureAlgorithm::Sha384 => format!("sha384={}", hex_mac::<Hmac<sha2::Sha384>>(secret, body)),
        SignatureAlgorithm::Sha512 => format!("sha512={}", hex_mac::<Hmac<sha2::Sha512>>(secret, body)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 4231 test case 2.
    #[test]
    fn matches_rfc_4231() {
        let signature = sign(SignatureAlgorithm::Sha256, b"Jefe", b"what do ya want for nothing?");
        assert_eq!(signature, "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
        let sha1 = sign(SignatureAlgorithm::Sha1, b"Jefe", b"what do ya want for nothing?");
        assert_eq!(sha1, "sha1=effcdf6ae5eb2fa2d27416d5f184df9c259a7c79");
    }
}
