//! Listing and eviction: the entries of a cache, most recently used
//! first, and the removal of the least recently used past the cache's
//! bounds (count and bytes), of left-over temporary files, and of
//! everything on `procgate cache clean`. Only regular files named like
//! entries, stamps (`stamp.rs`) or temporary files are considered; nothing
//! is followed. Stamps are bounded by count ([`MAX_STAMPS`]), least
//! recently used first.

use super::store::Store;
use super::ComponentCache;
use nix::fcntl::AtFlags;
use nix::sys::stat::{fstatat, SFlag};
use nix::unistd::{unlinkat, UnlinkatFlags};
use std::time::{Duration, SystemTime};

/// Temporary files (`.tmp-PID-RANDOM`) older than this are left-overs of a
/// host that died while writing; pruning removes them.
const STALE_TMP: Duration = Duration::from_secs(3600);

/// How many stamps a cache keeps (each a few hundred bytes; a file gets a
/// new one whenever it changes).
pub const MAX_STAMPS: usize = 256;

/// One entry of a cache, as [`ComponentCache::entries`] lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CacheEntry {
    /// The file name: the hex BLAKE3 hash of the engine and the component.
    pub name: String,
    /// Its size on disk.
    pub bytes: u64,
    /// When it was last written or loaded.
    pub last_used: SystemTime,
}

/// How much a cache keeps.
#[derive(Debug, Clone, Copy)]
pub(super) struct Bound {
    pub(super) entries: usize,
    pub(super) bytes: u64,
}

impl ComponentCache {
    /// The entries in the cache, most recently used first (the directory is
    /// opened and checked as for a load; nothing is followed).
    pub fn entries(&self) -> anyhow::Result<Vec<CacheEntry>> {
        match self.open()? {
            Some(store) => Ok(store.entries().0),
            None => Ok(Vec::new()),
        }
    }

    /// Removes every entry (and stamp, and left-over temporary file), keeping the
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
        for (name, _) in tmps.into_iter().chain(store.stamps()) {
            let _ = unlinkat(&store.dir, name.as_str(), UnlinkatFlags::NoRemoveDir);
        }
        Ok(removed)
    }
}

impl Store {
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

    /// The regular files named like stamps, most recently used first.
    pub(super) fn stamps(&self) -> Vec<(String, SystemTime)> {
        let mut stamps = Vec::new();
        let Ok(names) = std::fs::read_dir(&self.path) else {
            return stamps;
        };
        for name in names
            .flatten()
            .filter_map(|e| e.file_name().into_string().ok())
            .filter(|name| is_stamp_name(name))
        {
            let Ok(st) = fstatat(&self.dir, name.as_str(), AtFlags::AT_SYMLINK_NOFOLLOW) else {
                continue;
            };
            if SFlag::from_bits_truncate(st.st_mode) & SFlag::S_IFMT == SFlag::S_IFREG {
                let mtime = SystemTime::UNIX_EPOCH
                    + Duration::new(st.st_mtime.max(0) as u64, st.st_mtime_nsec as u32);
                stamps.push((name, mtime));
            }
        }
        stamps.sort_by_key(|(_, mtime)| std::cmp::Reverse(*mtime));
        stamps
    }

    /// Removes the least recently used stamps past [`MAX_STAMPS`].
    pub(super) fn prune_stamps(&self) {
        for (name, _) in self.stamps().into_iter().skip(MAX_STAMPS) {
            let _ = unlinkat(&self.dir, name.as_str(), UnlinkatFlags::NoRemoveDir);
        }
    }

    /// Keeps the most recently used entries within `bound` (count and
    /// bytes) and removes the rest, and temporary files left by a host
    /// that died. Only regular files with those names are considered;
    /// nothing is followed. Returns the entries removed.
    pub(super) fn prune(&self, bound: Bound) -> Vec<String> {
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

/// `<64 lower-case hex digits>.cwasm`.
pub(super) fn is_entry_name(name: &str) -> bool {
    is_hex_name(name, ".cwasm")
}

fn is_stamp_name(name: &str) -> bool {
    is_hex_name(name, ".stamp")
}

fn is_hex_name(name: &str, suffix: &str) -> bool {
    name.strip_suffix(suffix).is_some_and(|stem| {
        stem.len() == 64 && stem.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cache::hex;
    use crate::cache::store::KEY_FILE;
    use std::path::Path;

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
