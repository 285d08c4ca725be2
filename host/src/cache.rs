//! A cache of compiled components on disk, so a guest is compiled once and
//! then loaded in milliseconds.
//!
//! Loading a compiled component runs its machine code inside the host
//! unchecked, so an entry is trusted only when all of this holds:
//!
//! - The cache directory is private: `$PROCGATE_CACHE_DIR`, else
//!   `$XDG_CACHE_HOME/procgate/compiled`, else
//!   `$HOME/.cache/procgate/compiled`; with none of these set there is no
//!   cache (never a shared folder such as `/tmp`). Every directory the host
//!   creates on the way is made `0700`; the cache directory must be owned by
//!   the effective user and not writable by group or others, and each of its
//!   ancestors must be owned by root or that user and not writable by group
//!   or others unless sticky (like `/tmp`). The path is walked one component
//!   at a time without following symbolic links. A directory that fails any
//!   of this turns the cache off for the run, with a one-line warning on
//!   [`LOG_TARGET`].
//! - An entry is opened without following symbolic links (and without
//!   blocking on a FIFO), and must be a regular file of the effective user,
//!   not writable by group or others, at most [`MAX_ENTRY_BYTES`] long.
//! - An entry is authenticated before it is deserialized: it starts with an
//!   HMAC (over BLAKE3) of its entry name and its bytes, under a random key
//!   kept in the cache directory (`hmac-key`, `0600`, created exclusively).
//!   An entry copied from another name, edited, or written by anyone who
//!   cannot read the key is refused; the guest is compiled again and a
//!   warning says why.
//! - The bytes deserialized are the bytes authenticated: the entry is copied
//!   into a sealed memory file (`memfd`, sealed against writing, shrinking
//!   and growing, so no one can change it any more), the HMAC is checked on
//!   that copy, and wasmtime maps that copy (so its memory images are
//!   copy-on-write mappings of it, not one more copy). Where a sealed memory
//!   file cannot be made or mapped, the entry is read into the host's memory
//!   and deserialized from there.
//! - New entries are written to a fresh file (`O_EXCL|O_NOFOLLOW`, random
//!   name) in the same directory and renamed into place; pruning removes
//!   only regular files named like entries.
//! - Names are the BLAKE3 hash of the engine's compatibility hash (wasmtime
//!   version and the settings that affect code) and the component's bytes.
//! - A stamp (`<hex>.stamp`, authenticated like an entry) maps a guest
//!   file's (device, inode, size, mtime, ctime) to its entry's name and its
//!   declaration, so [`ComponentCache::load_stamped`] finds the entry of an
//!   unchanged file without reading it; only files last changed at least
//!   [`SETTLE`] before are stamped, and the change time, which no
//!   unprivileged call can set, tells a rewritten file apart
//!   (`cache/stamp.rs`). At most [`MAX_STAMPS`] are kept.
//! - The cache is bounded: at most [`MAX_ENTRIES`] entries and
//!   [`ComponentCache::max_bytes`] bytes in all ([`DEFAULT_MAX_BYTES`] unless
//!   set); writing an entry evicts the least recently used ones (an entry
//!   loaded is touched) until both bounds hold.
//!
//! What the key does not stop is code running as the same user: it can read
//! the key. That is why `procgate run` refuses a directory grant that
//! contains the cache ([`ComponentCache::overlaps`]). wasmtime's own cache
//! (`Config::cache`, crate `wasmtime-cache`) was not used: it reads entries
//! with `fs::read` (following symbolic links), checks neither owner nor
//! mode, creates its directories with default permissions and does not
//! authenticate entries.
//!
//! The trust checks of the directory and the key are in `cache/store.rs`,
//! reading and authenticating an entry in `cache/entry.rs`, stamps in
//! `cache/stamp.rs`, listing and eviction in `cache/evict.rs`. With `RUST_LOG=procgate::cache=debug` a
//! load logs how long each of its steps took.
//!
//! ```no_run
//! use procgate::cache::ComponentCache;
//! # fn demo(engine: &wasmtime::Engine) -> anyhow::Result<()> {
//! let cache = ComponentCache::new(ComponentCache::default_dir());
//! let component = cache.load(engine, "guest.wasm".as_ref())?;
//! # Ok(()) }
//! ```

mod entry;
mod evict;
mod stamp;
mod store;

pub use evict::{CacheEntry, MAX_STAMPS};
pub use stamp::{FileStamp, SETTLE};

