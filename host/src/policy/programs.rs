//! The program allowlist: names resolved on the policy's own search path
//! (never the guest's `PATH`), absolute paths, symlinks followed; argument
//! rules attached to the resolved file, so no spelling of a program
//! escapes its rules.

use super::args::ArgRules;
use crate::error::{Error, Result};
use std::path::{Path, PathBuf};

/// One program the policy allows, as written and as resolved.
#[derive(Debug, Clone)]
struct Allowed {
    /// The entry as written: a bare name or an absolute path.
    written: String,
    /// Where it resolved to (symlinks followed); none if it does not exist.
    resolved: Option<PathBuf>,
    /// Its argument rules; none means any arguments.
    rules: Option<ArgRules>,
}

/// The allowlist of a policy.
#[derive(Debug, Clone, Default)]
pub(crate) struct Programs {
    allowed: Vec<Allowed>,
    search_path: Vec<PathBuf>,
}

/// A program the allowlist accepted.
pub(crate) struct Accepted {
    /// The canonical path to execute.
    pub(crate) path: PathBuf,
    /// `argv[0]`.
    pub(crate) arg0: String,
    /// The entry that allowed it, as written.
    pub(crate) entry: String,
}

impl Programs {
    /// Resolves every entry on `search_path`.
    pub(crate) fn new(
        entries: Vec<(String, Option<ArgRules>)>,
        search_path: Vec<PathBuf>,
    ) -> Programs {
        let allowed = entries
            .into_iter()
            .map(|(written, rules)| Allowed {
                resolved: resolve(&written, &search_path),
                written,
                rules,
            })
            .collect();
        Programs {
            allowed,
            search_path,
        }
    }

    /// Finds the file to execute for a program the guest named, and checks
    /// its arguments against every rule attached to that file.
    pub(crate) fn accept(&self, program: &str, args: &[String]) -> Result<Accepted> {
        super::check_nul("program", program)?;
        if program.is_empty() {
            return Err(Error::InvalidArgument("empty program name".into()));
        }
        if program.contains('/') && !program.starts_with('/') {
            return Err(Error::Denied(format!(
                "program {program:?} not in allow list (relative paths are never allowed)"
            )));
        }
        let resolved = resolve(program, &self.search_path);
        let matching: Vec<&Allowed> = match &resolved {
            Some(path) => self
                .allowed
                .iter()
                .filter(|p| p.resolved.as_deref() == Some(path.as_path()))
                .collect(),
            None => Vec::new(),
        };
        let Some(first) = matching.first() else {
            // Allowed as written but missing on this host: say so.
            if self.allowed.iter().any(|p| p.written == program) {
                return Err(Error::NotFound(format!(
                    "program {program:?} is allowed but was not found"
                )));
            }
            return Err(Error::Denied(format!(
                "program {program:?} not in allow list"
            )));
        };
        for entry in &matching {
            if let Some(rules) = &entry.rules {
                rules.check(args).map_err(|rule| {
                    Error::Denied(format!("program {:?}: {rule}", entry.written))
                })?;
            }
        }
        // argv[0] is the guest's name only if it names the program as an
        // entry does: a multi-call binary (busybox) allowed as `ls` must
        // not run as `sh` because the guest asked for it by that name.
        let same_name = matching
            .iter()
            .any(|e| file_name(&e.written) == file_name(program));
        let arg0 = if same_name {
            program.to_string()
        } else {
            first.written.clone()
        };
        Ok(Accepted {
            path: resolved.expect("matched entries have a resolved path"),
            arg0,
            entry: first.written.clone(),
        })
    }
}

fn file_name(p: &str) -> &str {
    p.rsplit('/').next().unwrap_or(p)
}

/// Resolves a program name (on `search_path`) or absolute path to its
/// canonical path, if it exists and is a file.
pub(crate) fn resolve(program: &str, search_path: &[PathBuf]) -> Option<PathBuf> {
    let candidates: Vec<PathBuf> = if program.starts_with('/') {
        vec![PathBuf::from(program)]
    } else if program.contains('/') {
        vec![]
    } else {
        search_path.iter().map(|d| d.join(program)).collect()
    };
    candidates
        .into_iter()
        .filter_map(|c| c.canonicalize().ok())
        .find(|c| Path::is_file(c))
}
