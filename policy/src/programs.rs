//! The program allowlist: names resolved on the policy's own search path
//! (never the guest's `PATH`), absolute paths, symlinks followed; argument
//! rules attached to the resolved file, so no spelling of a program
//! escapes its rules. Entries may also name a directory or a glob of
//! programs ([`crate::program_glob`]); deny entries ([`crate::deny`])
//! refuse what any of them allows.
//!
//! A little over ~400 lines: resolving and matching an allowed program is
//! one job (names, paths, globs, the deny check, argument rules), about 60
//! of them rustdoc.

use crate::args::ArgRules;
use crate::builder::At;
use crate::deny::DenyList;
use crate::program_glob::{self, ProgramGlob};
use crate::rule_limits::{self, RuleLimits};
use crate::spelling::Spelling;
use crate::{BuildError, Error, Result};
use std::os::unix::fs::MetadataExt;
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
    /// A directory or glob entry: the programs it matches.
    glob: Option<ProgramGlob>,
    /// The warning when it resolved to nothing.
    missing: Option<String>,
}

/// The allowlist of a policy.
#[derive(Debug, Clone, Default)]
pub(crate) struct Programs {
    allowed: Vec<Allowed>,
    search_path: Vec<PathBuf>,
    /// Refused whatever allows them.
    deny: DenyList,
    /// Where children may write: a program a glob matches is checked
    /// against it when asked for.
    writable: Vec<PathBuf>,
    /// Per-program limits, cwd and variables ([`crate::rule_limits`]).
    limits: Vec<rule_limits::Attached>,
}

/// A program the allowlist accepted.
pub(crate) struct Accepted {
    /// The canonical path to execute.
    pub(crate) path: PathBuf,
    /// `argv[0]`.
    pub(crate) arg0: String,
    /// The entry that allowed it, as written.
    pub(crate) entry: String,
    /// What the rules for this file set for its children, if any.
    pub(crate) limits: Option<RuleLimits>,
}

impl Programs {
    /// Resolves every entry on `search_path`. Refuses an entry that can
    /// never be allowed (empty, or a relative path) and one that resolves
    /// to a file the guest's children or other users could replace (see
    /// [`check_trusted`]); `writable` are the directories children may
    /// write.
    pub(crate) fn new(
        entries: Vec<At<(String, Option<ArgRules>)>>,
        deny: DenyList,
        search_path: Vec<PathBuf>,
        writable: &[PathBuf],
    ) -> Result<Programs, BuildError> {
        let mut allowed = Vec::new();
        for entry in entries {
            let written = &entry.value.0;
            if program_glob::is_pattern(written) {
                allowed.push(Self::glob_entry(entry, writable)?);
                continue;
            }
            if !Spelling::of(written).names_a_program() {
                return Err(BuildError::new(entry.say(format!(
                    "program {written:?} can never be allowed: give a bare name (looked up on \
                     the search path) or an absolute path"
                ))));
            }
            let resolved = resolve(written, &search_path);
            if let Some(path) = &resolved {
                check_trusted(path, writable)
                    .map_err(|e| BuildError::new(entry.say(format!("program {written:?}: {e}"))))?;
            }
            let missing = resolved.is_none().then(|| {
                entry.say(format!(
                    "program {written:?} not found (search path {search_path:?}); the guest \
                     will get not-found"
                ))
            });
            let (written, rules) = entry.value;
            allowed.push(Allowed {
                missing,
                resolved,
                written,
                rules,
                glob: None,
            });
        }
        Ok(Programs {
            allowed,
            search_path,
            deny,
            writable: writable.to_vec(),
            limits: Vec::new(),
        })
    }

    /// Attaches per-program limits to the files their programs resolve to
    /// (or to a glob); a program that does not resolve gets nothing.
    pub(crate) fn with_limits(mut self, limits: Vec<At<rule_limits::Written>>) -> Self {
        for entry in limits {
            let (written, limits) = entry.value;
            let glob = program_glob::is_pattern(&written)
                .then(|| ProgramGlob::parse(&written).ok())
                .flatten();
            let resolved = resolve(&written, &self.search_path);
            self.limits.push(rule_limits::Attached {
                resolved,
                glob,
                limits,
            });
        }
        self
    }

    /// The guest paths rules give as programs' working directories.
    pub(crate) fn rule_cwds(&self) -> impl Iterator<Item = &str> {
        self.limits.iter().filter_map(|a| a.limits.cwd.as_deref())
    }

    /// The combined limits of the rules for the file at `path`.
    fn limits_for(&self, path: &Path) -> Option<RuleLimits> {
        self.limits
            .iter()
            .filter(|a| {
                a.resolved.as_deref() == Some(path)
                    || a.glob.as_ref().is_some_and(|g| g.matches(path))
            })
            .fold(None, |acc: Option<RuleLimits>, a| match acc {
                None => Some(a.limits.clone()),
                Some(acc) => Some(acc.and(&a.limits)),
            })
    }

