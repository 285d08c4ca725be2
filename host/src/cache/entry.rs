//! Reading an entry: opened without following symbolic links, checked
//! (owner, mode, size), copied into a sealed memory file, authenticated
//! there, and deserialized from that same sealed copy, so the bytes
//! wasmtime maps are the bytes whose HMAC was checked.
//!
//! Why a copy: the entry file itself could still be written after the check
//! (by its owner, or by a process that may write the cache directory but
//! not read the key), and a file mapped into memory shows such writes. A
//! `memfd` sealed with `F_SEAL_WRITE | F_SEAL_SHRINK | F_SEAL_GROW |
//! F_SEAL_SEAL` cannot be changed by anyone any more. The copy is made by
//! the kernel (`sendfile`, no pass through the host's memory), and
//! wasmtime maps it instead of copying the code once more; its memory
//! images (the guest's initial linear memory, 15 MB for CPython) are then
//! copy-on-write mappings of it too.

use super::store::{EntryMac, Store, TAG_LEN};
use super::{LOG_TARGET, MAX_ENTRY_BYTES};
use hmac::Mac;
use nix::sys::stat::futimens;
use nix::sys::time::TimeSpec;
use rustix::fs::{fcntl_add_seals, memfd_create, sendfile, MemfdFlags, SealFlags};
use rustix::mm::{mmap, munmap, MapFlags, ProtFlags};
use std::fs::File;
use std::io::Read;
use std::os::fd::AsRawFd;
use std::os::unix::fs::{FileExt, MetadataExt};
use std::path::{Path, PathBuf};
use wasmtime::component::Component;
use wasmtime::Engine;

/// An authenticated entry, still open (to touch it).
pub(super) struct Entry {
    file: File,
    body: Body,
    len: usize,
}

/// The entry's bytes after its tag, as authenticated.
enum Body {
    /// In a sealed memory file: no one can change them any more.
    Sealed(File),
    /// In the host's memory, where no sealed memory file could be made.
    Read(Vec<u8>),
}

impl Store {
    /// The entry `name`, if there is one; an error if there is a file that
    /// fails its checks or its authentication.
    pub(super) fn read(&self, name: &str) -> anyhow::Result<Option<Entry>> {
        let Some((fd, st)) = self.open_checked(name)? else {
            return Ok(None);
        };
        let size = st.st_size as u64;
        anyhow::ensure!(
            size <= MAX_ENTRY_BYTES,
            "it is {size} bytes, more than {MAX_ENTRY_BYTES}"
        );
        anyhow::ensure!(size > TAG_LEN as u64, "it is too short");
        let len = size as usize - TAG_LEN;
        let mut file = File::from(fd);
        let mut tag = [0; TAG_LEN];
        file.read_exact(&mut tag)?;
        let mut mac = self.mac(name);
        let body = match sealed_copy(&file, len) {
            Ok(sealed) => {
                feed(&mut mac, &sealed, len)?;
                Body::Sealed(sealed)
            }
            Err(e) => {
                tracing::debug!(target: LOG_TARGET, "no sealed copy of {name} ({e}): reading it");
                let mut bytes = vec![0; len];
                file.read_exact_at(&mut bytes, TAG_LEN as u64)?;
                mac.update(&bytes);
                Body::Read(bytes)
            }
        };
        mac.verify_slice(&tag).map_err(|_| {
            anyhow::anyhow!("its HMAC does not match (another entry's, or changed)")
        })?;
        Ok(Some(Entry { file, body, len }))
    }
}

impl Entry {
    /// The component, deserialized from the authenticated bytes: mapped
    /// from the sealed copy, or (where that fails, e.g. without `/proc` or
    /// where memory files may not be executable) copied into memory first.
    pub(super) fn deserialize(&self, engine: &Engine) -> anyhow::Result<Component> {
        let copied;
        let bytes = match &self.body {
            Body::Read(bytes) => bytes,
            Body::Sealed(sealed) => {
                let path = PathBuf::from(format!("/proc/self/fd/{}", sealed.as_raw_fd()));
                match map(engine, &path, sealed) {
                    Ok(component) => return Ok(component),
                    Err(e) => tracing::debug!(
                        target: LOG_TARGET,
                        "mapping the sealed copy failed ({e:#}): deserializing from memory"
                    ),
                }
                let mut bytes = vec![0; self.len];
                sealed.read_exact_at(&mut bytes, 0)?;
                copied = bytes;
                &copied
            }
        };
        // SAFETY: `bytes` are the bytes `Store::read` authenticated (read
        // from the sealed copy, which cannot change, or read once into
        // memory): `Store::write` wrote them from `Component::serialize`,
        // and their HMAC, under a key only the host's user can read
        // (checked in `Store::open`), covers the entry's name (the engine
        // and the component's bytes) and every one of them.
        unsafe { Component::deserialize(engine, bytes) }.map_err(anyhow::Error::from)
    }

    /// Marks the entry used now, so pruning keeps it.
    pub(super) fn touch(&self) {
        let _ = futimens(&self.file, &TimeSpec::UTIME_NOW, &TimeSpec::UTIME_NOW);
    }
}

