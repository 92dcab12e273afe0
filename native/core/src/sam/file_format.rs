//! The encrypted secret file format (version 1).
//!
//! One file holds one secret. All integers are little-endian.
//!
//! | offset | size | field |
//! |---|---|---|
//! | 0 | 8 | magic `PSSECRET` |
//! | 8 | 1 | format version, `1` |
//! | 9 | 1 | key kind: `1` passphrase through Argon2id, `2` random 256-bit key from the OS credential store |
//! | 10 | 1 | AEAD: `1` AES-256-GCM, `2` ChaCha20-Poly1305 |
//! | 11 | 1 | reserved, `0` |
//! | 12 | 4 | Argon2id memory in KiB (`0` for key kind 2) |
//! | 16 | 4 | Argon2id iterations (`0` for key kind 2) |
//! | 20 | 4 | Argon2id parallelism (`0` for key kind 2) |
//! | 24 | 16 | key kind 1: Argon2 salt (random per store); kind 2: key id, the first 16 bytes of SHA-256(key) |
//! | 40 | 12 | AEAD nonce, random for every write |
//! | 52 | 4 | length of what follows: ciphertext plus the 16-byte tag |
//! | 56 | n | ciphertext ‖ tag |
//!
//! The associated data is the 56 header bytes followed by the secret's name in lower case, so
//! changing any header field (the KDF parameters included) or moving the file to another name
//! makes decryption fail. The plaintext is the secret's UTF-8 value.
//!
//! A reader refuses another magic, an unknown version (a newer format keeps the magic and
//! bumps the version), unknown kinds, a non-zero reserved byte, Argon2 parameters outside
//! [`ARGON2_LIMITS`], and a length that does not match the file.

use ring::aead::{AES_256_GCM, Aad, CHACHA20_POLY1305, LessSafeKey, Nonce, UnboundKey};
use ring::rand::{SecureRandom, SystemRandom};
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

pub const MAGIC: [u8; 8] = *b"PSSECRET";
pub const FORMAT_VERSION: u8 = 1;
pub const HEADER_LEN: usize = 56;
pub const TAG_LEN: usize = 16;
pub const SALT_LEN: usize = 16;
pub const NONCE_LEN: usize = 12;
/// Largest secret a file holds (a refresh token is 1–2 KB; Key Vault's limit is 25 KB).
pub const MAX_PLAINTEXT: usize = 64 * 1024;
/// Largest file a reader accepts.
pub const MAX_FILE_LEN: usize = HEADER_LEN + MAX_PLAINTEXT + TAG_LEN;

/// A 256-bit key, wiped from memory when dropped.
pub type Key = Zeroizing<[u8; 32]>;

/// How the file key is obtained.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyKind {
    /// Derived from a passphrase with Argon2id (salt and parameters in the header).
    Passphrase = 1,
    /// A random 256-bit key kept in the OS credential store.
    CredentialStore = 2,
}

impl KeyKind {
    pub fn describe(self) -> &'static str {
        match self {
            KeyKind::Passphrase => "a passphrase",
            KeyKind::CredentialStore => "a key in the OS credential store",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Aead {
    #[default]
    Aes256Gcm = 1,
    ChaCha20Poly1305 = 2,
}

/// Argon2id cost parameters, recorded in every passphrase-protected file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Argon2Params {
    pub memory_kib: u32,
    pub iterations: u32,
    pub parallelism: u32,
}

impl Argon2Params {
    /// OWASP's recommended Argon2id setting: 19 MiB, 2 iterations, 1 lane.
    pub const RECOMMENDED: Argon2Params = Argon2Params { memory_kib: 19 * 1024, iterations: 2, parallelism: 1 };

    fn is_within_limits(&self) -> bool {
        let l = ARGON2_LIMITS;
        (1..=l.parallelism).contains(&self.parallelism)
            && (1..=l.iterations).contains(&self.iterations)
            && self.memory_kib >= 8 * self.parallelism
            && self.memory_kib <= l.memory_kib
    }
}

impl Default for Argon2Params {
    fn default() -> Self {
        Self::RECOMMENDED
    }
}

/// The largest Argon2 parameters a reader accepts (a changed header cannot make a reader
/// allocate gigabytes or spin for minutes).
pub const ARGON2_LIMITS: Argon2Params = Argon2Params { memory_kib: 256 * 1024, iterations: 16, parallelism: 8 };

/// The fixed-size header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    pub key_kind: KeyKind,
    pub aead: Aead,
    /// Zero for [`KeyKind::CredentialStore`].
    pub argon2: Argon2Params,
    /// Salt (passphrase) or key id (credential store).
    pub salt: [u8; SALT_LEN],
    pub nonce: [u8; NONCE_LEN],
    pub sealed_len: u32,
}