    /// A directory or glob entry: its directory must be trusted as a
    /// program's is ([`check_trusted`]); a missing one is a warning.
    fn glob_entry(
        entry: At<(String, Option<ArgRules>)>,
        writable: &[PathBuf],
    ) -> Result<Allowed, BuildError> {
        let written = &entry.value.0;
        let glob = ProgramGlob::parse(written).map_err(|e| BuildError::new(entry.say(e)))?;
        if let Some(dir) = &glob.dir {
            check_trusted(dir, writable)
                .map_err(|e| BuildError::new(entry.say(format!("program {written:?}: {e}"))))?;
        }
        let missing = glob.dir.is_none().then(|| {
            entry.say(format!(
                "program {written:?}: its directory does not exist; it matches nothing"
            ))
        });
        let (written, rules) = entry.value;
        Ok(Allowed {
            written,
            resolved: None,
            rules,
            glob: Some(glob),
            missing,
        })
    }

    /// The deny entry that refuses `program` (as the guest named it,
    /// resolved to `resolved`), if any: deny overrides every allow.
    pub(crate) fn denied(&self, program: &str, resolved: Option<&Path>) -> Result<()> {
        let found = found_at(program, &self.search_path);
        match self.deny.matching(program, found.as_deref(), resolved) {
            Some(entry) => Err(Error::Denied(format!(
                "program {program:?} is denied by programs.deny {entry:?}"
            ))),
            None => Ok(()),
        }
    }

    /// Where bare names are looked up.
    pub(crate) fn search_path(&self) -> &[PathBuf] {
        &self.search_path
    }

    /// The entries that resolved to nothing on this host.
    pub(crate) fn warnings(&self) -> impl Iterator<Item = String> + '_ {
        self.allowed.iter().filter_map(|a| a.missing.clone())
    }

    /// Finds the file to execute for a program the guest named, and checks
    /// its arguments against every rule attached to that file.
    pub(crate) fn accept(&self, program: &str, args: &[String]) -> Result<Accepted> {
        self.accept_as(program, args, None)
    }

    /// Learn mode: also accepts a program no entry lists, if it resolves on
    /// the search path to a file that passes [`check_trusted`] (`writable`:
    /// where children may write), and arguments no form lists; only the
    /// forbidden flags of entries for the same file still refuse.
    pub(crate) fn accept_learning(
        &self,
        program: &str,
        args: &[String],
        writable: &[PathBuf],
    ) -> Result<Accepted> {
        self.accept_as(program, args, Some(writable))
    }

    /// [`Programs::accept`], or in learn mode ([`Programs::accept_learning`])
    /// with `writable`.
    fn accept_as(
        &self,
        program: &str,
        args: &[String],
        learning: Option<&[PathBuf]>,
    ) -> Result<Accepted> {
        crate::decide::check_nul("program", program)?;
        if program.is_empty() {
            return Err(Error::InvalidArgument("empty program name".into()));
        }
        let resolved = resolve(program, &self.search_path);
        self.denied(program, resolved.as_deref())?;
        if Spelling::of(program) == Spelling::Relative {
            return Err(Error::Denied(format!(
                "program {program:?} not in allow list (relative paths are never allowed)"
            )));
        }
        let matching: Vec<&Allowed> = match &resolved {
            Some(path) => self
                .allowed
                .iter()
                .filter(|p| {
                    p.resolved.as_deref() == Some(path.as_path())
                        || p.glob.as_ref().is_some_and(|g| g.matches(path))
                })
                .collect(),
            None => Vec::new(),
        };
        // A file a glob matched was not checked when the policy was built.
        if let (Some(path), true) = (&resolved, matching.iter().any(|e| e.glob.is_some())) {
            check_trusted(path, &self.writable)
                .map_err(|e| Error::Denied(format!("program {program:?}: {e}")))?;
        }
        if let (Some(writable), Some(path), true) = (learning, &resolved, matching.is_empty()) {
            check_trusted(path, writable)
                .map_err(|e| Error::Denied(format!("program {program:?}: {e}")))?;
            return Ok(Accepted {
                limits: self.limits_for(path),
                path: path.clone(),
                arg0: program.to_string(),
                entry: format!("{program} (learn mode)"),
            });
        }
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
                let flags_only;
                let rules = match learning {
                    Some(_) => {
                        flags_only = ArgRules {
                            forms: Vec::new(),
                            forbid_flags: rules.forbid_flags.clone(),
                        };
                        &flags_only
                    }
                    None => rules,
                };
                rules.check(args).map_err(|rule| {
                    Error::Denied(format!("program {:?}: {rule}", entry.written))
                })?;
            }
        }
        // argv[0] is the guest's name only if it names the program as an
        // entry does: a multi-call binary (busybox) allowed as `ls` must
        // not run as `sh` because the guest asked for it by that name.
        // A glob entry allows each file under its own name.
        let path = resolved.expect("matched entries have a resolved path");
        let own_name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default();
        let same_name = matching.iter().any(|e| match e.glob {
            Some(_) => own_name == file_name(program),
            None => file_name(&e.written) == file_name(program),
        });
        let arg0 = if same_name {
            program.to_string()
        } else if first.glob.is_some() {
            path.display().to_string()
        } else {
            first.written.clone()
        };
        Ok(Accepted {
            limits: self.limits_for(&path),
            path,
            arg0,
            entry: first.written.clone(),
        })
    }
}

