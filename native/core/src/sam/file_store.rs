//! Encrypted files: one file per secret under a directory (default
//! `dirs::data_local_dir()/PartnerSecurity/secrets`, or `$PARTNERSECURITY_HOME/secrets`).
//!
//! - **Encryption**: AES-256-GCM (ChaCha20-Poly1305 readable too) with a random nonce on every
//!   write; the header and the secret's name are authenticated ([`file_format`]).
//! - **Key**: from a passphrase through Argon2id (salt and parameters in the file, so they can
//!   be raised later), or a random 256-bit key kept in the OS credential store
//!   ([`FileKey::CredentialStore`]; on Linux only with an explicitly volatile keyring).
//! - **Permissions**: files `0600`, a directory this store creates `0700` (Unix). On Windows the
//!   default directory is inside the user's profile, which only the user can read.
//! - **Atomic writes**: a temporary file in the same directory, flushed to disk, renamed over
//!   the old file, then the directory entry flushed; a reader sees the old secret or the new
//!   one. Writers hold an exclusive lock (`.<name>.lock`, `fs4`), and [`SecretStore::lock`]
//!   hands out a second lock (`.<name>.rotation.lock`) that serialises whole token rotations
//!   across processes, so a rotation always starts from the newest token.
//! - **Failures** never panic: a wrong passphrase or a changed file says "cannot be decrypted:
//!   wrong passphrase or the file was changed" and names the file; a truncated or foreign file
//!   says what is wrong with it.
//!
//! Lock files stay in the directory (removing a lock file another process waits on would break
//! the lock); they are empty.

use crate::error::Error;
use crate::sam::error::{SamError, SamResult};
use crate::sam::file_format::{self, Aead, Argon2Params, Key, KeyKind, SALT_LEN};
use crate::sam::keyring_store::KeyringStore;
use crate::sam::store::{SecretStore, StoreLock, validate_name};
use crate::secret::Secret;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use sha2::{Digest, Sha256};
use std::ffi::OsString;
use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};
use zeroize::Zeroizing;

/// File name extension of a secret file.
pub const EXTENSION: &str = "pssecret";

/// How the store gets its key.
#[derive(Clone)]
pub enum FileKey {
    /// A passphrase; the key is derived with Argon2id.
    Passphrase(Secret),
    /// A random 256-bit key created on first use and kept in the OS credential store (one key
    /// per directory). Durable on Windows and macOS only.
    CredentialStore(KeyringStore),
}

impl std::fmt::Debug for FileKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FileKey::Passphrase(_) => f.write_str("FileKey::Passphrase(***)"),
            FileKey::CredentialStore(k) => write!(f, "FileKey::CredentialStore({k:?})"),
        }
    }
}

impl FileKey {
    fn kind(&self) -> KeyKind {
        match self {
            FileKey::Passphrase(_) => KeyKind::Passphrase,
            FileKey::CredentialStore(_) => KeyKind::CredentialStore,
        }
    }
}

#[derive(Debug, Clone, Copy)]
pub struct FileStoreOptions {
    /// Argon2id cost for new files (readers use what each file records).
    pub argon2: Argon2Params,
    pub aead: Aead,
    /// How long a writer or a rotation waits for another process's lock.
    pub lock_timeout: Duration,
}

impl Default for FileStoreOptions {
    fn default() -> Self {
        Self { argon2: Argon2Params::RECOMMENDED, aead: Aead::Aes256Gcm, lock_timeout: Duration::from_secs(300) }
    }
}

struct Inner {
    directory: PathBuf,
    key: FileKey,
    options: FileStoreOptions,
    /// Keys derived from the passphrase, by (salt, parameters): Argon2 runs once per salt.
    derived: parking_lot::Mutex<Vec<([u8; SALT_LEN], Argon2Params, Key)>>,
    /// The salt new files get (one per store instance, so writes do not re-run Argon2).
    write_salt: parking_lot::Mutex<Option<[u8; SALT_LEN]>>,
}

/// The encrypted file store. Cheap to clone.
#[derive(Clone)]
pub struct FileStore {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for FileStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FileStore").field("directory", &self.inner.directory).field("key", &self.inner.key).finish()
    }
}

/// `$PARTNERSECURITY_HOME/secrets` when `home` is set, else the platform's local data directory
/// plus `PartnerSecurity/secrets`.
pub fn default_directory_from(home: Option<OsString>) -> SamResult<PathBuf> {
    if let Some(home) = home.filter(|h| !h.is_empty()) {
        return Ok(PathBuf::from(home).join("secrets"));
    }
    dirs::data_local_dir()
        .map(|d| d.join("PartnerSecurity").join("secrets"))
        .ok_or_else(|| Error::invalid_input("SecretDirectory", "this system has no local data directory; name a directory or set PARTNERSECURITY_HOME").into())
}