impl Header {
    pub fn to_bytes(&self) -> [u8; HEADER_LEN] {
        let mut b = [0u8; HEADER_LEN];
        b[0..8].copy_from_slice(&MAGIC);
        b[8] = FORMAT_VERSION;
        b[9] = self.key_kind as u8;
        b[10] = self.aead as u8;
        b[11] = 0;
        b[12..16].copy_from_slice(&self.argon2.memory_kib.to_le_bytes());
        b[16..20].copy_from_slice(&self.argon2.iterations.to_le_bytes());
        b[20..24].copy_from_slice(&self.argon2.parallelism.to_le_bytes());
        b[24..40].copy_from_slice(&self.salt);
        b[40..52].copy_from_slice(&self.nonce);
        b[52..56].copy_from_slice(&self.sealed_len.to_le_bytes());
        b
    }
}

/// Why bytes are not a readable secret file (before any decryption).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FormatError {
    #[error("it is not a PartnerSecurity secret file (unknown header)")]
    NotASecretFile,
    #[error("format version {0}")]
    UnsupportedVersion(u8),
    #[error("it is truncated ({actual} bytes where {expected} were expected)")]
    Truncated { expected: usize, actual: usize },
    #[error("it has {0} unexpected bytes after the encrypted secret")]
    TrailingBytes(usize),
    #[error("its header is invalid ({0})")]
    InvalidHeader(&'static str),
}

/// A parsed file: the header, its raw bytes (associated data) and the sealed secret.
#[derive(Debug)]
pub struct Envelope<'a> {
    pub header: Header,
    pub header_bytes: &'a [u8],
    pub sealed: &'a [u8],
}

fn u32_at(bytes: &[u8], at: usize) -> u32 {
    let mut b = [0u8; 4];
    b.copy_from_slice(&bytes[at..at + 4]);
    u32::from_le_bytes(b)
}

/// Reads the header and splits the file. Never panics, whatever the bytes.
pub fn parse(bytes: &[u8]) -> Result<Envelope<'_>, FormatError> {
    if bytes.len() < MAGIC.len() || bytes[..MAGIC.len()] != MAGIC {
        // A file cut inside the magic is truncated, not foreign.
        if !bytes.is_empty() && bytes.len() < MAGIC.len() && MAGIC.starts_with(bytes) {
            return Err(FormatError::Truncated { expected: HEADER_LEN, actual: bytes.len() });
        }
        if bytes.is_empty() {
            return Err(FormatError::Truncated { expected: HEADER_LEN, actual: 0 });
        }
        return Err(FormatError::NotASecretFile);
    }
    if bytes.len() < HEADER_LEN {
        // The version byte, when present, says more than "truncated" if it is unknown.
        if bytes.len() > 8 && bytes[8] != FORMAT_VERSION {
            return Err(FormatError::UnsupportedVersion(bytes[8]));
        }
        return Err(FormatError::Truncated { expected: HEADER_LEN, actual: bytes.len() });
    }
    if bytes[8] != FORMAT_VERSION {
        return Err(FormatError::UnsupportedVersion(bytes[8]));
    }
    let key_kind = match bytes[9] {
        1 => KeyKind::Passphrase,
        2 => KeyKind::CredentialStore,
        _ => return Err(FormatError::InvalidHeader("unknown key kind")),
    };
    let aead = match bytes[10] {
        1 => Aead::Aes256Gcm,
        2 => Aead::ChaCha20Poly1305,
        _ => return Err(FormatError::InvalidHeader("unknown cipher")),
    };
    if bytes[11] != 0 {
        return Err(FormatError::InvalidHeader("reserved byte set"));
    }
    let argon2 = Argon2Params { memory_kib: u32_at(bytes, 12), iterations: u32_at(bytes, 16), parallelism: u32_at(bytes, 20) };
    match key_kind {
        KeyKind::Passphrase if !argon2.is_within_limits() => return Err(FormatError::InvalidHeader("Argon2 parameters out of range")),
        KeyKind::CredentialStore if argon2 != (Argon2Params { memory_kib: 0, iterations: 0, parallelism: 0 }) => {
            return Err(FormatError::InvalidHeader("key-derivation parameters on a stored key"));
        }
        _ => {}
    }
    let mut salt = [0u8; SALT_LEN];
    salt.copy_from_slice(&bytes[24..40]);
    let mut nonce = [0u8; NONCE_LEN];
    nonce.copy_from_slice(&bytes[40..52]);
    let sealed_len = u32_at(bytes, 52);
    let sealed_usize = sealed_len as usize;
    if !(TAG_LEN..=MAX_PLAINTEXT + TAG_LEN).contains(&sealed_usize) {
        return Err(FormatError::InvalidHeader("encrypted length out of range"));
    }
    let expected = HEADER_LEN + sealed_usize;
    if bytes.len() < expected {
        return Err(FormatError::Truncated { expected, actual: bytes.len() });
    }
    if bytes.len() > expected {
        return Err(FormatError::TrailingBytes(bytes.len() - expected));
    }
    Ok(Envelope { header: Header { key_kind, aead, argon2, salt, nonce, sealed_len }, header_bytes: &bytes[..HEADER_LEN], sealed: &bytes[HEADER_LEN..] })
}

