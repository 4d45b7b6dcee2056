//! Where data sets are kept, and verified downloads into that place.
//!
//! The cache is a directory with one sub-directory per data set (`imdb/`, `reuters21578/`,
//! ...), the layout of the project's shared data folder, so `RNN_DATA` may point at such a
//! folder directly. A download goes to a temporary file in the target directory, is checked
//! against its SHA-256 digest, flushed to disk and only then renamed to its final name: a
//! failed, cut-off or mismatching download leaves nothing behind.

use std::fs;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use sha2::{Digest, Sha256};

use super::DatasetError;

/// A data-set file with a public home: where it is cached and where it is downloaded from.
///
/// The loaders' entries are constants of their modules (e.g.
/// [`imdb::REMOTE`](super::imdb::REMOTE)); other files can be described the same way.
///
/// ```
/// use rnn_runtime::datasets::{Cache, Remote};
/// let remote = Remote {
///     dir: "mine",
///     file: "words.txt",
///     url: "https://example.org/words.txt",
///     sha256: None,
///     also: &[],
/// };
/// let cache = Cache::new("/tmp/rnn-cache");
/// assert_eq!(cache.path_of(&remote), std::path::Path::new("/tmp/rnn-cache/mine/words.txt"));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Remote<'a> {
    /// Sub-directory of the cache directory.
    pub dir: &'a str,
    /// File name, both in the cache and as downloaded.
    pub file: &'a str,
    /// Where the file is downloaded from.
    pub url: &'a str,
    /// SHA-256 digest (lower-case hex) of what `url` serves, when it is known; without one,
    /// [`Cache::fetch`] does not download (see [`Cache::fetch_verified`]).
    pub sha256: Option<&'a str>,
    /// Other names accepted in the same sub-directory for a copy put there by hand (e.g. a
    /// repacked archive); they are never downloaded.
    pub also: &'a [&'a str],
}

/// The directory data sets are cached in.
///
/// ```
/// use rnn_runtime::datasets::Cache;
/// let cache = Cache::new("/tmp/rnn-cache");
/// assert_eq!(cache.dir(), std::path::Path::new("/tmp/rnn-cache"));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cache {
    dir: PathBuf,
}

/// The environment variable naming the cache directory.
pub const ENV_VAR: &str = "RNN_DATA";