impl FileStore {
    pub fn new(directory: impl Into<PathBuf>, key: FileKey) -> SamResult<Self> {
        Self::with_options(directory, key, FileStoreOptions::default())
    }

    pub fn with_options(directory: impl Into<PathBuf>, key: FileKey, options: FileStoreOptions) -> SamResult<Self> {
        if let FileKey::Passphrase(p) = &key
            && p.expose().is_empty()
        {
            return Err(Error::invalid_input("Passphrase", "it is empty").into());
        }
        Ok(Self { inner: Arc::new(Inner { directory: directory.into(), key, options, derived: parking_lot::Mutex::new(Vec::new()), write_salt: parking_lot::Mutex::new(None) }) })
    }

    /// The default directory (see [`default_directory_from`]), from the environment.
    pub fn default_directory() -> SamResult<PathBuf> {
        default_directory_from(std::env::var_os(crate::sam::HOME_ENV))
    }

    pub fn directory(&self) -> &Path {
        &self.inner.directory
    }

    /// The file that holds `name`.
    pub fn path_of(&self, name: &str) -> SamResult<PathBuf> {
        validate_name(name)?;
        Ok(self.inner.directory.join(format!("{}.{EXTENSION}", name.to_ascii_lowercase())))
    }

    fn lock_path(&self, name: &str, what: &str) -> PathBuf {
        self.inner.directory.join(format!(".{}.{what}", name.to_ascii_lowercase()))
    }

    /// The key for a file with this header (deriving or loading it as needed).
    async fn key_for(&self, path: &Path, header: &file_format::Header) -> SamResult<Key> {
        let expected = self.inner.key.kind();
        if header.key_kind != expected {
            return Err(SamError::KeyKindMismatch { path: path.to_owned(), found: header.key_kind.describe(), expected: expected.describe() });
        }
        match &self.inner.key {
            FileKey::Passphrase(passphrase) => self.derived(passphrase, header.salt, header.argon2).await,
            FileKey::CredentialStore(keyring) => {
                let key = self.stored_key(keyring, false).await?.ok_or_else(|| SamError::FileKeyMissing { path: path.to_owned(), store: keyring.describe() })?;
                if file_format::key_id(&key) != header.salt {
                    // Another key than the one this file was written with.
                    return Err(SamError::Undecryptable { path: path.to_owned() });
                }
                Ok(key)
            }
        }
    }

    async fn derived(&self, passphrase: &Secret, salt: [u8; SALT_LEN], params: Argon2Params) -> SamResult<Key> {
        if let Some((_, _, key)) = self.inner.derived.lock().iter().find(|(s, p, _)| *s == salt && *p == params) {
            return Ok(key.clone());
        }
        let passphrase = passphrase.clone();
        let key = tokio::task::spawn_blocking(move || file_format::derive_key(passphrase.expose().as_bytes(), &salt, params)).await?.map_err(Error::Internal)?;
        let mut cache = self.inner.derived.lock();
        if cache.len() >= 8 {
            cache.remove(0);
        }
        cache.push((salt, params, key.clone()));
        Ok(key)
    }

    /// The credential-store key of this directory; created (under a directory lock, so two
    /// processes cannot create two keys) when `create` is set and none exists.
    async fn stored_key(&self, keyring: &KeyringStore, create: bool) -> SamResult<Option<Key>> {
        let entry = self.key_entry_name();
        if let Some(key) = read_key(keyring, &entry).await? {
            return Ok(Some(key));
        }
        if !create {
            return Ok(None);
        }
        self.ensure_directory().await?;
        let lock = self.acquire(self.inner.directory.join(".file-key.lock")).await?;
        let result = async {
            if let Some(key) = read_key(keyring, &entry).await? {
                return Ok(Some(key));
            }
            let key = Zeroizing::new(file_format::random::<32>().map_err(Error::Internal)?);
            keyring.write(&entry, &Secret::new(STANDARD.encode(key.as_ref()))).await?;
            Ok(Some(key))
        }
        .await;
        drop(lock);
        result
    }

    /// Entry name of the directory's key in the credential store.
    fn key_entry_name(&self) -> String {
        let canonical = std::fs::canonicalize(&self.inner.directory).unwrap_or_else(|_| self.inner.directory.clone());
        let digest = Sha256::digest(canonical.to_string_lossy().as_bytes());
        format!("file-key-{}", &hex::encode(digest)[..24])
    }

