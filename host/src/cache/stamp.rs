//! Stamps: a cache hit without reading the guest file. A stamp records, for
//! a file identified by its device, inode, size, modification time and
//! change time ([`FileStamp`]), the name of its entry and its declaration,
//! so a later run of the unchanged file needs neither to read nor to hash
//! it.
//!
//! Why the change time: anyone who can write a file can set its
//! modification time back (`touch -d`), but not its change time, which the
//! kernel sets to now on every write and every change of the inode, and
//! which no unprivileged call sets to any other value. A file rewritten in
//! place, same size, modification time restored, has a new change time and
//! so a stamp of its own: its content is hashed again.
//!
//! Why only settled files: timestamps advance in ticks (a few ms on some
//! file systems), so a file changed in the same tick as its stamp was
//! taken could keep the stamp's change time. A stamp is written and used
//! only for a file whose change time is at least [`SETTLE`] before the
//! moment it was taken (the "racy" case of git's index).
//!
//! A stamp file is `<hex>.stamp` in the cache directory (the hex BLAKE3
//! hash of the engine's compatibility hash and the file stamp), checked as
//! an entry is (opened without following links, a regular file of the
//! effective user writable by no one else, size bounded) and authenticated
//! by the same key, the HMAC covering its name: a stamp copied to another
//! name, edited or forged is refused, and the file is hashed instead. What
//! a stamp names is an entry, loaded with every check of an entry.

use super::store::{Store, TAG_LEN};
use super::{hex, LOG_TARGET};
use hmac::Mac;
use nix::sys::stat::futimens;
use nix::sys::time::TimeSpec;
use std::io::Read;
use std::os::unix::fs::MetadataExt;
use std::time::{Duration, SystemTime};

/// How long before a stamp is taken the file must have last changed for
/// the stamp to be written or used.
pub const SETTLE: Duration = Duration::from_secs(2);

/// The largest stamp file read: an entry name and a declaration
/// ([`procgate_policy::MAX_DECLARATION_BYTES`]), with room to spare.
const MAX_STAMP_BYTES: u64 = 1 << 20;

/// Separates stamp names from any other use of the hash.
const STAMP_DOMAIN: &[u8] = b"procgate file stamp v1\0";

/// What identifies a file's content without reading it (see the module
/// documentation): taken with `fstat` on the descriptor the file is then
/// read from, before reading it, so a change during the read shows as a
/// later change time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileStamp {
    dev: u64,
    ino: u64,
    size: u64,
    mtime: (i64, i64),
    ctime: (i64, i64),
    /// Whether the file had last changed at least [`SETTLE`] before the
    /// stamp was taken.
    settled: bool,
}

impl FileStamp {
    /// The stamp of the file `meta` describes, taken now.
    pub fn of(meta: &std::fs::Metadata) -> FileStamp {
        let ctime = (meta.ctime(), meta.ctime_nsec());
        let changed = SystemTime::UNIX_EPOCH
            .checked_add(Duration::new(
                ctime.0.max(0) as u64,
                ctime.1.clamp(0, 999_999_999) as u32,
            ))
            .unwrap_or(SystemTime::UNIX_EPOCH);
        let settled = ctime.0 >= 0
            && SystemTime::now()
                .duration_since(changed)
                .is_ok_and(|age| age >= SETTLE);
        FileStamp {
            dev: meta.dev(),
            ino: meta.ino(),
            size: meta.size(),
            mtime: (meta.mtime(), meta.mtime_nsec()),
            ctime,
            settled,
        }
    }

    /// Whether the stamp may be written or used (the file had settled).
    pub fn settled(&self) -> bool {
        self.settled
    }

    /// The stamp file's name under an engine whose compatibility hash is
    /// `engine`.
    pub(super) fn file_name(&self, engine: &[u8; 32]) -> String {
        let mut h = blake3::Hasher::new();
        h.update(STAMP_DOMAIN);
        h.update(engine);
        for n in [self.dev, self.ino, self.size] {
            h.update(&n.to_le_bytes());
        }
        for (s, ns) in [self.mtime, self.ctime] {
            h.update(&s.to_le_bytes());
            h.update(&ns.to_le_bytes());
        }
        format!("{}.stamp", hex(h.finalize().as_bytes()))
    }
}

/// What a stamp records: the entry's name and the file's declaration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stamped {
    /// The entry's name (`<hex>.cwasm`).
    pub(super) entry: String,
    /// The file's declaration, if it had one.
    pub declaration: Option<String>,
}

impl Stamped {
    /// The stamp file's body after its tag: the entry name, a newline, and
    /// a `1` and the declaration, or a `0`.
    fn encode(&self) -> Vec<u8> {
        let mut body = Vec::with_capacity(self.entry.len() + 2);
        body.extend_from_slice(self.entry.as_bytes());
        body.push(b'\n');
        match &self.declaration {
            Some(text) => {
                body.push(b'1');
                body.extend_from_slice(text.as_bytes());
            }
            None => body.push(b'0'),
        }
        body
    }

