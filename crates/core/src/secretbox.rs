//! Secrets at rest: AES-256-GCM under the platform master key. Every sealed
//! value records the id of the master key that sealed it, so the master key
//! can be rotated: the keyring opens values sealed under any key it holds and
//! seals new ones under the current key. The associated data binds a sealed
//! value to where it is stored (for a signing key: tenant and kid), so a
//! value copied elsewhere does not open.

use aws_lc_rs::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_256_GCM, NONCE_LEN};
use aws_lc_rs::rand::{SecureRandom as _, SystemRandom};

use crate::config::MasterKey;

#[derive(Debug, thiserror::Error)]
pub enum SealError {
    #[error("no master key is configured (GATEHOUSE_MASTER_KEY)")]
    NoKey,
    #[error("the master key {0:?} that sealed this value is not configured")]
    UnknownKey(String),
    #[error("sealed value does not open (wrong key, wrong place, or tampered)")]
    Open,
    #[error("sealing failed")]
    Seal,
}

/// A sealed value: the sealing key's id and `nonce || ciphertext || tag`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sealed {
    pub key_id: String,
    pub blob: Vec<u8>,
}

/// The current master key plus any previous ones still needed to open
/// older values.
#[derive(Clone, Default)]
pub struct Keyring {
    current: Option<MasterKey>,
    previous: Vec<MasterKey>,
}

impl std::fmt::Debug for Keyring {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Keyring")
            .field("current", &self.current.as_ref().map(|k| &k.id))
            .field(
                "previous",
                &self.previous.iter().map(|k| &k.id).collect::<Vec<_>>(),
            )
            .finish()
    }
}

impl Keyring {
    pub fn new(current: Option<MasterKey>, previous: Vec<MasterKey>) -> Self {
        Self { current, previous }
    }

    pub fn has_current(&self) -> bool {
        self.current.is_some()
    }

    pub fn current_id(&self) -> Option<&str> {
        self.current.as_ref().map(|k| k.id.as_str())
    }

    fn cipher(key: &MasterKey) -> Result<LessSafeKey, SealError> {
        let unbound = UnboundKey::new(&AES_256_GCM, key.bytes()).map_err(|_| SealError::Seal)?;
        Ok(LessSafeKey::new(unbound))
    }

    /// Seals under the current key with a fresh random 96-bit nonce.
    pub fn seal(&self, plaintext: &[u8], aad: &[u8]) -> Result<Sealed, SealError> {
        let key = self.current.as_ref().ok_or(SealError::NoKey)?;
        let mut nonce = [0u8; NONCE_LEN];
        SystemRandom::new()
            .fill(&mut nonce)
            .map_err(|_| SealError::Seal)?;
        let mut in_out = plaintext.to_vec();
        Self::cipher(key)?
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(aad),
                &mut in_out,
            )
            .map_err(|_| SealError::Seal)?;
        let mut blob = nonce.to_vec();
        blob.extend_from_slice(&in_out);
        Ok(Sealed {
            key_id: key.id.clone(),
            blob,
        })
    }

    pub fn open(&self, sealed: &Sealed, aad: &[u8]) -> Result<Vec<u8>, SealError> {
        let key = self
            .current
            .iter()
            .chain(self.previous.iter())
            .find(|k| k.id == sealed.key_id)
            .ok_or_else(|| SealError::UnknownKey(sealed.key_id.clone()))?;
        if sealed.blob.len() < NONCE_LEN {
            return Err(SealError::Open);
        }
        let (nonce, ciphertext) = sealed.blob.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| SealError::Open)?;
        let mut in_out = ciphertext.to_vec();
        let plain = Self::cipher(key)?
            .open_in_place(nonce, Aad::from(aad), &mut in_out)
            .map_err(|_| SealError::Open)?;
        Ok(plain.to_vec())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine as _;

    fn key(id: &str, seed: u8) -> MasterKey {
        let bytes: Vec<u8> = (0u8..32)
            .map(|i| i.wrapping_mul(seed).wrapping_add(seed))
            .collect();
        MasterKey::parse(id, &base64::engine::general_purpose::STANDARD.encode(bytes)).unwrap()
    }

    #[test]
    fn sealed_values_open_only_with_their_key_and_place() {
        let ring = Keyring::new(Some(key("k1", 7)), vec![]);
        let sealed = ring.seal(b"private key", b"tenant-a/kid1").unwrap();
        assert_eq!(sealed.key_id, "k1");
        assert_ne!(&sealed.blob[12..], b"private key");
        assert_eq!(
            ring.open(&sealed, b"tenant-a/kid1").unwrap(),
            b"private key"
        );
        assert!(matches!(
            ring.open(&sealed, b"tenant-b/kid1"),
            Err(SealError::Open)
        ));
        let mut tampered = sealed.clone();
        tampered.blob[20] ^= 1;
        assert!(ring.open(&tampered, b"tenant-a/kid1").is_err());
        assert_ne!(
            ring.seal(b"x", b"").unwrap().blob[..12],
            ring.seal(b"x", b"").unwrap().blob[..12]
        );
    }

    #[test]
    fn a_rotated_master_key_still_opens_old_values() {
        let old = Keyring::new(Some(key("k1", 7)), vec![]);
        let sealed = old.seal(b"secret", b"aad").unwrap();
        let rotated = Keyring::new(Some(key("k2", 11)), vec![key("k1", 7)]);
        assert_eq!(rotated.open(&sealed, b"aad").unwrap(), b"secret");
        assert_eq!(rotated.seal(b"secret", b"aad").unwrap().key_id, "k2");
        let forgotten = Keyring::new(Some(key("k2", 11)), vec![]);
        assert!(matches!(
            forgotten.open(&sealed, b"aad"),
            Err(SealError::UnknownKey(_))
        ));
        assert!(matches!(
            Keyring::default().seal(b"x", b""),
            Err(SealError::NoKey)
        ));
    }
}