    async fn ensure_directory(&self) -> SamResult<()> {
        let dir = self.inner.directory.clone();
        tokio::task::spawn_blocking(move || create_private_dir(&dir)).await?
    }

    /// Waits (up to the lock timeout) for an exclusive lock on `path`.
    async fn acquire(&self, path: PathBuf) -> SamResult<File> {
        let timeout = self.inner.options.lock_timeout;
        let store = self.describe();
        tokio::task::spawn_blocking(move || lock_exclusive(&path, timeout, &store)).await?
    }

    fn write_salt(&self) -> SamResult<[u8; SALT_LEN]> {
        let mut salt = self.inner.write_salt.lock();
        if let Some(s) = *salt {
            return Ok(s);
        }
        let fresh = file_format::random::<SALT_LEN>().map_err(Error::Internal)?;
        *salt = Some(fresh);
        Ok(fresh)
    }
}

async fn read_key(keyring: &KeyringStore, entry: &str) -> SamResult<Option<Key>> {
    let Some(text) = keyring.read(entry).await? else {
        return Ok(None);
    };
    let bytes = Zeroizing::new(STANDARD.decode(text.expose().trim()).unwrap_or_default());
    if bytes.len() != 32 {
        return Err(SamError::CredentialStore {
            message: format!("The file-store key '{entry}' in the {} is not a 256-bit key; it was changed outside PartnerSecurity.", keyring.describe()),
        });
    }
    let mut key = Zeroizing::new([0u8; 32]);
    key.copy_from_slice(&bytes);
    Ok(Some(key))
}

/// Creates the directory (and missing parents) readable by the owner only.
fn create_private_dir(dir: &Path) -> SamResult<()> {
    if dir.is_dir() {
        return Ok(());
    }
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder.create(dir).map_err(|e| SamError::io("create the directory", dir, &e))
}

fn open_lock_file(path: &Path) -> SamResult<File> {
    let mut options = OpenOptions::new();
    options.read(true).write(true).create(true).truncate(false);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options.open(path).map_err(|e| SamError::io("open the lock file", path, &e))
}