use anyhow::Context as _;
use evict::Bound;
use std::hash::{Hash, Hasher};
use std::path::{Component as PathPart, Path, PathBuf};
use std::time::Instant;
use store::Store;
use wasmtime::component::Component;
use wasmtime::Engine;

/// How many compiled components a cache keeps; writing one more removes the
/// least recently used.
pub const MAX_ENTRIES: usize = 32;

/// How many bytes of entries a cache keeps unless
/// [`ComponentCache::with_max_bytes`] says otherwise: 1 GiB (a Python or
/// JavaScript guest compiles to about 70 MB).
pub const DEFAULT_MAX_BYTES: u64 = 1 << 30;

/// The largest entry read (or written): 1 GiB. A bigger file at an entry's
/// name is not read; the guest is compiled instead.
pub const MAX_ENTRY_BYTES: u64 = 1 << 30;

/// The `tracing` target of the cache's warnings (cache off, entry refused).
pub const LOG_TARGET: &str = "procgate::cache";

/// Separates this use of BLAKE3 and of the key from any other (`v2`: names
/// and tags of `v1` were SHA-256, so its entries are never found).
const DOMAIN: &[u8] = b"procgate compiled component v2\0";

/// A directory of compiled components.
#[derive(Debug, Clone)]
pub struct ComponentCache {
    dir: Option<PathBuf>,
    max_bytes: u64,
}

/// What [`ComponentCache::load_with`] is doing, for a progress line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoadStep {
    /// No usable entry: the component (this many bytes of it) is being
    /// compiled.
    Compiling {
        /// The size of the component file.
        bytes: u64,
    },
    /// The compile ended (successfully or not); `cached` says whether the
    /// result was stored.
    Compiled {
        /// Whether the compiled component is now in the cache.
        cached: bool,
    },
}

impl ComponentCache {
    /// A cache in `dir` (created when first written), or no cache for
    /// `None`: every load compiles. It keeps at most [`DEFAULT_MAX_BYTES`].
    pub fn new(dir: impl Into<Option<PathBuf>>) -> ComponentCache {
        ComponentCache {
            dir: dir.into(),
            max_bytes: DEFAULT_MAX_BYTES,
        }
    }

    /// The same cache keeping at most `bytes` of entries (and still at most
    /// [`MAX_ENTRIES`]); least recently used entries go first.
    pub fn with_max_bytes(mut self, bytes: u64) -> ComponentCache {
        self.max_bytes = bytes;
        self
    }

    /// The most bytes of entries this cache keeps.
    pub fn max_bytes(&self) -> u64 {
        self.max_bytes
    }

    /// `$PROCGATE_CACHE_DIR`, else `$XDG_CACHE_HOME/procgate/compiled`,
    /// else `$HOME/.cache/procgate/compiled`, else none (no cache: there is
    /// no shared fallback).
    pub fn default_dir() -> Option<PathBuf> {
        let env = |k| {
            std::env::var_os(k)
                .filter(|v| !v.is_empty())
                .map(PathBuf::from)
        };
        env("PROCGATE_CACHE_DIR")
            .or_else(|| env("XDG_CACHE_HOME").map(|d| d.join("procgate/compiled")))
            .or_else(|| env("HOME").map(|d| d.join(".cache/procgate/compiled")))
    }

    /// The cache directory, if there is one.
    pub fn dir(&self) -> Option<&Path> {
        self.dir.as_deref()
    }

    /// Whether granting `dir` to a guest (or to its children) would let it
    /// write the cache: `dir` contains the cache directory or lies inside it.
    /// Both are compared as canonical paths; a cache directory that does not
    /// exist yet counts where it would be created.
    pub fn overlaps(&self, dir: &Path) -> std::io::Result<bool> {
        let Some(cache) = &self.dir else {
            return Ok(false);
        };
        let cache = resolve(cache)?;
        let dir = resolve(dir)?;
        Ok(cache.starts_with(&dir) || dir.starts_with(&cache))
    }

    /// The component at `path`: loaded from the cache if it was compiled
    /// and stored before, else compiled and stored (then the least recently
    /// used entries past [`MAX_ENTRIES`] or [`ComponentCache::max_bytes`]
    /// are removed). An entry that fails its checks is compiled again, with
    /// a warning; a cache that cannot be used only costs speed.
    pub fn load(&self, engine: &Engine, path: &Path) -> anyhow::Result<Component> {
        self.load_with(engine, path, |_| {})
    }

    /// As [`ComponentCache::load`], telling `step` when a compile starts
    /// and ends (nothing on a cache hit), so a caller can show progress.
    pub fn load_with(
        &self,
        engine: &Engine,
        path: &Path,
        step: impl FnMut(LoadStep),
    ) -> anyhow::Result<Component> {
        let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
        self.load_bytes_with(engine, &bytes, path, step)
    }