fn aad(header_bytes: &[u8], name: &str) -> Vec<u8> {
    let mut aad = Vec::with_capacity(header_bytes.len() + name.len());
    aad.extend_from_slice(header_bytes);
    aad.extend_from_slice(name.to_ascii_lowercase().as_bytes());
    aad
}

fn aead_key(aead: Aead, key: &[u8; 32]) -> Option<LessSafeKey> {
    let algorithm = match aead {
        Aead::Aes256Gcm => &AES_256_GCM,
        Aead::ChaCha20Poly1305 => &CHACHA20_POLY1305,
    };
    UnboundKey::new(algorithm, key).ok().map(LessSafeKey::new)
}

/// Random bytes from the operating system.
pub fn random<const N: usize>() -> Result<[u8; N], String> {
    let mut out = [0u8; N];
    SystemRandom::new().fill(&mut out).map_err(|_| "the operating system's random number generator failed".to_owned())?;
    Ok(out)
}

/// The key id recorded for [`KeyKind::CredentialStore`] files.
pub fn key_id(key: &[u8; 32]) -> [u8; SALT_LEN] {
    let digest = Sha256::digest(key);
    let mut id = [0u8; SALT_LEN];
    id.copy_from_slice(&digest[..SALT_LEN]);
    id
}

/// Derives the file key from a passphrase (Argon2id, 32-byte output).
pub fn derive_key(passphrase: &[u8], salt: &[u8; SALT_LEN], params: Argon2Params) -> Result<Key, String> {
    if !params.is_within_limits() {
        return Err("the Argon2 parameters are out of range".into());
    }
    let p = argon2::Params::new(params.memory_kib, params.iterations, params.parallelism, Some(32)).map_err(|e| format!("invalid Argon2 parameters ({e})"))?;
    let argon = argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, p);
    let mut key = Zeroizing::new([0u8; 32]);
    argon.hash_password_into(passphrase, salt, key.as_mut()).map_err(|e| format!("the key could not be derived ({e})"))?;
    Ok(key)
}

/// Encrypts `plaintext` for the secret `name` into a complete file. `salt` is the Argon2 salt
/// (passphrase) or ignored and replaced by the key id (credential store).
pub fn seal(key: &[u8; 32], key_kind: KeyKind, aead: Aead, argon2: Argon2Params, salt: [u8; SALT_LEN], name: &str, plaintext: &[u8]) -> Result<Vec<u8>, String> {
    if plaintext.len() > MAX_PLAINTEXT {
        return Err(format!("the secret is larger than {} KB", MAX_PLAINTEXT / 1024));
    }
    let nonce = random::<NONCE_LEN>()?;
    let (argon2, salt) = match key_kind {
        KeyKind::Passphrase => (argon2, salt),
        KeyKind::CredentialStore => (Argon2Params { memory_kib: 0, iterations: 0, parallelism: 0 }, key_id(key)),
    };
    let header = Header { key_kind, aead, argon2, salt, nonce, sealed_len: (plaintext.len() + TAG_LEN) as u32 };
    let header_bytes = header.to_bytes();
    let sealing = aead_key(aead, key).ok_or("the encryption key could not be set up")?;
    let mut body = Zeroizing::new(plaintext.to_vec());
    let tag = sealing
        .seal_in_place_separate_tag(Nonce::assume_unique_for_key(nonce), Aad::from(aad(&header_bytes, name)), body.as_mut_slice())
        .map_err(|_| "encryption failed".to_owned())?;
    let mut out = Vec::with_capacity(HEADER_LEN + body.len() + TAG_LEN);
    out.extend_from_slice(&header_bytes);
    out.extend_from_slice(&body);
    out.extend_from_slice(tag.as_ref());
    Ok(out)
}