impl Cache {
    /// A cache in `dir` (created when something is downloaded into it).
    ///
    /// ```
    /// let cache = rnn_runtime::datasets::Cache::new("data");
    /// assert_eq!(cache.dir(), std::path::Path::new("data"));
    /// ```
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Cache { dir: dir.into() }
    }

    /// The default cache: the directory in the `RNN_DATA` environment variable when it is set
    /// and not empty, else `rnn` in the per-user cache directory (`$XDG_CACHE_HOME/rnn` or
    /// `~/.cache/rnn` on Linux, `~/Library/Caches/rnn` on macOS, `%LOCALAPPDATA%\rnn` on
    /// Windows).
    ///
    /// ```
    /// let cache = rnn_runtime::datasets::Cache::from_env()?;
    /// assert!(!cache.dir().as_os_str().is_empty());
    /// # Ok::<(), rnn_runtime::datasets::DatasetError>(())
    /// ```
    pub fn from_env() -> Result<Self, DatasetError> {
        resolve_dir(std::env::var_os(ENV_VAR), dirs::cache_dir())
            .map(Cache::new)
            .ok_or(DatasetError::NoCacheDir)
    }

    /// The cache directory.
    ///
    /// ```
    /// let cache = rnn_runtime::datasets::Cache::new("/data");
    /// assert_eq!(cache.dir().to_str(), Some("/data"));
    /// ```
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Where `remote` is stored (whether or not it is there).
    ///
    /// ```
    /// use rnn_runtime::datasets::{imdb, Cache};
    /// let path = Cache::new("/data").path_of(&imdb::REMOTE);
    /// assert_eq!(path, std::path::Path::new("/data/imdb/aclImdb_v1.tar.gz"));
    /// ```
    pub fn path_of(&self, remote: &Remote) -> PathBuf {
        self.dir.join(remote.dir).join(remote.file)
    }

    /// The cached copy of `remote`, if there is one: its own name first, then the names in
    /// [`Remote::also`].
    ///
    /// ```
    /// use rnn_runtime::datasets::{imdb, Cache};
    /// let cache = Cache::new("/nonexistent-rnn-cache");
    /// assert_eq!(cache.find(&imdb::REMOTE), None);
    /// ```
    pub fn find(&self, remote: &Remote) -> Option<PathBuf> {
        std::iter::once(remote.file)
            .chain(remote.also.iter().copied())
            .map(|name| self.dir.join(remote.dir).join(name))
            .find(|p| p.is_file())
    }

    /// The cached copy of `remote`, downloading and verifying it first when it is absent.
    ///
    /// A file already in the cache is used as it is: it can only have got there complete (the
    /// download renames a verified file into place) or by hand. Without a known digest
    /// ([`Remote::sha256`] is `None`) nothing is downloaded: the error says where to put the
    /// file, or use [`Cache::fetch_verified`].
    ///
    /// ```no_run
    /// use rnn_runtime::datasets::{imdb, Cache};
    /// let archive = Cache::from_env()?.fetch(&imdb::REMOTE)?; // 84 MB on first use
    /// # Ok::<(), rnn_runtime::datasets::DatasetError>(())
    /// ```
    pub fn fetch(&self, remote: &Remote) -> Result<PathBuf, DatasetError> {
        if let Some(found) = self.find(remote) {
            return Ok(found);
        }
        match remote.sha256 {
            Some(sha256) => self.download(remote, sha256),
            None => Err(DatasetError::NoChecksum {
                url: remote.url.to_string(),
                dest: self.path_of(remote).display().to_string(),
            }),
        }
    }

    /// Like [`Cache::fetch`], verifying a download against `sha256` (hex, either case) instead
    /// of the registry's digest; for files without a published digest, or mirrors.
    ///
    /// ```no_run
    /// use rnn_runtime::datasets::{irish_lyrics, Cache};
    /// let digest = "7a6daabd738dfd5b53c86a4213d98431fcbc132bae62e54c4a71a3e75648c7d5";
    /// let path = Cache::from_env()?.fetch_verified(&irish_lyrics::REMOTE, digest)?;
    /// let lines = irish_lyrics::load(Some(&path))?;
    /// # Ok::<(), rnn_runtime::datasets::DatasetError>(())
    /// ```
    pub fn fetch_verified(&self, remote: &Remote, sha256: &str) -> Result<PathBuf, DatasetError> {
        match self.find(remote) {
            Some(found) => Ok(found),
            None => self.download(remote, sha256),
        }
    }

    fn download(&self, remote: &Remote, sha256: &str) -> Result<PathBuf, DatasetError> {
        let dest = self.path_of(remote);
        let expected = sha256.trim().to_ascii_lowercase();
        let fail = |message: String| DatasetError::Download {
            url: remote.url.to_string(),
            dest: dest.display().to_string(),
            message,
        };
        if expected.len() != 64 || !expected.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(fail(format!(
                "`{sha256}` is not a SHA-256 digest (64 hexadecimal digits)"
            )));
        }
        let dir = self.dir.join(remote.dir);
        fs::create_dir_all(&dir)
            .map_err(|e| fail(format!("cannot create {}: {e}", dir.display())))?;
        eprintln!("Downloading {} to {}", remote.url, dest.display());
        let temp = temp_path(&dest);
        let result = receive(remote.url, &temp).map_err(fail).and_then(|actual| {
            if actual == expected {
                fs::rename(&temp, &dest)
                    .map_err(|e| fail(format!("cannot rename into {}: {e}", dest.display())))
            } else {
                Err(DatasetError::Checksum {
                    url: remote.url.to_string(),
                    dest: dest.display().to_string(),
                    expected: expected.clone(),
                    actual,
                })
            }
        });
        if let Err(e) = result {
            // Best effort: the download's own error is the one worth reporting.
            let _ = fs::remove_file(&temp);
            return Err(e);
        }
        // Makes the rename durable; the data is complete under its final name either way.
        if let Ok(d) = fs::File::open(&dir) {
            let _ = d.sync_all();
        }
        Ok(dest)
    }
}

/// `RNN_DATA` when set and not empty, else `rnn` under the platform's cache directory.
fn resolve_dir(env: Option<std::ffi::OsString>, user_cache: Option<PathBuf>) -> Option<PathBuf> {
    match env {
        Some(dir) if !dir.is_empty() => Some(PathBuf::from(dir)),
        _ => user_cache.map(|d| d.join("rnn")),
    }
}