    /// As [`ComponentCache::load_with`], for a component already read into
    /// memory (`path` names it in messages): a caller that reads the file
    /// for something else too (its declaration) reads it once. The entry's
    /// name is the hash of these bytes, and on a miss these bytes are what
    /// is compiled, so what is stored is always what was named.
    pub fn load_bytes_with(
        &self,
        engine: &Engine,
        bytes: &[u8],
        path: &Path,
        step: impl FnMut(LoadStep),
    ) -> anyhow::Result<Component> {
        self.load_bytes_stamped_with(engine, bytes, path, None, step)
    }

    /// The component of the guest file stamped `stamp`, and the
    /// declaration recorded with it, if a stamp of that file is in the
    /// cache (written by [`ComponentCache::load_bytes_stamped_with`]): the
    /// file need not be read nor hashed. `None` when there is none, when
    /// the file has not settled ([`FileStamp::settled`]), or when the stamp
    /// or its entry fails a check (logged): then read the file and load it
    /// by its bytes. See the module `cache/stamp.rs` for why a stamp names
    /// the file's content.
    pub fn load_stamped(
        &self,
        engine: &Engine,
        stamp: &FileStamp,
    ) -> Option<(Component, Option<String>)> {
        if !stamp.settled() {
            return None;
        }
        let store = Store::open(self.dir.as_deref()?).ok()?;
        let start = Instant::now();
        let name = stamp.file_name(&engine_hash(engine));
        let stamped = match store.read_stamp(&name) {
            Ok(stamped) => stamped?,
            Err(why) => {
                stamp::refused(&name, &why);
                return None;
            }
        };
        let component = load_entry(engine, &store, &stamped.entry)?;
        tracing::debug!(
            target: LOG_TARGET,
            "loaded {} by its stamp {name} in {:?}",
            stamped.entry,
            start.elapsed()
        );
        Some((component, stamped.declaration))
    }

    /// As [`ComponentCache::load_bytes_with`]; when `stamp` is given (the
    /// stamp of the file `bytes` were read from, taken before reading, and
    /// the file's declaration) and the file has settled, the cache also
    /// records the stamp, so the next [`ComponentCache::load_stamped`] of
    /// the unchanged file finds the entry without reading the file.
    pub fn load_bytes_stamped_with(
        &self,
        engine: &Engine,
        bytes: &[u8],
        path: &Path,
        stamp: Option<(&FileStamp, Option<&str>)>,
        mut step: impl FnMut(LoadStep),
    ) -> anyhow::Result<Component> {
        let store = self.dir.as_deref().and_then(|dir| match Store::open(dir) {
            Ok(store) => Some(store),
            Err(why) => {
                tracing::warn!(target: LOG_TARGET, "not caching compiled components: {why:#}");
                None
            }
        });
        // The entry's name, only when there is a store to look it up in
        // (`--no-cache` and an unusable cache hash nothing).
        let start = Instant::now();
        let store = store.map(|store| (store, entry_name(engine, bytes)));
        let hashed = start.elapsed();
        if let Some((store, name)) = &store {
            if let Some(component) = load_entry(engine, store, name) {
                tracing::debug!(
                    target: LOG_TARGET,
                    "loaded {name}: component hashed in {hashed:?}, all in {:?}",
                    start.elapsed()
                );
                record_stamp(engine, store, name, stamp);
                return Ok(component);
            }
        }
        step(LoadStep::Compiling {
            bytes: bytes.len() as u64,
        });
        let component = match Component::new(engine, bytes) {
            Ok(component) => component,
            Err(e) => {
                step(LoadStep::Compiled { cached: false });
                return Err(anyhow::Error::from(e))
                    .with_context(|| format!("compiling {}", path.display()));
            }
        };
        let mut cached = false;
        if let Some((store, name)) = &store {
            match store.write(name, &component, self.bound()) {
                Ok(kept) => {
                    cached = kept;
                    if kept {
                        record_stamp(engine, store, name, stamp);
                    }
                }
                Err(e) => {
                    tracing::debug!(target: LOG_TARGET, "could not cache {}: {e:#}", path.display())
                }
            }
        }
        step(LoadStep::Compiled { cached });
        Ok(component)
    }

    fn bound(&self) -> Bound {
        Bound {
            entries: MAX_ENTRIES,
            bytes: self.max_bytes,
        }
    }

