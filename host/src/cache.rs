//! A cache of compiled components on disk, so a guest is compiled once and
//! then loaded in about a millisecond.
//!
//! Entries are keyed by the SHA-256 of the component's bytes and by the
//! engine's compatibility hash (wasmtime version and the settings that
//! affect code), so a changed guest or a new wasmtime never loads stale
//! code. Loading a compiled component runs its machine code unchecked:
//! the cache directory must be writable only by the user running the host.
//!
//! ```no_run
//! use procgate::cache::ComponentCache;
//! # fn demo(engine: &wasmtime::Engine) -> anyhow::Result<()> {
//! let cache = ComponentCache::new(ComponentCache::default_dir());
//! let component = cache.load(engine, "guest.wasm".as_ref())?;
//! # Ok(()) }
//! ```

use anyhow::Context as _;
use sha2::{Digest, Sha256};
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use wasmtime::component::Component;
use wasmtime::Engine;

/// How many compiled components a cache keeps; writing one more removes the
/// oldest (a Python or JavaScript guest compiles to about 70 MB).
pub const MAX_ENTRIES: usize = 32;

/// A directory of compiled components.
#[derive(Debug, Clone)]
pub struct ComponentCache {
    dir: PathBuf,
}

impl ComponentCache {
    /// A cache in `dir` (created when first written).
    pub fn new(dir: impl Into<PathBuf>) -> ComponentCache {
        ComponentCache { dir: dir.into() }
    }

    /// `$PROCGATE_CACHE_DIR`, else `$XDG_CACHE_HOME/procgate/compiled`,
    /// else `$HOME/.cache/procgate/compiled`, else a folder in the temporary
    /// directory.
    pub fn default_dir() -> PathBuf {
        let env = |k| {
            std::env::var_os(k)
                .filter(|v| !v.is_empty())
                .map(PathBuf::from)
        };
        env("PROCGATE_CACHE_DIR")
            .or_else(|| env("XDG_CACHE_HOME").map(|d| d.join("procgate/compiled")))
            .or_else(|| env("HOME").map(|d| d.join(".cache/procgate/compiled")))
            .unwrap_or_else(|| std::env::temp_dir().join("procgate-compiled"))
    }

    /// The entry for `bytes` compiled by `engine`.
    fn entry(&self, engine: &Engine, bytes: &[u8]) -> PathBuf {
        let content = Sha256::digest(bytes);
        let mut h = std::collections::hash_map::DefaultHasher::new();
        engine.precompile_compatibility_hash().hash(&mut h);
        let name: String = content.iter().map(|b| format!("{b:02x}")).collect();
        self.dir.join(format!("{name}-{:016x}.cwasm", h.finish()))
    }

    /// The component at `path`: loaded from the cache if it was compiled
    /// before, else compiled and stored (keeping the newest
    /// [`MAX_ENTRIES`]). A broken or incompatible entry is compiled again; a
    /// cache that cannot be written only costs speed.
    pub fn load(&self, engine: &Engine, path: &Path) -> anyhow::Result<Component> {
        let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
        let entry = self.entry(engine, &bytes);
        if entry.exists() {
            // SAFETY: entries are written only by `store` below, from
            // `Component::serialize`, into the host user's own directory.
            match unsafe { Component::deserialize_file(engine, &entry) } {
                Ok(component) => {
                    // Touch it, so pruning keeps what is in use.
                    let _ = std::fs::File::options()
                        .append(true)
                        .open(&entry)
                        .and_then(|f| f.set_modified(std::time::SystemTime::now()));
                    return Ok(component);
                }
                Err(e) => tracing::debug!("compiled cache entry {} unusable: {e}", entry.display()),
            }
        }
        let component = Component::new(engine, &bytes)
            .map_err(anyhow::Error::from)
            .with_context(|| format!("compiling {}", path.display()))?;
        if let Err(e) = self.store(&entry, &component) {
            tracing::debug!("could not cache {}: {e:#}", path.display());
        }
        Ok(component)
    }

    fn store(&self, entry: &Path, component: &Component) -> anyhow::Result<()> {
        std::fs::create_dir_all(&self.dir)?;
        let data = component.serialize().map_err(anyhow::Error::from)?;
        // Write aside and rename, so a reader never sees half an entry.
        let tmp = entry.with_extension(format!("tmp{}", std::process::id()));
        std::fs::write(&tmp, data)?;
        std::fs::rename(&tmp, entry)?;
        self.prune(MAX_ENTRIES);
        Ok(())
    }

    /// Keeps the `keep` most recently written entries and removes the rest.
    fn prune(&self, keep: usize) {
        let Ok(dir) = std::fs::read_dir(&self.dir) else {
            return;
        };
        let mut entries: Vec<(std::time::SystemTime, PathBuf)> = dir
            .flatten()
            .filter(|e| e.path().extension().is_some_and(|x| x == "cwasm"))
            .filter_map(|e| Some((e.metadata().ok()?.modified().ok()?, e.path())))
            .collect();
        if entries.len() <= keep {
            return;
        }
        entries.sort_by(|a, b| b.0.cmp(&a.0));
        for (_, path) in entries.into_iter().skip(keep) {
            let _ = std::fs::remove_file(path);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prune_keeps_the_newest_entries() {
        let dir = std::env::temp_dir().join(format!("procgate-cache-test-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let base = std::time::SystemTime::now() - std::time::Duration::from_secs(1000);
        for i in 0..5u64 {
            let path = dir.join(format!("{i}.cwasm"));
            std::fs::write(&path, b"x").unwrap();
            let f = std::fs::File::options().append(true).open(&path).unwrap();
            f.set_modified(base + std::time::Duration::from_secs(i))
                .unwrap();
        }
        std::fs::write(dir.join("other.txt"), b"kept").unwrap();
        ComponentCache::new(&dir).prune(2);
        let mut left: Vec<String> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        left.sort();
        assert_eq!(left, ["3.cwasm", "4.cwasm", "other.txt"]);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