fn file_name(p: &str) -> &str {
    p.rsplit('/').next().unwrap_or(p)
}

/// Where a program name was found on `search_path` (the first entry that
/// exists, symlinks not followed), or the absolute path as given.
fn found_at(program: &str, search_path: &[PathBuf]) -> Option<PathBuf> {
    match Spelling::of(program) {
        Spelling::Absolute => Some(PathBuf::from(program)),
        Spelling::Name => search_path
            .iter()
            .map(|d| d.join(program))
            .find(|c| c.symlink_metadata().is_ok()),
        Spelling::Empty | Spelling::Relative => None,
    }
}

/// Resolves a program name (on `search_path`) or absolute path to its
/// canonical path, if it exists and is a file.
pub(crate) fn resolve(program: &str, search_path: &[PathBuf]) -> Option<PathBuf> {
    let candidates: Vec<PathBuf> = match Spelling::of(program) {
        Spelling::Absolute => vec![PathBuf::from(program)],
        Spelling::Name => search_path.iter().map(|d| d.join(program)).collect(),
        Spelling::Empty | Spelling::Relative => vec![],
    };
    candidates
        .into_iter()
        .filter_map(|c| c.canonicalize().ok())
        .find(|c| Path::is_file(c))
}

/// Checks the granted shell: an absolute path (a relative one would be
/// looked up from the child's working directory), not replaceable (see
/// [`check_trusted`]). Returns a warning if it does not exist.
pub(crate) fn check_shell(
    shell: &At<PathBuf>,
    writable: &[PathBuf],
) -> Result<Option<String>, BuildError> {
    let path = &shell.value;
    if !path.is_absolute() {
        return Err(BuildError::new(
            shell.say(format!("shell {} must be an absolute path", path.display())),
        ));
    }
    let Ok(canonical) = path.canonicalize() else {
        return Ok(Some(shell.say(format!(
            "shell {} not found; create-subprocess-shell will fail",
            path.display()
        ))));
    };
    check_trusted(&canonical, writable)
        .map_err(|e| BuildError::new(shell.say(format!("shell {}: {e}", path.display()))))?;
    Ok(None)
}

/// Whether `path` (canonical: a program, or a search-path directory) is
/// safe to trust: not inside a directory the guest's children may write
/// (`writable`), and neither it nor a directory above it writable by
/// anyone but root and the host user (owned by another user, or group- or
/// world-writable; an ancestor with the sticky bit, like `/tmp`, only lets
/// others add entries, not replace ours). Otherwise a guest, or another
/// user, could plant a program there that the policy would then run.
pub(crate) fn check_trusted(path: &Path, writable: &[PathBuf]) -> Result<(), String> {
    if let Some(grant) = writable.iter().find(|w| path.starts_with(w)) {
        return Err(format!(
            "{} is inside {}, which the guest's children may write: a planted program \
             there would run",
            path.display(),
            grant.display()
        ));
    }
    // SAFETY: plain system calls without arguments.
    let (me, my_group) = unsafe { (libc::geteuid(), libc::getegid()) };
    for (depth, p) in path.ancestors().enumerate() {
        let Ok(meta) = std::fs::metadata(p) else {
            continue;
        };
        let mode = meta.mode();
        let sticky = depth > 0 && mode & libc::S_ISVTX != 0;
        let trusted_group = meta.gid() == 0 || (meta.gid() == my_group && me != 0);
        let why = if meta.uid() != 0 && meta.uid() != me {
            Some(format!("owned by uid {}", meta.uid()))
        } else if mode & 0o002 != 0 && !sticky {
            Some("writable by everyone".to_string())
        } else if mode & 0o020 != 0 && !trusted_group && !sticky {
            Some(format!("writable by group {}", meta.gid()))
        } else {
            None
        };
        if let Some(why) = why {
            return Err(format!(
                "{} is {why}: someone other than root and the host user could replace what runs",
                p.display()
            ));
        }
    }
    Ok(())
}
