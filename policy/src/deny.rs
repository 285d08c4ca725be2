//! Deny entries (`programs.deny`, `--deny`): programs refused whatever
//! else allows them (an allow entry, a glob, a rule, the shell grant,
//! learn mode), as Deno's `--deny-run`.
//!
//! A deny errs wide where an allow errs narrow. An entry is
//!
//! - a bare name or name glob (`sh`, `python*`): matches the last
//!   component of the name the guest gave, of the path it was found at on
//!   the search path and of the canonical path it resolved to; a bare name
//!   is also resolved on the search path when the policy is built, and
//!   matches any spelling of that same file (by device and inode: a
//!   symlink or a hard link to it);
//! - an absolute path or path glob (`/bin/bash`, `/usr/bin/python*`; `*`
//!   may cross `/`): matches the path the guest gave (`..` removed
//!   lexically), the path found on the search path and the canonical path;
//!   a plain path also matches its file by device and inode;
//! - a directory ending in `/` (`/opt/untrusted/`): matches every program
//!   beneath it, by the same paths.

use crate::builder::At;
use crate::spelling::Spelling;
use crate::BuildError;
use globset::{Glob, GlobMatcher};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

/// One deny entry.
#[derive(Debug, Clone)]
struct Deny {
    /// As written, for the denial's message.
    written: String,
    kind: Kind,
    /// The device and inode of the file it resolved to, if any.
    identity: Option<(u64, u64)>,
}

#[derive(Debug, Clone)]
enum Kind {
    /// Matches file names.
    Name(GlobMatcher),
    /// Matches whole paths.
    Path(GlobMatcher),
    /// Matches paths beneath it (as written, and canonical).
    Dir(PathBuf, Option<PathBuf>),
}

/// The deny entries of a policy.
#[derive(Debug, Clone, Default)]
pub(crate) struct DenyList {
    entries: Vec<Deny>,
}

impl DenyList {
    /// Compiles the entries; bare names and plain paths are resolved (on
    /// `search_path`) to the file they name now.
    pub(crate) fn new(
        entries: Vec<At<String>>,
        search_path: &[PathBuf],
    ) -> Result<Self, BuildError> {
        let mut out = Vec::new();
        for entry in entries {
            let written = entry.value.clone();
            let glob = |p: &str| {
                Glob::new(p)
                    .map(|g| g.compile_matcher())
                    .map_err(|e| BuildError::new(entry.say(format!("deny {written:?}: {e}"))))
            };
            let pattern = crate::program_glob::is_pattern(&written);
            let kind = match Spelling::of(&written) {
                Spelling::Empty => return Err(BuildError::new(entry.say("deny entry is empty"))),
                Spelling::Relative => {
                    return Err(BuildError::new(entry.say(format!(
                        "deny {written:?}: give a bare name, an absolute path or a directory \
                         ending in `/`"
                    ))));
                }
                Spelling::Absolute => match written.strip_suffix('/') {
                    Some(dir) => {
                        let dir = PathBuf::from(if dir.is_empty() { "/" } else { dir });
                        let canonical = dir.canonicalize().ok();
                        Kind::Dir(dir, canonical)
                    }
                    None => Kind::Path(glob(&written)?),
                },
                Spelling::Name => Kind::Name(glob(&written)?),
            };
            let identity = if pattern {
                None
            } else {
                crate::programs::resolve(&written, search_path).and_then(|p| identity(&p))
            };
            out.push(Deny {
                written,
                kind,
                identity,
            });
        }
        Ok(DenyList { entries: out })
    }

    /// The deny entry (as written) that refuses the program the guest
    /// named `requested`, found at `found` on the search path (or the path
    /// as given) and resolved to the canonical `resolved`; none if no entry
    /// does.
    pub(crate) fn matching(
        &self,
        requested: &str,
        found: Option<&Path>,
        resolved: Option<&Path>,
    ) -> Option<&str> {
        if self.entries.is_empty() {
            return None;
        }
        let lexical = crate::cwd::normalize_guest(requested).map(PathBuf::from);
        let paths: Vec<&Path> = [lexical.as_deref(), found, resolved]
            .into_iter()
            .flatten()
            .collect();
        let names: Vec<&std::ffi::OsStr> = std::iter::once(Path::new(requested))
            .chain(paths.iter().copied())
            .filter_map(Path::file_name)
            .collect();
        let id = resolved.and_then(identity);
        self.entries
            .iter()
            .find(|d| {
                (id.is_some() && d.identity == id)
                    || match &d.kind {
                        Kind::Name(g) => names.iter().any(|n| g.is_match(n)),
                        Kind::Path(g) => paths.iter().any(|p| g.is_match(p)),
                        Kind::Dir(dir, canonical) => paths.iter().any(|p| {
                            p.starts_with(dir)
                                || canonical.as_ref().is_some_and(|c| p.starts_with(c))
                        }),
                    }
            })
            .map(|d| d.written.as_str())
    }
}

/// The device and inode of a file.
fn identity(path: &Path) -> Option<(u64, u64)> {
    std::fs::metadata(path).ok().map(|m| (m.dev(), m.ino()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list(entries: &[&str]) -> DenyList {
        let entries = entries
            .iter()
            .map(|e| At {
                value: e.to_string(),
                at: None,
            })
            .collect();
        DenyList::new(entries, &[PathBuf::from("/usr/bin"), PathBuf::from("/bin")]).unwrap()
    }

    #[test]
    fn names_globs_paths_and_directories_match() {
        let sh = crate::programs::resolve("sh", &[PathBuf::from("/bin")]).unwrap();
        let d = list(&["sh"]);
        assert_eq!(d.matching("sh", None, Some(&sh)), Some("sh"));
        assert_eq!(d.matching("/x/y/sh", None, None), Some("sh"));
        // The same file under another name: by device and inode.
        assert_eq!(d.matching("other", None, Some(&sh)), Some("sh"));
        let d = list(&["py*", "/opt/x/", "/srv/*/bin"]);
        assert_eq!(d.matching("python3", None, None), Some("py*"));
        assert_eq!(
            d.matching("/opt/x/../x/a/tool", None, None),
            Some("/opt/x/")
        );
        assert_eq!(d.matching("/srv/a/b/bin", None, None), Some("/srv/*/bin"));
        assert_eq!(d.matching("/opt/xy/tool", None, None), None);
        assert_eq!(d.matching("ls", None, None), None);
    }

    #[test]
    fn a_relative_or_empty_entry_is_refused() {
        let at = |v: &str| {
            vec![At {
                value: v.to_string(),
                at: None,
            }]
        };
        assert!(DenyList::new(at("bin/sh"), &[]).is_err());
        assert!(DenyList::new(at(""), &[]).is_err());
    }
}
