//! Encryption at rest: AES-256-GCM (ring) under a key the app keeps in the platform keystore
//! (REQ-PRV-3). Each value is bound to where it lives, so sealed values cannot be swapped.

use ring::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_256_GCM, NONCE_LEN};
use ring::rand::{SecureRandom, SystemRandom};
use std::sync::Mutex;

use crate::error::CoreError;

/// The length of the key the app must pass in.
pub const KEY_LEN: usize = 32;

/// How many nonces one draw from the OS yields.
const NONCES_PER_DRAW: usize = 32;

/// Random nonces drawn from the OS in blocks: an award tap seals twice, and one system call
/// per seal was a measurable part of it (issue 4). Each nonce is still 96 fresh random bits,
/// handed out once; nonces are public (stored beside the ciphertext), so holding a few in
/// memory reveals nothing.
struct NoncePool {
    buf: [u8; NONCE_LEN * NONCES_PER_DRAW],
    next: usize,
}

impl NoncePool {
    fn take(&mut self, rng: &SystemRandom) -> Result<[u8; NONCE_LEN], CoreError> {
        if self.next == NONCES_PER_DRAW {
            rng.fill(&mut self.buf)
                .map_err(|_| CoreError::Io("no randomness for encryption".into()))?;
            self.next = 0;
        }
        let at = self.next * NONCE_LEN;
        let mut nonce = [0u8; NONCE_LEN];
        nonce.copy_from_slice(&self.buf[at..at + NONCE_LEN]);
        // Never handed out twice, even if `next` were mishandled.
        self.buf[at..at + NONCE_LEN].fill(0);
        self.next += 1;
        Ok(nonce)
    }
}

/// Seals and opens values of the cache.
pub struct Sealer {
    key: LessSafeKey,
    rng: SystemRandom,
    nonces: Mutex<NoncePool>,
}

impl Sealer {
    /// Takes the 32-byte key from the keystore; any other length is refused.
    pub fn new(key: &[u8]) -> Result<Self, CoreError> {
        if key.len() != KEY_LEN {
            return Err(CoreError::input(
                "at_rest_key",
                format!(
                    "must be {KEY_LEN} bytes from the platform keystore, got {}",
                    key.len()
                ),
            ));
        }
        let unbound = UnboundKey::new(&AES_256_GCM, key)
            .map_err(|_| CoreError::input("at_rest_key", "not a valid AES-256 key"))?;
        Ok(Sealer {
            key: LessSafeKey::new(unbound),
            rng: SystemRandom::new(),
            nonces: Mutex::new(NoncePool {
                buf: [0; NONCE_LEN * NONCES_PER_DRAW],
                next: NONCES_PER_DRAW,
            }),
        })
    }

    /// Encrypts `plain`, bound to `place` (e.g. `award-note:<id>`): a random nonce, then ciphertext and tag.
    pub fn seal(&self, plain: &[u8], place: &str) -> Result<Vec<u8>, CoreError> {
        let nonce = self
            .nonces
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take(&self.rng)?;
        let mut buf = plain.to_vec();
        self.key
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(place.as_bytes()),
                &mut buf,
            )
            .map_err(|_| CoreError::Io("encryption failed".into()))?;
        let mut out = Vec::with_capacity(NONCE_LEN + buf.len());
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&buf);
        Ok(out)
    }

    /// Decrypts a value sealed for `place`; a wrong key or a tampered value is an error, never garbage.
    pub fn open(&self, sealed: &[u8], place: &str) -> Result<Vec<u8>, CoreError> {
        if sealed.len() < NONCE_LEN {
            return Err(CoreError::WrongKey);
        }
        let (nonce, body) = sealed.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| CoreError::WrongKey)?;
        let mut buf = body.to_vec();
        let plain = self
            .key
            .open_in_place(nonce, Aad::from(place.as_bytes()), &mut buf)
            .map_err(|_| CoreError::WrongKey)?;
        Ok(plain.to_vec())
    }

    /// [`Sealer::seal`] for text.
    pub fn seal_str(&self, plain: &str, place: &str) -> Result<Vec<u8>, CoreError> {
        self.seal(plain.as_bytes(), place)
    }

    /// [`Sealer::open`] for text.
    pub fn open_string(&self, sealed: &[u8], place: &str) -> Result<String, CoreError> {
        String::from_utf8(self.open(sealed, place)?).map_err(|_| CoreError::WrongKey)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_value_opens_only_with_the_same_key_and_place() {
        let a = Sealer::new(&[7u8; 32]).unwrap();
        let b = Sealer::new(&[8u8; 32]).unwrap();
        let sealed = a
            .seal_str("helped tidy the reading corner", "award-note:1")
            .unwrap();
        assert!(
            !sealed.windows(6).any(|w| w == b"helped"),
            "no plaintext in the sealed bytes"
        );
        assert_eq!(
            a.open_string(&sealed, "award-note:1").unwrap(),
            "helped tidy the reading corner"
        );
        assert!(matches!(
            b.open(&sealed, "award-note:1"),
            Err(CoreError::WrongKey)
        ));
        assert!(
            matches!(a.open(&sealed, "award-note:2"), Err(CoreError::WrongKey)),
            "bound to its row"
        );
        assert!(matches!(
            a.open(&sealed[..5], "award-note:1"),
            Err(CoreError::WrongKey)
        ));
    }

    // REQ-PRV-3: nonces come from the OS in blocks, but no two seals ever share one, across
    // block boundaries too (a repeated GCM nonce under one key would leak plaintext).
    #[test]
    fn every_seal_gets_a_nonce_of_its_own() {
        let a = Sealer::new(&[7u8; 32]).unwrap();
        let n = NONCES_PER_DRAW * 3 + 5;
        let nonces: std::collections::HashSet<Vec<u8>> = (0..n)
            .map(|i| {
                let sealed = a.seal_str("note", "award-note:1").unwrap();
                assert_eq!(
                    a.open_string(&sealed, "award-note:1").unwrap(),
                    "note",
                    "{i}"
                );
                sealed[..NONCE_LEN].to_vec()
            })
            .collect();
        assert_eq!(nonces.len(), n);
        assert!(!nonces.contains(&vec![0u8; NONCE_LEN]));
    }

    #[test]
    fn key_of_the_wrong_length_is_refused() {
        assert!(matches!(
            Sealer::new(&[1u8; 16]),
            Err(CoreError::InvalidInput { .. })
        ));
    }
}