/// The `len` bytes of `file` after its tag, copied by the kernel into a new
/// memory file that is then sealed: nothing can write, shrink or grow it
/// any more, nor remove the seals.
fn sealed_copy(file: &File, len: usize) -> std::io::Result<File> {
    let memfd = memfd_create(
        "procgate-compiled-component",
        MemfdFlags::CLOEXEC | MemfdFlags::ALLOW_SEALING,
    )?;
    let mut offset = TAG_LEN as u64;
    let end = offset + len as u64;
    while offset < end {
        let count = (end - offset) as usize;
        let n = sendfile(&memfd, file, Some(&mut offset), count)?;
        if n == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
    }
    let seals = SealFlags::WRITE | SealFlags::SHRINK | SealFlags::GROW | SealFlags::SEAL;
    fcntl_add_seals(&memfd, seals)?;
    let sealed = File::from(memfd);
    // Whoever could reach the memory file before the seals (the host's
    // user, through /proc) could have made it longer: the HMAC covers
    // `len` bytes, so the file must be exactly that long.
    if sealed.metadata()?.len() != len as u64 {
        return Err(std::io::Error::other("the sealed copy changed length"));
    }
    Ok(sealed)
}

/// Feeds the `len` bytes of `sealed` to `mac`, read through a read-only
/// mapping of it: no copy into the host's memory (reading it through a
/// buffer cost a page fault per page of the buffer, and its unmapping).
fn feed(mac: &mut EntryMac, sealed: &File, len: usize) -> std::io::Result<()> {
    if len == 0 {
        return Ok(());
    }
    // SAFETY: a fresh read-only mapping of `len` bytes of `sealed`, which
    // is exactly `len` bytes long (checked in `sealed_copy`) and sealed
    // against shrinking (no page can vanish under the mapping and fault)
    // and writing (the bytes cannot change while they are read). The
    // slice does not outlive the mapping, which is unmapped below.
    unsafe {
        let at = mmap(
            std::ptr::null_mut(),
            len,
            ProtFlags::READ,
            MapFlags::SHARED,
            sealed,
            0,
        )?;
        mac.update(std::slice::from_raw_parts(at.cast::<u8>(), len));
        munmap(at, len)?;
    }
    Ok(())
}

/// The component wasmtime maps from `path`, which must name `sealed`.
fn map(engine: &Engine, path: &Path, sealed: &File) -> anyhow::Result<Component> {
    let (ours, named) = (sealed.metadata()?, std::fs::metadata(path)?);
    anyhow::ensure!(
        (ours.dev(), ours.ino()) == (named.dev(), named.ino()),
        "{} is not the sealed copy",
        path.display()
    );
    // SAFETY: `path` names the sealed copy (same device and inode, through
    // the kernel's /proc/self/fd; its descriptor stays open until this
    // returns), which holds exactly the bytes `Store::read` authenticated
    // (see `Entry::deserialize`) and, sealed against writing, shrinking and
    // growing, cannot change while wasmtime maps it.
    unsafe { Component::deserialize_file(engine, path) }.map_err(anyhow::Error::from)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cache::evict::Bound;
    use nix::errno::Errno;
    use std::io::{Seek, Write};

    /// The smallest component (magic and version, nothing else), compiled.
    fn empty_component(engine: &Engine) -> Component {
        Component::new(engine, b"\0asm\x0d\0\x01\0").unwrap()
    }

    /// A store in its own directory holding one entry, `name`.
    fn store_with_entry(engine: &Engine) -> (tempfile::TempDir, Store, &'static str) {
        let tmp = tempfile::TempDir::new().unwrap();
        let store = Store::open(tmp.path()).unwrap();
        let name = "0000000000000000000000000000000000000000000000000000000000000000.cwasm";
        let bound = Bound {
            entries: 8,
            bytes: u64::MAX,
        };
        assert!(store.write(name, &empty_component(engine), bound).unwrap());
        (tmp, store, name)
    }

    /// An entry rewritten in place after it was authenticated (same file,
    /// every byte after the tag changed) is not what is deserialized: the
    /// authenticated bytes are. Mapping the entry file itself would load
    /// the rewritten bytes.
    #[test]
    fn an_entry_rewritten_after_its_check_is_not_what_is_deserialized() {
        let engine = Engine::default();
        let (tmp, store, name) = store_with_entry(&engine);
        let entry = store.read(name).unwrap().unwrap();
        assert!(matches!(entry.body, Body::Sealed(_)), "no sealed copy here");
        let mut file = File::options()
            .write(true)
            .open(tmp.path().join(name))
            .unwrap();
        let len = file.metadata().unwrap().len() as usize;
        file.seek(std::io::SeekFrom::Start(TAG_LEN as u64)).unwrap();
        file.write_all(&vec![0xcc; len - TAG_LEN]).unwrap();
        drop(file);
        entry.deserialize(&engine).unwrap();
        // The rewritten entry itself is refused.
        let refused = store.read(name).err().unwrap();
        assert!(
            format!("{refused}").contains("HMAC does not match"),
            "{refused}"
        );
    }

    /// The sealed copy cannot be written, shrunk or grown, even through a
    /// descriptor opened for writing (as anyone reaching it through
    /// `/proc/PID/fd` would).
    #[test]
    fn the_sealed_copy_cannot_be_changed() {
        let engine = Engine::default();
        let (_tmp, store, name) = store_with_entry(&engine);
        let entry = store.read(name).unwrap().unwrap();
        let Body::Sealed(sealed) = &entry.body else {
            panic!("no sealed copy here");
        };
        let path = format!("/proc/self/fd/{}", sealed.as_raw_fd());
        let mut writable = File::options().write(true).open(&path).unwrap();
        let denied = |r: std::io::Result<()>| {
            let e = r.expect_err("the change went through");
            assert_eq!(e.raw_os_error(), Some(Errno::EPERM as i32), "{e}");
        };
        denied(writable.write_all(b"x"));
        denied(writable.set_len(1));
        denied(writable.set_len(entry.len as u64 + 4096));
        entry.deserialize(&engine).unwrap();
    }
}