/// Streams `url` into the new file `temp`, returning the body's SHA-256 (lower-case hex). The
/// file is flushed to disk before returning; the caller removes it on error.
fn receive(url: &str, temp: &Path) -> Result<String, String> {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        // Status codes are reported with the URL below rather than as a bare ureq error.
        .http_status_as_error(false)
        .timeout_connect(Some(Duration::from_secs(30)))
        // A stalled transfer fails instead of hanging; a slow but moving one may take long.
        .timeout_per_read(Some(Duration::from_secs(60)))
        .build()
        .into();
    let response = agent.get(url).call().map_err(|e| e.to_string())?;
    let status = response.status();
    if !status.is_success() {
        return Err(format!(
            "the server answered HTTP {} {}",
            status.as_u16(),
            status.canonical_reason().unwrap_or("")
        ));
    }
    let announced: Option<u64> = response
        .headers()
        .get("content-length")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse().ok());
    let mut body = response.into_body().into_reader();
    // `create_new` refuses to follow a stale file or symlink left under the temporary name.
    let mut file = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(temp)
        .map_err(|e| format!("cannot create {}: {e}", temp.display()))?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    let mut received: u64 = 0;
    loop {
        let n = match body.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => {
                return Err(format!(
                    "the transfer broke off after {received} bytes{}: {e}",
                    announced.map_or(String::new(), |n| format!(" of {n}"))
                ));
            }
        };
        let chunk = buf.get(..n).ok_or_else(|| {
            format!(
                "the transfer reported {n} bytes read into a buffer of {}",
                buf.len()
            )
        })?;
        hasher.update(chunk);
        file.write_all(chunk)
            .map_err(|e| format!("cannot write {}: {e}", temp.display()))?;
        // A transfer of more than 2^64 bytes cannot happen.
        received = received.saturating_add(n as u64);
    }
    if let Some(n) = announced
        && n != received
    {
        return Err(format!(
            "the transfer broke off after {received} bytes of {n}"
        ));
    }
    // Without this, a crash right after the rename could leave the final name pointing at
    // data that never reached the disk.
    file.sync_all()
        .map_err(|e| format!("cannot write {}: {e}", temp.display()))?;
    Ok(hex(&hasher.finalize()))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Distinguishes temporary files of concurrent downloads within one process.
static TEMP_COUNTER: AtomicU64 = AtomicU64::new(0);

/// A hidden sibling of `path` (same directory, so the rename stays on one file system),
/// unique to this process and call.
fn temp_path(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let unique = TEMP_COUNTER.fetch_add(1, Ordering::Relaxed);
    path.with_file_name(format!(".{name}.{}.{unique}.part", std::process::id()))
}

/// The SHA-256 digest of a file, lower-case hex.
///
/// ```
/// let dir = std::env::temp_dir().join(format!("rnn-doc-sha256-{}", std::process::id()));
/// std::fs::create_dir_all(&dir).unwrap();
/// std::fs::write(dir.join("abc.txt"), "abc").unwrap();
/// let digest = rnn_runtime::datasets::cache::sha256_file(&dir.join("abc.txt"))?;
/// assert_eq!(digest, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
/// # std::fs::remove_dir_all(&dir).unwrap();
/// # Ok::<(), rnn_runtime::datasets::DatasetError>(())
/// ```
pub fn sha256_file(path: &Path) -> Result<String, DatasetError> {
    let name = path.display().to_string();
    let mut file = fs::File::open(path).map_err(|e| DatasetError::io(&name, &e))?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        match file.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => match buf.get(..n) {
                Some(chunk) => hasher.update(chunk),
                None => {
                    return Err(DatasetError::format(
                        &name,
                        "read",
                        format!("{n} bytes reported read into a buffer of {}", buf.len()),
                    ));
                }
            },
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(DatasetError::io(&name, &e)),
        }
    }
    Ok(hex(&hasher.finalize()))
}

/// Resolves a loader's optional path: the given one, else the cached (or downloaded) copy.
pub(crate) fn locate(path: Option<&Path>, remote: &Remote) -> Result<PathBuf, DatasetError> {
    match path {
        Some(p) => Ok(p.to_path_buf()),
        None => Cache::from_env()?.fetch(remote),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_var_wins_over_the_user_cache() {
        let user = Some(PathBuf::from("/home/u/.cache"));
        assert_eq!(
            resolve_dir(Some("/data".into()), user.clone()),
            Some(PathBuf::from("/data"))
        );
        assert_eq!(
            resolve_dir(Some("".into()), user.clone()),
            Some(PathBuf::from("/home/u/.cache/rnn"))
        );
        assert_eq!(
            resolve_dir(None, user),
            Some(PathBuf::from("/home/u/.cache/rnn"))
        );
        assert_eq!(resolve_dir(None, None), None);
    }

    #[test]
    fn temporary_names_are_hidden_siblings() {
        let t = temp_path(Path::new("/c/imdb/a.tar.gz"));
        assert_eq!(t.parent(), Some(Path::new("/c/imdb")));
        let name = t.file_name().unwrap().to_string_lossy().into_owned();
        assert!(name.starts_with(".a.tar.gz.") && name.ends_with(".part"));
        assert_ne!(temp_path(Path::new("/c/a")), temp_path(Path::new("/c/a")));
    }
}