    /// The checked store, or none when there is no cache directory.
    fn open(&self) -> anyhow::Result<Option<Store>> {
        self.dir.as_deref().map(Store::open).transpose()
    }
}

/// Writes the stamp of the file whose entry is `entry`, when there is one
/// and the file has settled; a failure only costs the next run a hash.
fn record_stamp(
    engine: &Engine,
    store: &Store,
    entry: &str,
    stamp: Option<(&FileStamp, Option<&str>)>,
) {
    let Some((stamp, declaration)) = stamp.filter(|(s, _)| s.settled()) else {
        return;
    };
    let name = stamp.file_name(&engine_hash(engine));
    let stamped = stamp::Stamped {
        entry: entry.to_string(),
        declaration: declaration.map(str::to_string),
    };
    if let Err(e) = store.write_stamp(&name, &stamped) {
        tracing::debug!(target: LOG_TARGET, "could not write stamp {name}: {e:#}");
    }
}

/// Entry `name` of `store`, deserialized, if it is there and passes its
/// checks; a refused or unloadable entry is logged (the caller compiles).
fn load_entry(engine: &Engine, store: &Store, name: &str) -> Option<Component> {
    let start = Instant::now();
    let entry = match store.read(name) {
        Ok(entry) => entry?,
        Err(why) => {
            tracing::warn!(
                target: LOG_TARGET,
                "compiled cache entry {name} refused, compiling again: {why:#}"
            );
            return None;
        }
    };
    let authenticated = start.elapsed();
    match entry.deserialize(engine) {
        Ok(component) => {
            tracing::debug!(
                target: LOG_TARGET,
                "{name}: read and authenticated in {authenticated:?}, deserialized in {:?}",
                start.elapsed() - authenticated
            );
            // Touch it, so pruning keeps what is in use.
            entry.touch();
            Some(component)
        }
        Err(e) => {
            tracing::warn!(
                target: LOG_TARGET,
                "compiled cache entry {name} not loadable, compiling again: {e:#}"
            );
            None
        }
    }
}

/// `path` made absolute and canonical; of a path that does not exist, the
/// deepest existing ancestor is canonicalized and the rest appended.
fn resolve(path: &Path) -> std::io::Result<PathBuf> {
    let path = std::path::absolute(path)?;
    let mut existing = path.as_path();
    let mut rest = Vec::new();
    loop {
        match existing.canonicalize() {
            Ok(mut canonical) => {
                for part in rest.iter().rev() {
                    match part {
                        PathPart::ParentDir => {
                            canonical.pop();
                        }
                        PathPart::Normal(name) => canonical.push(name),
                        _ => {}
                    }
                }
                return Ok(canonical);
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let (Some(parent), Some(last)) =
                    (existing.parent(), existing.components().next_back())
                else {
                    return Err(e);
                };
                rest.push(last);
                existing = parent;
            }
            Err(e) => return Err(e),
        }
    }
}

/// The entry's file name: the BLAKE3 hash of the engine's compatibility
/// hash and the component's bytes, in hex, with `.cwasm`.
fn entry_name(engine: &Engine, component: &[u8]) -> String {
    let mut name = blake3::Hasher::new();
    name.update(DOMAIN);
    name.update(&engine_hash(engine));
    name.update(component);
    format!("{}.cwasm", hex(name.finalize().as_bytes()))
}

/// The BLAKE3 hash of the engine's compatibility hash (wasmtime version
/// and the settings that affect code).
fn engine_hash(engine: &Engine) -> [u8; 32] {
    /// Feeds `Hash` into BLAKE3 (wasmtime's own cache does the same with
    /// SHA-256).
    struct Blake3Hasher(blake3::Hasher);
    impl Hasher for Blake3Hasher {
        fn write(&mut self, bytes: &[u8]) {
            self.0.update(bytes);
        }
        fn finish(&self) -> u64 {
            0 // never called: the digest is taken from `self.0`
        }
    }
    // The engine's part is hashed on its own, so what follows it in the
    // name's hash starts at a fixed offset.
    let mut h = Blake3Hasher(blake3::Hasher::new());
    engine.precompile_compatibility_hash().hash(&mut h);
    *h.0.finalize().as_bytes()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolve_appends_what_does_not_exist_to_the_canonical_rest() {
        let tmp = std::env::temp_dir().canonicalize().unwrap();
        assert_eq!(
            resolve(&std::env::temp_dir().join("no-such-dir-procgate/a/../b")).unwrap(),
            tmp.join("no-such-dir-procgate/b")
        );
    }
}