/// Decrypts a parsed file for the secret `name`. `None` when the key is wrong or any byte of
/// the header, ciphertext or tag (or the name) differs from what was sealed.
pub fn open(envelope: &Envelope<'_>, key: &[u8; 32], name: &str) -> Option<Zeroizing<Vec<u8>>> {
    let opening = aead_key(envelope.header.aead, key)?;
    let mut buffer = Zeroizing::new(envelope.sealed.to_vec());
    let plain_len = opening.open_in_place(Nonce::assume_unique_for_key(envelope.header.nonce), Aad::from(aad(envelope.header_bytes, name)), buffer.as_mut_slice()).ok()?.len();
    buffer.truncate(plain_len);
    Some(buffer)
}

#[cfg(test)]
mod tests {
    use super::*;

    const FAST: Argon2Params = Argon2Params { memory_kib: 64, iterations: 1, parallelism: 1 };

    #[test]
    fn seal_and_open_round_trip_for_both_ciphers() {
        let salt = [7u8; SALT_LEN];
        let key = derive_key(b"correct horse", &salt, FAST).unwrap();
        for aead in [Aead::Aes256Gcm, Aead::ChaCha20Poly1305] {
            let file = seal(&key, KeyKind::Passphrase, aead, FAST, salt, "Name-1", b"secret value").unwrap();
            assert_eq!(file.len(), HEADER_LEN + 12 + TAG_LEN);
            let env = parse(&file).unwrap();
            assert_eq!(env.header.aead, aead);
            assert_eq!(env.header.argon2, FAST);
            assert_eq!(&**open(&env, &key, "name-1").unwrap(), b"secret value");
            assert!(open(&env, &key, "name-2").is_none(), "bound to the name");
            let other = derive_key(b"wrong", &salt, FAST).unwrap();
            assert!(open(&env, &other, "name-1").is_none());
        }
    }

    #[test]
    fn each_write_uses_a_fresh_nonce() {
        let key = Zeroizing::new([1u8; 32]);
        let a = seal(&key, KeyKind::CredentialStore, Aead::Aes256Gcm, FAST, [0; 16], "n", b"same").unwrap();
        let b = seal(&key, KeyKind::CredentialStore, Aead::Aes256Gcm, FAST, [0; 16], "n", b"same").unwrap();
        assert_ne!(a[40..52], b[40..52]);
        assert_ne!(a, b);
        let env = parse(&a).unwrap();
        assert_eq!(env.header.salt, key_id(&key));
        assert_eq!(env.header.argon2.memory_kib, 0);
    }

    #[test]
    fn headers_are_checked() {
        let key = Zeroizing::new([1u8; 32]);
        let good = seal(&key, KeyKind::Passphrase, Aead::Aes256Gcm, FAST, [3; 16], "n", b"v").unwrap();
        assert_eq!(parse(&[]).unwrap_err(), FormatError::Truncated { expected: HEADER_LEN, actual: 0 });
        assert!(matches!(parse(b"PSSEC").unwrap_err(), FormatError::Truncated { .. }));
        assert_eq!(parse(b"hello world, not a secret file at all, really no").unwrap_err(), FormatError::NotASecretFile);
        let mut v = good.clone();
        v[8] = 2;
        assert_eq!(parse(&v).unwrap_err(), FormatError::UnsupportedVersion(2));
        let mut v = good.clone();
        v[9] = 9;
        assert!(matches!(parse(&v).unwrap_err(), FormatError::InvalidHeader(_)));
        let mut v = good.clone();
        v[12..16].copy_from_slice(&u32::MAX.to_le_bytes());
        assert!(matches!(parse(&v).unwrap_err(), FormatError::InvalidHeader(_)));
        assert!(matches!(parse(&good[..good.len() - 1]).unwrap_err(), FormatError::Truncated { .. }));
        let mut v = good.clone();
        v.push(0);
        assert_eq!(parse(&v).unwrap_err(), FormatError::TrailingBytes(1));
    }
}
