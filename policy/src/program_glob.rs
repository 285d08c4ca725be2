//! Allow entries that name many programs: a directory (`/opt/tools/bin/`)
//! or a glob in the last component (`/opt/tools/bin/*`,
//! `/opt/tools/bin/tool-*`), matched against the *canonical* path a
//! request resolved to, so `..` segments and symlinks that lead out of the
//! directory never match.
//!
//! Only the last component may hold glob characters: the one directory
//! is canonicalized and checked to be trusted
//! ([`crate::programs::check_trusted`]) when the policy is built, and each
//! file it allows is checked again when a request matches it.

use globset::{GlobBuilder, GlobMatcher};
use std::path::{Path, PathBuf};

/// The characters that make an entry a glob.
const GLOB_CHARS: &[char] = &['*', '?', '[', '{'];

/// Whether a program entry names many programs: it ends with `/` or holds
/// a glob character.
pub(crate) fn is_pattern(written: &str) -> bool {
    written.ends_with('/') || written.contains(GLOB_CHARS)
}

/// A directory or glob allow entry, resolved.
#[derive(Debug, Clone)]
pub(crate) struct ProgramGlob {
    /// The directory, canonical; none if it does not exist.
    pub(crate) dir: Option<PathBuf>,
    /// The pattern for file names in it (`*` for a directory entry).
    name: GlobMatcher,
}

impl ProgramGlob {
    /// Parses `written` (absolute; a glob only in its last component, or
    /// a directory ending in `/`).
    pub(crate) fn parse(written: &str) -> Result<ProgramGlob, String> {
        if !written.starts_with('/') {
            return Err(format!(
                "program pattern {written:?} must be an absolute path (a directory ending in \
                 `/`, or a glob in the last component such as `/opt/tools/bin/*`)"
            ));
        }
        let (dir, name) = match written.strip_suffix('/') {
            Some(dir) => (dir, "*"),
            None => written.rsplit_once('/').unwrap_or(("", written)),
        };
        if dir.contains(GLOB_CHARS) {
            return Err(format!(
                "program pattern {written:?}: only the last component may be a glob (the \
                 directory it names is checked once, when the policy is built)"
            ));
        }
        if name == "." || name == ".." || name.is_empty() {
            return Err(format!("program pattern {written:?} names no file"));
        }
        let name = GlobBuilder::new(name)
            .literal_separator(true)
            .build()
            .map_err(|e| format!("program pattern {written:?}: {e}"))?
            .compile_matcher();
        let dir = if dir.is_empty() { "/" } else { dir };
        Ok(ProgramGlob {
            dir: Path::new(dir).canonicalize().ok(),
            name,
        })
    }

    /// Whether the canonical program path `resolved` lies directly in the
    /// directory and its name matches.
    pub(crate) fn matches(&self, resolved: &Path) -> bool {
        let (Some(dir), Some(parent), Some(name)) =
            (&self.dir, resolved.parent(), resolved.file_name())
        else {
            return false;
        };
        parent == dir && name != "." && name != ".." && self.name.is_match(Path::new(name))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_glob_matches_files_directly_in_its_directory_only() {
        let g = ProgramGlob::parse("/usr/bin/*").unwrap();
        let dir = Path::new("/usr/bin").canonicalize().unwrap();
        assert!(g.matches(&dir.join("ls")));
        assert!(!g.matches(&dir.join("sub/ls")));
        assert!(!g.matches(Path::new("/etc/passwd")));
        let g = ProgramGlob::parse("/usr/bin/").unwrap();
        assert!(g.matches(&dir.join("ls")));
        let g = ProgramGlob::parse("/usr/bin/py*").unwrap();
        assert!(!g.matches(&dir.join("ls")));
    }

    #[test]
    fn only_absolute_paths_with_a_glob_in_the_last_component_parse() {
        assert!(ProgramGlob::parse("tools/*").is_err());
        assert!(ProgramGlob::parse("*").is_err());
        assert!(ProgramGlob::parse("/opt/*/bin/tool").is_err());
        assert!(ProgramGlob::parse("/usr/bin/..").is_err());
        assert!(ProgramGlob::parse("/usr/bin/[").is_err());
        assert!(is_pattern("/opt/tools/bin/"));
        assert!(is_pattern("/opt/tools/bin/t?"));
        assert!(!is_pattern("/usr/bin/ls"));
    }
}
