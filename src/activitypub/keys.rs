//! Actor keys: an RSA-2048 key per actor, generated once with the `rsa`
//! crate and stored (PKCS#8 PEM) in the push state, never replaced; every
//! signature is made by ring (constant time: the `rsa` crate's private-key
//! operations are RUSTSEC-2023-0071, so it only generates and encodes).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use jiff::Timestamp;
use rsa::pkcs1::{DecodeRsaPublicKey, EncodeRsaPublicKey};
use rsa::pkcs8::{DecodePrivateKey, DecodePublicKey, EncodePrivateKey, EncodePublicKey, LineEnding};

use crate::parallel::lock;
use crate::push::state::PushStore;

/// Bits of a new actor key (what Mastodon uses).
const KEY_BITS: usize = 2048;

/// One actor's key, ready to sign.
pub struct ActorKey {
    pair: ring::signature::RsaKeyPair,
    /// The public key as SPKI PEM, for the actor document.
    pub public_pem: String,
}

impl ActorKey {
    /// Reads a stored PKCS#8 PEM private key.
    pub fn from_pem(private_pem: &str) -> Result<ActorKey, String> {
        let key = rsa::PrivateKey::from_pkcs8_pem(private_pem).map_err(|e| format!("unreadable actor key: {e}"))?;
        let der = key.to_pkcs8_der().map_err(|e| format!("unreadable actor key: {e}"))?;
        let pair =
            ring::signature::RsaKeyPair::from_pkcs8(der.as_bytes()).map_err(|e| format!("unusable actor key: {e}"))?;
        let public_pem = key
            .to_public_key()
            .to_public_key_pem(LineEnding::LF)
            .map_err(|e| format!("cannot encode the public key: {e}"))?;
        Ok(ActorKey { pair, public_pem })
    }

    /// A new key, as PKCS#8 PEM.
    pub fn generate_pem() -> Result<String, String> {
        let key = rsa::PrivateKey::new(&mut rand::rng(), KEY_BITS).map_err(|e| format!("cannot make a key: {e}"))?;
        key.to_pkcs8_pem(LineEnding::LF).map(|pem| pem.to_string()).map_err(|e| format!("cannot encode a key: {e}"))
    }

    /// The RSA PKCS#1 v1.5 SHA-256 signature of `message`, base64.
    pub fn sign(&self, message: &[u8]) -> Result<String, String> {
        let mut signature = vec![0; self.pair.public().modulus_len()];
        self.pair
            .sign(&ring::signature::RSA_PKCS1_SHA256, &ring::rand::SystemRandom::new(), message, &mut signature)
            .map_err(|_| "signing failed".to_string())?;
        Ok(BASE64.encode(signature))
    }
}

/// The keys of herald's actors: loaded from the store, made and stored on
/// first use, cached in memory.
pub struct ActorKeys {
    store: Arc<dyn PushStore>,
    loaded: Mutex<HashMap<String, Arc<ActorKey>>>,
}

impl ActorKeys {
    /// Keys kept in `store`.
    pub fn new(store: Arc<dyn PushStore>) -> ActorKeys {
        ActorKeys { store, loaded: Mutex::default() }
    }

    /// The key of actor `username`, made and stored if it has none yet
    /// (blocking: call it off the async threads).
    pub fn get(&self, username: &str, now: Timestamp) -> Result<Arc<ActorKey>, String> {
        if let Some(key) = lock(&self.loaded).get(username) {
            return Ok(Arc::clone(key));
        }
        let pem = match self.store.actor_key(username).map_err(|e| e.to_string())? {
            Some(pem) => pem,
            None => {
                let fresh = ActorKey::generate_pem()?;
                tracing::info!("made the ActivityPub key of @{username}");
                self.store.keep_actor_key(username, &fresh, now).map_err(|e| e.to_string())?
            }
        };
        let key = Arc::new(ActorKey::from_pem(&pem)?);
        lock(&self.loaded).insert(username.to_string(), Arc::clone(&key));
        Ok(key)
    }
}

/// A public key in PEM (SPKI `PUBLIC KEY` or PKCS#1 `RSA PUBLIC KEY`) as
/// the PKCS#1 DER ring verifies with.
pub fn public_key_pkcs1_der(pem: &str) -> Result<Vec<u8>, String> {
    let pem = pem.trim();
    let key = if pem.contains("BEGIN RSA PUBLIC KEY") {
        rsa::PublicKey::from_pkcs1_pem(pem).map_err(|e| format!("unreadable public key: {e}"))?
    } else {
        rsa::PublicKey::from_public_key_pem(pem).map_err(|e| format!("unreadable public key: {e}"))?
    };
    key.to_pkcs1_der().map(|d| d.as_bytes().to_vec()).map_err(|e| format!("unreadable public key: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_generated_key_signs_what_its_public_key_verifies() {
        let pem = ActorKey::generate_pem().unwrap();
        let key = ActorKey::from_pem(&pem).unwrap();
        let signature = BASE64.decode(key.sign(b"hello").unwrap()).unwrap();
        assert!(super::super::signatures::verify_rsa_sha256(&key.public_pem, b"hello", &signature).is_ok());
        assert!(super::super::signatures::verify_rsa_sha256(&key.public_pem, b"hellO", &signature).is_err());
    }
}
