//! A cache of compiled components on disk, so a guest is compiled once and
//! then loaded in about a millisecond.
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
//!   HMAC-SHA256 over its entry name and its bytes, under a random key kept
//!   in the cache directory (`hmac-key`, `0600`, created exclusively). An
//!   entry copied from another name, edited, or written by anyone who cannot
//!   read the key is refused; the guest is compiled again and a warning says
//!   why.
//! - New entries are written to a fresh file (`O_EXCL|O_NOFOLLOW`, random
//!   name) in the same directory and renamed into place; pruning removes
//!   only regular files named like entries.
//! - Names are the SHA-256 of the engine's compatibility hash (wasmtime
//!   version and the settings that affect code) and the component's bytes.
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
//! ```no_run
//! use procgate::cache::ComponentCache;
//! # fn demo(engine: &wasmtime::Engine) -> anyhow::Result<()> {
//! let cache = ComponentCache::new(ComponentCache::default_dir());
//! let component = cache.load(engine, "guest.wasm".as_ref())?;
//! # Ok(()) }
//! ```
//!
//! Longer than ~400 lines (about 700 without its tests): the cache's trust
//! checks (owner and mode of every directory, descriptor-relative opens, the
//! HMAC key, size bounds) are one security argument, read together. The
//! listing and eviction added for `procgate cache` should move to a file of
//! their own.

use anyhow::Context as _;
use hmac::{Hmac, Mac};
use nix::errno::Errno;
use nix::fcntl::{openat, renameat, AtFlags, OFlag};
use nix::sys::stat::{fstat, fstatat, futimens, mkdirat, FileStat, Mode, SFlag};
use nix::sys::time::TimeSpec;
use nix::unistd::{geteuid, linkat, unlinkat, UnlinkatFlags};
use sha2::{Digest, Sha256};
use std::hash::{Hash, Hasher};
use std::io::{Read, Write};
use std::os::fd::{AsFd, OwnedFd};
use std::path::{Component as PathPart, Path, PathBuf};
use std::time::{Duration, SystemTime};
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

/// The file in the cache directory holding the HMAC key.
const KEY_FILE: &str = "hmac-key";
const KEY_LEN: usize = 32;
const TAG_LEN: usize = 32;
/// Separates this use of SHA-256 and of the key from any other.
const DOMAIN: &[u8] = b"procgate compiled component v1\0";
/// Temporary files (`.tmp-PID-RANDOM`) older than this are left-overs of a
/// host that died while writing; pruning removes them.
const STALE_TMP: Duration = Duration::from_secs(3600);

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