    fn decode(body: &[u8]) -> anyhow::Result<Stamped> {
        let newline = body
            .iter()
            .position(|&b| b == b'\n')
            .ok_or_else(|| anyhow::anyhow!("no entry name"))?;
        let entry = std::str::from_utf8(&body[..newline])?.to_string();
        anyhow::ensure!(super::evict::is_entry_name(&entry), "not an entry name");
        let declaration = match &body[newline + 1..] {
            [b'0'] => None,
            [b'1', text @ ..] => Some(std::str::from_utf8(text)?.to_string()),
            _ => anyhow::bail!("malformed"),
        };
        Ok(Stamped { entry, declaration })
    }
}

impl Store {
    /// The stamp `name`, if there is one; an error if there is a file that
    /// fails its checks or its authentication.
    pub(super) fn read_stamp(&self, name: &str) -> anyhow::Result<Option<Stamped>> {
        let Some((fd, st)) = self.open_checked(name)? else {
            return Ok(None);
        };
        let size = st.st_size as u64;
        anyhow::ensure!(
            size <= MAX_STAMP_BYTES && size > TAG_LEN as u64,
            "it is {size} bytes"
        );
        let mut file = std::fs::File::from(fd);
        let mut bytes = Vec::with_capacity(size as usize);
        Read::by_ref(&mut file).take(size).read_to_end(&mut bytes)?;
        let (tag, body) = bytes.split_at(TAG_LEN.min(bytes.len()));
        let mut mac = self.mac(name);
        mac.update(body);
        mac.verify_slice(tag).map_err(|_| {
            anyhow::anyhow!("its HMAC does not match (another stamp's, or changed)")
        })?;
        let stamped = Stamped::decode(body)?;
        // Touch it, so pruning keeps what is in use.
        let _ = futimens(&file, &TimeSpec::UTIME_NOW, &TimeSpec::UTIME_NOW);
        Ok(Some(stamped))
    }

    /// Writes stamp `name` (a fresh file renamed into place).
    pub(super) fn write_stamp(&self, name: &str, stamped: &Stamped) -> anyhow::Result<()> {
        self.write_authenticated(name, &stamped.encode())?;
        self.prune_stamps();
        Ok(())
    }
}

/// Logs why a stamp was not used (the caller reads and hashes the file).
pub(super) fn refused(name: &str, why: &anyhow::Error) {
    tracing::warn!(
        target: LOG_TARGET,
        "compiled cache stamp {name} refused, hashing the guest instead: {why:#}"
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stamp_round_trips_and_a_copied_or_edited_one_is_refused() {
        let tmp = tempfile::TempDir::new().unwrap();
        let store = Store::open(tmp.path()).unwrap();
        let stamped = Stamped {
            entry: format!("{}.cwasm", "ab".repeat(32)),
            declaration: Some("[programs]\n".into()),
        };
        let (a, b) = (
            format!("{}.stamp", "01".repeat(32)),
            format!("{}.stamp", "02".repeat(32)),
        );
        store.write_stamp(&a, &stamped).unwrap();
        assert_eq!(store.read_stamp(&a).unwrap(), Some(stamped));
        assert_eq!(store.read_stamp(&b).unwrap(), None);
        // Copied to another name: refused.
        std::fs::copy(tmp.path().join(&a), tmp.path().join(&b)).unwrap();
        let e = store.read_stamp(&b).unwrap_err();
        assert!(format!("{e}").contains("HMAC does not match"), "{e}");
        // Edited: refused.
        let mut bytes = std::fs::read(tmp.path().join(&a)).unwrap();
        *bytes.last_mut().unwrap() ^= 1;
        std::fs::write(tmp.path().join(&a), bytes).unwrap();
        let e = store.read_stamp(&a).unwrap_err();
        assert!(format!("{e}").contains("HMAC does not match"), "{e}");
    }

    #[test]
    fn stamps_past_the_bound_are_pruned_least_recently_used_first() {
        let tmp = tempfile::TempDir::new().unwrap();
        let store = Store::open(tmp.path()).unwrap();
        let stamped = Stamped {
            entry: format!("{}.cwasm", "ab".repeat(32)),
            declaration: None,
        };
        let name = |i: usize| {
            let mut id = [0u8; 32];
            id[..8].copy_from_slice(&(i as u64).to_le_bytes());
            format!("{}.stamp", hex(&id))
        };
        let extra = 5;
        for i in 0..crate::cache::MAX_STAMPS + extra {
            store.write_stamp(&name(i), &stamped).unwrap();
            // Distinct times, so "least recently used" is well defined.
            let f = std::fs::File::options()
                .append(true)
                .open(tmp.path().join(name(i)))
                .unwrap();
            f.set_modified(SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000 + i as u64))
                .unwrap();
        }
        store.prune_stamps();
        let left = store.stamps();
        assert_eq!(left.len(), crate::cache::MAX_STAMPS);
        assert!(left.iter().all(|(n, _)| *n != name(0)), "the oldest stayed");
    }

    #[test]
    fn a_file_changed_just_now_is_not_settled() {
        let tmp = tempfile::TempDir::new().unwrap();
        let path = tmp.path().join("f");
        std::fs::write(&path, b"x").unwrap();
        let stamp = FileStamp::of(&std::fs::metadata(&path).unwrap());
        assert!(!stamp.settled());
    }
}
