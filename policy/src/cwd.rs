//! Working directories: granted host directories under guest paths, and
//! the mapping of a guest's `cwd` to an opened host directory.
//!
//! A grant is opened once with cap-std; a requested `cwd` is opened
//! relative to it, so `..` and symlinks that lead out of the grant fail at
//! the open itself. The child changes into the directory by descriptor
//! (`/proc/self/fd/N`), so nothing can swap the path between the check
//! and the child's `chdir`.

use crate::{BuildError, Error, Result};
use cap_std::ambient_authority;
use cap_std::fs::Dir;
use std::io;
use std::os::fd::AsRawFd;
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

/// A host directory the guest may use as a child's working directory, under
/// the guest path it is known by.
///
/// ```
/// let policy = procgate_policy::Policy::builder().dir("/tmp", "/scratch").build().unwrap();
/// assert_eq!(policy.dirs()[0].guest, "/scratch");
/// ```
#[derive(Debug, Clone)]
pub struct DirGrant {
    /// The host directory, canonical.
    pub host: PathBuf,
    /// The path the guest names it by (absolute, e.g. `/work`).
    pub guest: String,
    /// Read-only: under Landlock, children may read it, never write (or
    /// execute) in it; the CLI's `--dir HOST::GUEST:ro` also preopens it
    /// read-only for the guest.
    pub read_only: bool,
    /// The opened directory every `cwd` inside the grant is opened from.
    dir: Arc<Dir>,
}

impl DirGrant {
    /// Opens the grant; fails if `host` is not a directory or `guest` is
    /// not absolute.
    pub(crate) fn open(host: &Path, guest: &str, read_only: bool) -> Result<DirGrant, BuildError> {
        let unopened =
            |e: io::Error| BuildError::new(format!("granted directory {}: {e}", host.display()));
        let canonical = host.canonicalize().map_err(unopened)?;
        if !guest.starts_with('/') {
            return Err(BuildError::new(format!(
                "guest path {guest:?} of {} must be absolute",
                host.display()
            )));
        }
        let dir = Dir::open_ambient_dir(&canonical, ambient_authority()).map_err(unopened)?;
        Ok(DirGrant {
            host: canonical,
            guest: normalize_guest(guest).unwrap_or_else(|| "/".into()),
            read_only,
            dir: Arc::new(dir),
        })
    }
}

/// A child's working directory: the host path (for the audit log and
/// Landlock) and, inside a grant, the opened directory the child changes
/// into.
#[derive(Debug, Clone)]
pub(crate) struct Cwd {
    pub(crate) host: PathBuf,
    pub(crate) dir: Option<Arc<Dir>>,
}

/// Maps the guest's `cwd` (or the default) to a host directory inside a
/// grant. Without grants and without a request, children start in `/`.
pub(crate) fn resolve(
    grants: &[DirGrant],
    default: Option<&str>,
    cwd: Option<&str>,
) -> Result<Cwd> {
    let Some(cwd) = cwd.or(default) else {
        return Ok(match grants.first() {
            Some(g) => Cwd {
                host: g.host.clone(),
                dir: Some(g.dir.clone()),
            },
            None => Cwd {
                host: PathBuf::from("/"),
                dir: None,
            },
        });
    };
    crate::decide::check_nul("cwd", cwd)?;
    if cwd.is_empty() {
        return Err(Error::InvalidArgument("empty cwd".into()));
    }
    let denied = || Error::Denied(format!("cwd {cwd:?} is not inside a granted directory"));
    let guest = normalize_guest(cwd).ok_or_else(denied)?;
    // The longest grant whose guest path is a prefix of the request.
    let grant = grants
        .iter()
        .filter(|d| {
            guest == d.guest || d.guest == "/" || guest.starts_with(&format!("{}/", d.guest))
        })
        .max_by_key(|d| d.guest.len())
        .ok_or_else(denied)?;
    let rest = guest[grant.guest.len()..].trim_start_matches('/');
    let opened = if rest.is_empty() {
        grant.dir.try_clone()
    } else {
        grant.dir.open_dir(rest)
    };
    let dir = opened.map_err(|e| match e.kind() {
        io::ErrorKind::NotFound => Error::NotFound(format!("cwd {cwd:?}: {e}")),
        io::ErrorKind::NotADirectory => {
            Error::InvalidArgument(format!("cwd {cwd:?} is not a directory"))
        }
        // cap-std refuses a path that leads out of the grant.
        io::ErrorKind::PermissionDenied => denied(),
        _ => Error::Io(format!("cwd {cwd:?}: {e}")),
    })?;
    let host = std::fs::read_link(format!("/proc/self/fd/{}", dir.as_raw_fd()))
        .unwrap_or_else(|_| grant.host.join(rest));
    Ok(Cwd {
        host,
        dir: Some(Arc::new(dir)),
    })
}

/// Normalizes an absolute guest path lexically; `None` if it is relative or
/// climbs above `/` with `..`.
pub(crate) fn normalize_guest(path: &str) -> Option<String> {
    if !path.starts_with('/') {
        return None;
    }
    let mut parts: Vec<&str> = Vec::new();
    for c in Path::new(path).components() {
        match c {
            Component::RootDir | Component::CurDir => {}
            Component::ParentDir => {
                parts.pop()?;
            }
            Component::Normal(s) => parts.push(s.to_str()?),
            Component::Prefix(_) => return None,
        }
    }
    Some(format!("/{}", parts.join("/")))
}