/// One entry of a cache, as [`ComponentCache::entries`] lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CacheEntry {
    /// The file name: the hex SHA-256 of the engine and the component.
    pub name: String,
    /// Its size on disk.
    pub bytes: u64,
    /// When it was last written or loaded.
    pub last_used: SystemTime,
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
        mut step: impl FnMut(LoadStep),
    ) -> anyhow::Result<Component> {
        let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
        let store = self.dir.as_deref().and_then(|dir| match Store::open(dir) {
            Ok(store) => Some(store),
            Err(why) => {
                tracing::warn!(target: LOG_TARGET, "not caching compiled components: {why:#}");
                None
            }
        });
        let name = entry_name(engine, &bytes);
        if let Some(store) = &store {
            match store.read(&name) {
                Ok(None) => {}
                Ok(Some(entry)) => {
                    // SAFETY: `entry.body` was written by `Store::write` from
                    // `Component::serialize`: its HMAC, under a key only the
                    // host's user can read (checked in `Store::open`), covers
                    // the entry's name (the engine and the component's
                    // bytes) and every byte of it.
                    match unsafe { Component::deserialize(engine, entry.body()) } {
                        Ok(component) => {
                            // Touch it, so pruning keeps what is in use.
                            let _ =
                                futimens(&entry.file, &TimeSpec::UTIME_NOW, &TimeSpec::UTIME_NOW);
                            return Ok(component);
                        }
                        Err(e) => tracing::warn!(
                            target: LOG_TARGET,
                            "compiled cache entry {name} not loadable, compiling again: {e}"
                        ),
                    }
                }
                Err(why) => tracing::warn!(
                    target: LOG_TARGET,
                    "compiled cache entry {name} refused, compiling again: {why:#}"
                ),
            }
        }
        step(LoadStep::Compiling {
            bytes: bytes.len() as u64,
        });
        let component = match Component::new(engine, &bytes) {
            Ok(component) => component,
            Err(e) => {
                step(LoadStep::Compiled { cached: false });
                return Err(anyhow::Error::from(e))
                    .with_context(|| format!("compiling {}", path.display()));
            }
        };
        let mut cached = false;
        if let Some(store) = &store {
            match store.write(&name, &component, self.bound()) {
                Ok(kept) => cached = kept,
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

    /// The entries in the cache, most recently used first (the directory is
    /// opened and checked as for a load; nothing is followed).
    pub fn entries(&self) -> anyhow::Result<Vec<CacheEntry>> {
        match self.open()? {
            Some(store) => Ok(store.entries().0),
            None => Ok(Vec::new()),
        }
    }

    /// Removes every entry (and left-over temporary file), keeping the
    /// directory and its key; returns how many entries and bytes went.
    pub fn clean(&self) -> anyhow::Result<(usize, u64)> {
        let Some(store) = self.open()? else {
            return Ok((0, 0));
        };
        let (entries, tmps) = store.entries();
        let mut removed = (0, 0);
        for e in entries {
            if unlinkat(&store.dir, e.name.as_str(), UnlinkatFlags::NoRemoveDir).is_ok() {
                removed.0 += 1;
                removed.1 += e.bytes;
            }
        }
        for (name, _) in tmps {
            let _ = unlinkat(&store.dir, name.as_str(), UnlinkatFlags::NoRemoveDir);
        }
        Ok(removed)
    }

    /// The checked store, or none when there is no cache directory.
    fn open(&self) -> anyhow::Result<Option<Store>> {
        self.dir.as_deref().map(Store::open).transpose()
    }
}

/// How much a cache keeps.
#[derive(Debug, Clone, Copy)]
struct Bound {
    entries: usize,
    bytes: u64,
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

/// The entry's file name: the SHA-256 of the engine's compatibility hash
/// and the component's bytes, in hex, with `.cwasm`.
fn entry_name(engine: &Engine, bytes: &[u8]) -> String {
    /// Feeds `Hash` into SHA-256 (wasmtime's own cache does the same).
    struct Sha256Hasher(Sha256);
    impl Hasher for Sha256Hasher {
        fn write(&mut self, bytes: &[u8]) {
            self.0.update(bytes);
        }
        fn finish(&self) -> u64 {
            0 // never called: the digest is taken from `self.0`
        }
    }
    let mut h = Sha256Hasher(Sha256::new());
    h.0.update(DOMAIN);
    engine.precompile_compatibility_hash().hash(&mut h);
    h.0.update((bytes.len() as u64).to_le_bytes());
    h.0.update(bytes);
    format!("{}.cwasm", hex(&h.0.finalize()))
}

fn is_entry_name(name: &str) -> bool {
    name.strip_suffix(".cwasm").is_some_and(|stem| {
        stem.len() == 64 && stem.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
    })
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn random<const N: usize>() -> anyhow::Result<[u8; N]> {
    let mut buf = [0; N];
    getrandom::fill(&mut buf).map_err(|e| anyhow::anyhow!("getrandom: {e}"))?;
    Ok(buf)
}

/// A fresh name in the cache directory: `.tmp-PID-RANDOM`.
fn tmp_name() -> anyhow::Result<String> {
    Ok(format!(
        ".tmp-{}-{}",
        std::process::id(),
        hex(&random::<8>()?)
    ))
}

/// The checks every file the host reads from the cache passes: a regular
/// file of the effective user, writable by no one else.
fn check_file(st: &FileStat, what: &str) -> anyhow::Result<()> {
    let kind = SFlag::from_bits_truncate(st.st_mode) & SFlag::S_IFMT;
    anyhow::ensure!(kind == SFlag::S_IFREG, "{what} is not a regular file");
    anyhow::ensure!(
        st.st_uid == geteuid().as_raw(),
        "{what} is owned by uid {}, not {}",
        st.st_uid,
        geteuid()
    );
    anyhow::ensure!(
        st.st_mode & 0o022 == 0,
        "{what} is writable by group or others (mode {:o})",
        st.st_mode & 0o7777
    );
    Ok(())
}

fn open_flags() -> OFlag {
    OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC
}

/// An opened, checked cache directory and its key.
struct Store {
    dir: OwnedFd,
    path: PathBuf,
    key: [u8; KEY_LEN],
}

/// An authenticated entry, still open (to touch it).
struct Entry {
    file: std::fs::File,
    data: Vec<u8>,
}

impl Entry {
    fn body(&self) -> &[u8] {
        &self.data[TAG_LEN..]
    }
}

impl Store {
    /// Opens the cache directory, creating what is missing (`0700`), and
    /// reads or creates its key; fails if anything on the way could be
    /// changed by another user.
    fn open(dir: &Path) -> anyhow::Result<Store> {
        let path = resolve(dir).with_context(|| format!("{}", dir.display()))?;
        let euid = geteuid().as_raw();
        let mut fd = nix::fcntl::open(
            "/",
            OFlag::O_RDONLY | OFlag::O_DIRECTORY | open_flags(),
            Mode::empty(),
        )?;
        let mut here = PathBuf::from("/");
        let parts: Vec<_> = path.components().skip(1).collect();
        for (i, part) in parts.iter().enumerate() {
            let PathPart::Normal(name) = part else {
                anyhow::bail!("{}: not a plain path", path.display());
            };
            check_ancestor(&fstat(&fd)?, &here)?;
            here.push(name);
            let flags = OFlag::O_RDONLY | OFlag::O_DIRECTORY | open_flags();
            let mut created = false;
            let next = match openat(&fd, *name, flags, Mode::empty()) {
                Err(Errno::ENOENT) => {
                    match mkdirat(&fd, *name, Mode::from_bits_truncate(0o700)) {
                        Ok(()) => created = true,
                        Err(Errno::EEXIST) => {}
                        Err(e) => return Err(e).context(format!("creating {}", here.display())),
                    }
                    openat(&fd, *name, flags, Mode::empty())
                }
                other => other,
            }
            .with_context(|| format!("{} (symbolic links are not followed)", here.display()))?;
            fd = next;
            if created || i + 1 == parts.len() {
                let st = fstat(&fd)?;
                anyhow::ensure!(
                    st.st_uid == euid,
                    "{} is owned by uid {}, not {euid}",
                    here.display(),
                    st.st_uid
                );
                anyhow::ensure!(
                    st.st_mode & 0o022 == 0,
                    "{} is writable by group or others (mode {:o})",
                    here.display(),
                    st.st_mode & 0o7777
                );
            }
        }
        let key = read_key(&fd).with_context(|| format!("{}/{KEY_FILE}", path.display()))?;
        Ok(Store { dir: fd, path, key })
    }

    /// The entry `name`, if there is one; an error if there is a file that
    /// fails its checks or its authentication.
    fn read(&self, name: &str) -> anyhow::Result<Option<Entry>> {
        let flags = OFlag::O_RDONLY | OFlag::O_NONBLOCK | open_flags();
        let fd = match openat(&self.dir, name, flags, Mode::empty()) {
            Ok(fd) => fd,
            Err(Errno::ENOENT) => return Ok(None),
            Err(Errno::ELOOP) => anyhow::bail!("it is a symbolic link"),
            Err(e) => return Err(e.into()),
        };
        let st = fstat(&fd)?;
        check_file(&st, "it")?;
        let size = st.st_size as u64;
        anyhow::ensure!(
            size <= MAX_ENTRY_BYTES,
            "it is {size} bytes, more than {MAX_ENTRY_BYTES}"
        );
        let mut file = std::fs::File::from(fd);
        let mut data = Vec::with_capacity(size as usize);
        (&mut file).take(MAX_ENTRY_BYTES).read_to_end(&mut data)?;
        anyhow::ensure!(data.len() > TAG_LEN, "it is too short");
        let (tag, body) = data.split_at(TAG_LEN);
        self.mac(name, body).verify_slice(tag).map_err(|_| {
            anyhow::anyhow!("its HMAC does not match (another entry's, or changed)")
        })?;
        Ok(Some(Entry { file, data }))
    }

    /// Stores `component` as entry `name`: written to a fresh file and
    /// renamed into place, then the cache is pruned. Whether the entry is
    /// still there (one larger than the bound is pruned at once).
    fn write(&self, name: &str, component: &Component, bound: Bound) -> anyhow::Result<bool> {
        let body = component.serialize().map_err(anyhow::Error::from)?;
        anyhow::ensure!(
            (body.len() + TAG_LEN) as u64 <= MAX_ENTRY_BYTES,
            "{} bytes compiled, more than {MAX_ENTRY_BYTES}",
            body.len()
        );
        let tag = self.mac(name, &body).finalize().into_bytes();
        let tmp = tmp_name()?;
        let fd = openat(
            &self.dir,
            tmp.as_str(),
            OFlag::O_WRONLY | OFlag::O_CREAT | OFlag::O_EXCL | open_flags(),
            Mode::from_bits_truncate(0o600),
        )?;
        let mut file = std::fs::File::from(fd);
        let written = file
            .write_all(&tag)
            .and_then(|()| file.write_all(&body))
            .map_err(anyhow::Error::from)
            .and_then(|()| Ok(renameat(&self.dir, tmp.as_str(), &self.dir, name)?));
        if written.is_err() {
            let _ = unlinkat(&self.dir, tmp.as_str(), UnlinkatFlags::NoRemoveDir);
        }
        written?;
        Ok(!self.prune(bound).iter().any(|removed| removed == name))
    }

    fn mac(&self, name: &str, body: &[u8]) -> Hmac<Sha256> {
        let mut mac = <Hmac<Sha256>>::new_from_slice(&self.key).expect("HMAC takes any key length");
        mac.update(DOMAIN);
        mac.update(name.as_bytes());
        mac.update(&[0]);
        mac.update(body);
        mac
    }

    /// The regular files named like entries, most recently used first, and
    /// the temporary files older than [`STALE_TMP`] (left by a host that
    /// died while writing). Nothing is followed.
    fn entries(&self) -> (Vec<CacheEntry>, Vec<(String, SystemTime)>) {
        let mut entries = Vec::new();
        let mut stale = Vec::new();
        let Ok(names) = std::fs::read_dir(&self.path) else {
            return (entries, stale);
        };
        let now = SystemTime::now();
        for name in names
            .flatten()
            .filter_map(|e| e.file_name().into_string().ok())
        {
            let Ok(st) = fstatat(&self.dir, name.as_str(), AtFlags::AT_SYMLINK_NOFOLLOW) else {
                continue;
            };
            if SFlag::from_bits_truncate(st.st_mode) & SFlag::S_IFMT != SFlag::S_IFREG {
                continue;
            }
            let mtime = SystemTime::UNIX_EPOCH
                + Duration::new(st.st_mtime.max(0) as u64, st.st_mtime_nsec as u32);
            if is_entry_name(&name) {
                entries.push(CacheEntry {
                    name,
                    bytes: st.st_size.max(0) as u64,
                    last_used: mtime,
                });
            } else if name.starts_with(".tmp-")
                && now.duration_since(mtime).is_ok_and(|age| age > STALE_TMP)
            {
                stale.push((name, mtime));
            }
        }
        entries.sort_by_key(|e| std::cmp::Reverse(e.last_used));
        (entries, stale)
    }

    /// Keeps the most recently used entries within `bound` (count and
    /// bytes) and removes the rest, and temporary files left by a host
    /// that died. Only regular files with those names are considered;
    /// nothing is followed. Returns the entries removed.
    fn prune(&self, bound: Bound) -> Vec<String> {
        let (entries, stale) = self.entries();
        for (name, _) in stale {
            let _ = unlinkat(&self.dir, name.as_str(), UnlinkatFlags::NoRemoveDir);
        }
        // Strictly least recently used: past the first entry that does not
        // fit, none is kept.
        let (mut count, mut bytes, mut full) = (0, 0u64, false);
        let mut removed = Vec::new();
        for e in entries {
            bytes = bytes.saturating_add(e.bytes);
            count += 1;
            full = full || count > bound.entries || bytes > bound.bytes;
            if full && unlinkat(&self.dir, e.name.as_str(), UnlinkatFlags::NoRemoveDir).is_ok() {
                removed.push(e.name);
            }
        }
        removed
    }
}

/// An existing directory above the cache: owned by root or the effective
/// user, and writable by no one else unless sticky (then no one else can
/// rename or remove what is ours in it).
fn check_ancestor(st: &FileStat, path: &Path) -> anyhow::Result<()> {
    let euid = geteuid().as_raw();
    anyhow::ensure!(
        st.st_uid == 0 || st.st_uid == euid,
        "{} is owned by uid {}, neither root nor {euid}",
        path.display(),
        st.st_uid
    );
    anyhow::ensure!(
        st.st_mode & 0o022 == 0 || st.st_mode & 0o1000 != 0,
        "{} is writable by group or others (mode {:o})",
        path.display(),
        st.st_mode & 0o7777
    );
    Ok(())
}

/// The cache's key: read from `hmac-key`, or made (random, `0600`) if there
/// is none. Two hosts making it at once: each writes its own fresh file and
/// links it to the name; the first link wins and both read that one.
fn read_key(dir: &OwnedFd) -> anyhow::Result<[u8; KEY_LEN]> {
    let flags = OFlag::O_RDONLY | OFlag::O_NONBLOCK | open_flags();
    let fd = match openat(dir, KEY_FILE, flags, Mode::empty()) {
        Err(Errno::ENOENT) => {
            make_key(dir)?;
            openat(dir, KEY_FILE, flags, Mode::empty())?
        }
        other => other.map_err(|e| match e {
            Errno::ELOOP => anyhow::anyhow!("it is a symbolic link"),
            e => e.into(),
        })?,
    };
    let st = fstat(&fd)?;
    check_file(&st, "it")?;
    anyhow::ensure!(
        st.st_mode & 0o077 == 0,
        "it is readable by group or others (mode {:o})",
        st.st_mode & 0o7777
    );
    anyhow::ensure!(st.st_size as usize == KEY_LEN, "it is not {KEY_LEN} bytes");
    let mut key = [0; KEY_LEN];
    std::fs::File::from(fd).read_exact(&mut key)?;
    Ok(key)
}

fn make_key(dir: &OwnedFd) -> anyhow::Result<()> {
    let tmp = tmp_name()?;
    let fd = openat(
        dir,
        tmp.as_str(),
        OFlag::O_WRONLY | OFlag::O_CREAT | OFlag::O_EXCL | open_flags(),
        Mode::from_bits_truncate(0o600),
    )?;
    let written = std::fs::File::from(fd)
        .write_all(&random::<KEY_LEN>()?)
        .map_err(anyhow::Error::from)
        .and_then(|()| {
            match linkat(
                dir.as_fd(),
                tmp.as_str(),
                dir.as_fd(),
                KEY_FILE,
                AtFlags::empty(),
            ) {
                Ok(()) | Err(Errno::EEXIST) => Ok(()),
                Err(e) => Err(e.into()),
            }
        });
    let _ = unlinkat(dir, tmp.as_str(), UnlinkatFlags::NoRemoveDir);
    written
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

    #[test]
    fn prune_keeps_the_newest_entries_and_nothing_is_followed() {
        let tmp = tempfile::TempDir::new().unwrap();
        let outside = tempfile::TempDir::new().unwrap();
        let store = Store::open(tmp.path()).unwrap();
        let name = |i: u8| format!("{}.cwasm", hex(&[i; 32]));
        let age = |path: &Path, secs: u64| {
            let f = std::fs::File::options().append(true).open(path).unwrap();
            f.set_modified(SystemTime::now() - Duration::from_secs(secs))
                .unwrap();
        };
        for i in 0..5u8 {
            std::fs::write(tmp.path().join(name(i)), b"x").unwrap();
            age(&tmp.path().join(name(i)), 1000 - u64::from(i));
        }
        let victim = outside.path().join("victim");
        std::fs::write(&victim, b"kept").unwrap();
        age(&victim, 5000);
        std::os::unix::fs::symlink(&victim, tmp.path().join(name(9))).unwrap();
        std::fs::create_dir(tmp.path().join(name(8))).unwrap();
        std::fs::write(tmp.path().join("other.txt"), b"kept").unwrap();
        for (tmp_name, secs) in [(".tmp-1-old", 2 * 3600), (".tmp-1-new", 0)] {
            std::fs::write(tmp.path().join(tmp_name), b"x").unwrap();
            age(&tmp.path().join(tmp_name), secs);
        }
        store.prune(Bound {
            entries: 2,
            bytes: u64::MAX,
        });
        let mut left: Vec<String> = std::fs::read_dir(tmp.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        left.sort();
        let mut want = vec![
            name(3),
            name(4),
            name(8),
            name(9),
            ".tmp-1-new".into(),
            KEY_FILE.into(),
            "other.txt".into(),
        ];
        want.sort();
        assert_eq!(left, want);
        assert_eq!(std::fs::read(&victim).unwrap(), b"kept");
    }

    #[test]
    fn prune_keeps_the_most_recently_used_entries_within_the_byte_bound() {
        let tmp = tempfile::TempDir::new().unwrap();
        let store = Store::open(tmp.path()).unwrap();
        let name = |i: u8| format!("{}.cwasm", hex(&[i; 32]));
        // Entry i is i seconds old: 0 is the most recently used.
        for (i, size) in [(0u8, 400usize), (1, 300), (2, 400), (3, 10)] {
            let path = tmp.path().join(name(i));
            std::fs::write(&path, vec![0; size]).unwrap();
            let f = std::fs::File::options().append(true).open(&path).unwrap();
            f.set_modified(SystemTime::now() - Duration::from_secs(10 + u64::from(i)))
                .unwrap();
        }
        store.prune(Bound {
            entries: 10,
            bytes: 1000,
        });
        let (left, _) = store.entries();
        let left: Vec<String> = left.into_iter().map(|e| e.name).collect();
        // 400 + 300 fit; 400 more do not, and the older 10 bytes go too.
        assert_eq!(left, vec![name(0), name(1)]);
    }

    #[test]
    fn entry_names_are_hex_sha256() {
        assert!(is_entry_name(&format!("{}.cwasm", "0a".repeat(32))));
        assert!(!is_entry_name(&format!("{}.cwasm", "0A".repeat(32))));
        assert!(!is_entry_name("hmac-key"));
        assert!(!is_entry_name(".tmp-1-00.cwasm"));
    }
}
