//! The cache directory and its key: every directory on the way checked
//! (owner, mode, no symbolic link followed), the key read or made, entries
//! written. What an entry must pass to be loaded is in `entry.rs`.

use super::evict::Bound;
use super::{hex, resolve, MAX_ENTRY_BYTES};
use anyhow::Context as _;
use hmac::{KeyInit, Mac};
use nix::errno::Errno;
use nix::fcntl::{openat, renameat, AtFlags, OFlag};
use nix::sys::stat::{fstat, mkdirat, FileStat, Mode, SFlag};
use nix::unistd::{geteuid, linkat, unlinkat, UnlinkatFlags};
use std::io::{Read, Write};
use std::os::fd::{AsFd, OwnedFd};
use std::path::{Component as PathPart, Path, PathBuf};
use wasmtime::component::Component;

/// The file in the cache directory holding the HMAC key.
pub(super) const KEY_FILE: &str = "hmac-key";
const KEY_LEN: usize = 32;
/// The length of the HMAC at the start of an entry.
pub(super) const TAG_LEN: usize = 32;

/// The HMAC of entries: HMAC over BLAKE3 (RFC 2104 with BLAKE3 as the hash;
/// BLAKE3 hashes several times faster than SHA-256 here).
pub(super) type EntryMac = hmac::SimpleHmac<blake3::Hasher>;

/// An opened, checked cache directory and its key.
pub(super) struct Store {
    pub(super) dir: OwnedFd,
    pub(super) path: PathBuf,
    key: [u8; KEY_LEN],
}

impl Store {
    /// Opens the cache directory, creating what is missing (`0700`), and
    /// reads or creates its key; fails if anything on the way could be
    /// changed by another user.
    pub(super) fn open(dir: &Path) -> anyhow::Result<Store> {
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

    /// Stores `component` as entry `name`: written to a fresh file and
    /// renamed into place, then the cache is pruned. Whether the entry is
    /// still there (one larger than the bound is pruned at once).
    pub(super) fn write(
        &self,
        name: &str,
        component: &Component,
        bound: Bound,
    ) -> anyhow::Result<bool> {
        let body = component.serialize().map_err(anyhow::Error::from)?;
        anyhow::ensure!(
            (body.len() + TAG_LEN) as u64 <= MAX_ENTRY_BYTES,
            "{} bytes compiled, more than {MAX_ENTRY_BYTES}",
            body.len()
        );
        self.write_authenticated(name, &body)?;
        Ok(!self.prune(bound).iter().any(|removed| removed == name))
    }

    /// Writes `body` as file `name`, its HMAC first: to a fresh file
    /// (`O_EXCL`, no link followed, `0600`) renamed into place, removed if
    /// anything fails. Entries and stamps are written this way.
    pub(super) fn write_authenticated(&self, name: &str, body: &[u8]) -> anyhow::Result<()> {
        let mut mac = self.mac(name);
        mac.update(body);
        let tag = mac.finalize().into_bytes();
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
            .and_then(|()| file.write_all(body))
            .map_err(anyhow::Error::from)
            .and_then(|()| Ok(renameat(&self.dir, tmp.as_str(), &self.dir, name)?));
        if written.is_err() {
            let _ = unlinkat(&self.dir, tmp.as_str(), UnlinkatFlags::NoRemoveDir);
        }
        written
    }

    /// Opens file `name` of the cache directory for reading, without
    /// following a link, and checks it ([`check_file`]); `None` if there is
    /// none. Entries and stamps are read this way.
    pub(super) fn open_checked(&self, name: &str) -> anyhow::Result<Option<(OwnedFd, FileStat)>> {
        let flags = OFlag::O_RDONLY | OFlag::O_NONBLOCK | open_flags();
        let fd = match openat(&self.dir, name, flags, Mode::empty()) {
            Ok(fd) => fd,
            Err(Errno::ENOENT) => return Ok(None),
            Err(Errno::ELOOP) => anyhow::bail!("it is a symbolic link"),
            Err(e) => return Err(e.into()),
        };
        let st = fstat(&fd)?;
        check_file(&st, "it")?;
        Ok(Some((fd, st)))
    }

    /// The HMAC of entry `name`, its body still to be fed.
    pub(super) fn mac(&self, name: &str) -> EntryMac {
        let mut mac =
            <EntryMac as KeyInit>::new_from_slice(&self.key).expect("HMAC takes any key length");
        mac.update(super::DOMAIN);
        mac.update(name.as_bytes());
        mac.update(&[0]);
        mac
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

pub(super) fn random<const N: usize>() -> anyhow::Result<[u8; N]> {
    let mut buf = [0; N];
    getrandom::fill(&mut buf).map_err(|e| anyhow::anyhow!("getrandom: {e}"))?;
    Ok(buf)
}

/// A fresh name in the cache directory: `.tmp-PID-RANDOM`.
pub(super) fn tmp_name() -> anyhow::Result<String> {
    Ok(format!(
        ".tmp-{}-{}",
        std::process::id(),
        hex(&random::<8>()?)
    ))
}

/// The checks every file the host reads from the cache passes: a regular
/// file of the effective user, writable by no one else.
pub(super) fn check_file(st: &FileStat, what: &str) -> anyhow::Result<()> {
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

pub(super) fn open_flags() -> OFlag {
    OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC
}