fn lock_exclusive(path: &Path, timeout: Duration, store: &str) -> SamResult<File> {
    let file = open_lock_file(path)?;
    let deadline = Instant::now() + timeout;
    loop {
        match fs4::fs_std::FileExt::try_lock_exclusive(&file) {
            Ok(true) => return Ok(file),
            Ok(false) => {}
            Err(e) => return Err(SamError::io("lock", path, &e)),
        }
        if Instant::now() >= deadline {
            return Err(SamError::LockTimeout { store: store.to_owned(), lock: path.to_owned(), seconds: timeout.as_secs() });
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Writes `bytes` to `target` atomically: temp file in the same directory, fsync, rename,
/// fsync of the directory.
fn write_atomically(target: &Path, bytes: &[u8]) -> SamResult<()> {
    let dir = target.parent().unwrap_or(Path::new("."));
    let mut temp = tempfile::Builder::new().prefix(".tmp-").suffix(".partial").tempfile_in(dir).map_err(|e| SamError::io("create a temporary file in", dir, &e))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        temp.as_file().set_permissions(std::fs::Permissions::from_mode(0o600)).map_err(|e| SamError::io("restrict the permissions of", temp.path(), &e))?;
    }
    temp.write_all(bytes).map_err(|e| SamError::io("write", temp.path(), &e))?;
    temp.as_file().sync_all().map_err(|e| SamError::io("flush", temp.path(), &e))?;
    temp.persist(target).map_err(|e| SamError::io("replace", target, &e.error))?;
    sync_directory(dir);
    Ok(())
}

/// Makes a rename durable (Unix); a failure only weakens durability, so it is not an error.
fn sync_directory(dir: &Path) {
    #[cfg(unix)]
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
    #[cfg(not(unix))]
    let _ = dir;
}

fn read_limited(path: &Path) -> SamResult<Option<Vec<u8>>> {
    let file = match File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(SamError::io("open", path, &e)),
    };
    #[cfg(unix)]
    if let Ok(meta) = file.metadata() {
        use std::os::unix::fs::PermissionsExt;
        if meta.permissions().mode() & 0o077 != 0 {
            tracing::warn!(path = %path.display(), "secret file is readable by other users; it should be 0600");
        }
    }
    let mut bytes = Vec::new();
    file.take(file_format::MAX_FILE_LEN as u64 + 1).read_to_end(&mut bytes).map_err(|e| SamError::io("read", path, &e))?;
    Ok(Some(bytes))
}

#[async_trait::async_trait]
impl SecretStore for FileStore {
    async fn read(&self, name: &str) -> SamResult<Option<Secret>> {
        let path = self.path_of(name)?;
        let read_path = path.clone();
        let Some(bytes) = tokio::task::spawn_blocking(move || read_limited(&read_path)).await?? else {
            return Ok(None);
        };
        if bytes.len() > file_format::MAX_FILE_LEN {
            return Err(SamError::CorruptFile { path, reason: "it is larger than any secret file".into() });
        }
        let envelope = file_format::parse(&bytes).map_err(|e| match e {
            file_format::FormatError::UnsupportedVersion(found) => SamError::UnsupportedFormat { path: path.clone(), found, supported: file_format::FORMAT_VERSION },
            other => SamError::CorruptFile { path: path.clone(), reason: other.to_string() },
        })?;
        let key = self.key_for(&path, &envelope.header).await?;
        let plain = file_format::open(&envelope, &key, name).ok_or_else(|| SamError::Undecryptable { path: path.clone() })?;
        let text = std::str::from_utf8(&plain).map_err(|_| SamError::CorruptFile { path: path.clone(), reason: "the decrypted secret is not text".into() })?;
        Ok(Some(Secret::new(text)))
    }

    async fn write(&self, name: &str, value: &Secret) -> SamResult<()> {
        let path = self.path_of(name)?;
        let options = self.inner.options;
        let (key, salt) = match &self.inner.key {
            FileKey::Passphrase(passphrase) => {
                let salt = self.write_salt()?;
                (self.derived(passphrase, salt, options.argon2).await?, salt)
            }
            FileKey::CredentialStore(keyring) => {
                let key = self.stored_key(keyring, true).await?.ok_or_else(|| Error::Internal("the file-store key was not created".into()))?;
                (key, [0u8; SALT_LEN])
            }
        };
        let bytes =
            file_format::seal(&key, self.inner.key.kind(), options.aead, options.argon2, salt, name, value.expose().as_bytes()).map_err(|e| Error::invalid_input("Secret", e))?;
        let dir = self.inner.directory.clone();
        let lock_path = self.lock_path(name, "lock");
        let store = self.describe();
        tokio::task::spawn_blocking(move || {
            create_private_dir(&dir)?;
            let lock = lock_exclusive(&lock_path, options.lock_timeout, &store)?;
            let result = write_atomically(&path, &bytes);
            drop(lock);
            result
        })
        .await?
    }

    async fn delete(&self, name: &str) -> SamResult<bool> {
        let path = self.path_of(name)?;
        if !self.inner.directory.is_dir() {
            return Ok(false);
        }
        let lock_path = self.lock_path(name, "lock");
        let timeout = self.inner.options.lock_timeout;
        let store = self.describe();
        tokio::task::spawn_blocking(move || {
            let lock = lock_exclusive(&lock_path, timeout, &store)?;
            let result = match std::fs::remove_file(&path) {
                Ok(()) => {
                    sync_directory(path.parent().unwrap_or(Path::new(".")));
                    Ok(true)
                }
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
                Err(e) => Err(SamError::io("delete", &path, &e)),
            };
            drop(lock);
            result
        })
        .await?
    }

    fn describe(&self) -> String {
        format!("encrypted file store in {}", self.inner.directory.display())
    }

    async fn lock(&self, name: &str) -> SamResult<Option<StoreLock>> {
        validate_name(name)?;
        self.ensure_directory().await?;
        let file = self.acquire(self.lock_path(name, "rotation.lock")).await?;
        Ok(Some(StoreLock::new(file)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_directory_honours_partnersecurity_home() {
        let dir = default_directory_from(Some(OsString::from("/tmp/ps-home"))).unwrap();
        assert_eq!(dir, PathBuf::from("/tmp/ps-home/secrets"));
        if let Ok(d) = default_directory_from(None) {
            assert!(d.ends_with("PartnerSecurity/secrets"), "{}", d.display());
        }
        let empty = default_directory_from(Some(OsString::new()));
        assert!(empty.map(|d| d.ends_with("PartnerSecurity/secrets")).unwrap_or(true));
    }

    #[test]
    fn paths_are_lower_case_and_names_are_checked() {
        let store = FileStore::new("/x", FileKey::Passphrase(Secret::new("p"))).unwrap();
        assert_eq!(store.path_of("Contoso-RT").unwrap(), PathBuf::from("/x/contoso-rt.pssecret"));
        assert!(store.path_of("../etc/passwd").is_err());
        assert!(FileStore::new("/x", FileKey::Passphrase(Secret::new(""))).is_err());
    }
}
