//! Encryption at rest: AES-256-GCM (ring) under a key the app keeps in the platform keystore
//! (REQ-PRV-3). Each value is bound to where it lives, so sealed values cannot be swapped.

use ring::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_256_GCM, NONCE_LEN};
use ring::rand::{SecureRandom, SystemRandom};

use crate::error::CoreError;

/// The length of the key the app must pass in.
pub const KEY_LEN: usize = 32;

/// Seals and opens values of the cache.
pub struct Sealer {
    key: LessSafeKey,
    rng: SystemRandom,
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
        })
    }

    /// Encrypts `plain`, bound to `place` (e.g. `award-note:<id>`): a random nonce, then ciphertext and tag.
    pub fn seal(&self, plain: &[u8], place: &str) -> Result<Vec<u8>, CoreError> {
        let mut nonce = [0u8; NONCE_LEN];
        self.rng
            .fill(&mut nonce)
            .map_err(|_| CoreError::Io("no randomness for encryption".into()))?;
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

    #[test]
    fn key_of_the_wrong_length_is_refused() {
        assert!(matches!(
            Sealer::new(&[1u8; 16]),
            Err(CoreError::InvalidInput { .. })
        ));
    }
}
