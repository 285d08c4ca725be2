//! The children's environment: empty, plus what the policy passes from the
//! host or sets, plus guest variables whose names the policy allows.
//! Loader and injection variables from the guest are always refused.

use crate::builder::At;
use crate::{BuildError, Error, Result};
use globset::{Glob, GlobSet, GlobSetBuilder};

/// Variables refused exactly by name: they make a child load or run code
/// of the caller's choosing, or change how it finds programs.
const REFUSED: &[&str] = &[
    "PATH",
    // shells
    "BASH_ENV",
    "ENV",
    "IFS",
    "CDPATH",
    "GLOBIGNORE",
    "SHELLOPTS",
    "BASHOPTS",
    "PS4",
    "PROMPT_COMMAND",
    "ZDOTDIR",
    "INPUTRC",
    // interpreters
    "PYTHONSTARTUP",
    "PYTHONPATH",
    "PYTHONHOME",
    "PYTHONWARNINGS",
    "PYTHONBREAKPOINT",
    "PYTHONUSERBASE",
    "PYTHONPLATLIBDIR",
    "PYTHONEXECUTABLE",
    "PYTHONINSPECT",
    "PERL5LIB",
    "PERL5OPT",
    "PERLLIB",
    "PERL5DB",
    "RUBYOPT",
    "RUBYLIB",
    "NODE_OPTIONS",
    "NODE_PATH",
    "LUA_INIT",
    "LUA_PATH",
    "LUA_CPATH",
    "JAVA_TOOL_OPTIONS",
    "_JAVA_OPTIONS",
    "JDK_JAVA_OPTIONS",
    "CLASSPATH",
    // the C library and friends
    "GCONV_PATH",
    "LOCPATH",
    "NLSPATH",
    "GLIBC_TUNABLES",
    "HOSTALIASES",
    "OPENSSL_CONF",
    "OPENSSL_ENGINES",
    "OPENSSL_MODULES",
    // programs that run other programs
    "GIT_EXEC_PATH",
    "GIT_CONFIG_PARAMETERS",
    "GIT_CONFIG_COUNT",
    "GIT_CONFIG_GLOBAL",
    "GIT_CONFIG_SYSTEM",
    "GIT_SSH",
    "GIT_SSH_COMMAND",
    "GIT_ASKPASS",
    "GIT_EDITOR",
    "GIT_SEQUENCE_EDITOR",
    "GIT_PAGER",
    "GIT_EXTERNAL_DIFF",
    "GIT_PROXY_COMMAND",
    "GIT_TEMPLATE_DIR",
    "SSH_ASKPASS",
    "EDITOR",
    "VISUAL",
    "PAGER",
    "MANPAGER",
    "LESSOPEN",
    "LESSCLOSE",
    "BROWSER",
    // where programs find their configuration, repository or helpers:
    // a guest-written file there is code or options
    "HOME",
    "SHELL",
    "GIT_DIR",
    "GIT_WORK_TREE",
    "GIT_COMMON_DIR",
    "GIT_INDEX_FILE",
    "GIT_OBJECT_DIRECTORY",
    "GIT_ALTERNATE_OBJECT_DIRECTORIES",
    "GIT_CEILING_DIRECTORIES",
    "GIT_NAMESPACE",
    "GIT_ATTR_SOURCE",
    "MAKEFLAGS",
    "MFLAGS",
    "GNUMAKEFLAGS",
    "RSYNC_RSH",
    "RSYNC_CONNECT_PROG",
    "CVS_RSH",
    "SYSTEMD_PAGER",
    "SYSTEMD_PAGERSECURE",
    "SYSTEMD_EDITOR",
    "SYSTEMD_LESS",
    "COMPILER_PATH",
    "GCC_EXEC_PREFIX",
    "CC",
    "CXX",
    "CPP",
    "AR",
    "RUSTC",
    "RUSTC_WRAPPER",
    "RUSTC_WORKSPACE_WRAPPER",
    "RUSTDOC",
    "PHPRC",
    "PHP_INI_SCAN_DIR",
    "TERMINFO",
    "TERMINFO_DIRS",
    "WGETRC",
    "CURL_HOME",
    "NETRC",
    "SSL_CERT_FILE",
    "SSL_CERT_DIR",
    "TMPDIR",
    // proxies: where a program's traffic goes
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "FTP_PROXY",
    "ALL_PROXY",
    "NO_PROXY",
];

/// Prefixes of refused variable names.
const REFUSED_PREFIXES: &[&str] = &[
    "LD_",
    "DYLD_",
    "BASH_FUNC_",
    "GIT_CONFIG_KEY_",
    "GIT_CONFIG_VALUE_",
    "GIT_TRACE",
    "XDG_",
    "NPM_CONFIG_",
    "YARN_",
    "PIP_",
    "CARGO_",
];

/// Suffixes of refused variable names: options and flags read from the
/// environment (`TAR_OPTIONS`, `GZIP_OPTS`, `MAVEN_OPTS`, `GREP_OPTIONS`).
const REFUSED_SUFFIXES: &[&str] = &["_OPTIONS", "_OPTS", "OPT", "FLAGS"];

/// Name prefixes that are a whole tool's namespace: a guest pattern
/// covering one (`GIT_*`, `G*`, `*`) is refused unless the policy says
/// `unsafe_env_globs`.
const TOOL_NAMESPACES: &[&str] = &[
    "GIT_", "TAR_", "PYTHON", "PERL", "RUBY", "NODE_", "NPM_", "JAVA", "JDK_", "GO", "CARGO_",
    "RUSTC", "RUSTUP_", "GCC_", "LD_", "DYLD_", "MAKE", "SSH_", "GPG", "GNUPG", "LESS", "SYSTEMD_",
    "XDG_", "BASH", "ZSH", "DOCKER_", "KUBE", "AWS_", "PIP_", "CURL_", "WGET", "RSYNC_", "HG",
    "SVN_", "PHP", "LUA_", "TERM", "GZIP", "BZIP", "XZ_", "ZSTD_", "GREP_", "SED_", "FIND",
    "SORT_", "CC", "CXX", "CPP", "OPENSSL_", "SSL_", "LC_", "LANG",
];

/// Whether the guest may never set `name`, whatever the policy says (the
/// loader, shell, interpreter and tool variables that inject code).
/// `PATH` is among them unless the policy names it exactly in
/// `guest_may_set`.
///
/// Names are compared without regard to case (`http_proxy` is
/// `HTTP_PROXY`).
///
/// ```
/// use procgate_policy::is_refused_env;
/// assert!(is_refused_env("LD_PRELOAD"));
/// assert!(is_refused_env("PYTHONPATH"));
/// assert!(is_refused_env("TAR_OPTIONS"));
/// assert!(is_refused_env("GIT_DIR"));
/// assert!(is_refused_env("https_proxy"));
/// assert!(!is_refused_env("TERM"));
/// ```
pub fn is_refused_env(name: &str) -> bool {
    let name = name.to_ascii_uppercase();
    REFUSED.contains(&name.as_str())
        || REFUSED_PREFIXES.iter().any(|p| name.starts_with(p))
        || REFUSED_SUFFIXES.iter().any(|p| name.ends_with(p))
}

/// The literal start of a glob pattern: up to its first special character.
fn literal_prefix(pattern: &str) -> &str {
    let end = pattern
        .find(['*', '?', '[', '{', '\\'])
        .unwrap_or(pattern.len());
    &pattern[..end]
}

/// Why a guest-variable pattern is refused when the policy is built, if
/// it is: it can only match refused variables (so it is dead), or it is
/// broad (covers everything or a tool's whole namespace) and `unsafe_globs`
/// is off.
fn refuse_pattern(pattern: &str, unsafe_globs: bool) -> Option<String> {
    let prefix = literal_prefix(pattern);
    let exact = prefix.len() == pattern.len();
    if exact && pattern == "PATH" {
        return None;
    }
    let upper = prefix.to_ascii_uppercase();
    let dead = if exact {
        is_refused_env(pattern)
    } else {
        REFUSED_PREFIXES.iter().any(|p| upper.starts_with(p))
    };
    if dead {
        return Some(format!(
            "env.guest_may_set {pattern:?} only matches variables that are always refused (see \
             procgate_policy::is_refused_env): it can never be granted"
        ));
    }
    if exact || unsafe_globs {
        return None;
    }
    if let Some(ns) = TOOL_NAMESPACES
        .iter()
        .find(|ns| ns.starts_with(upper.as_str()))
    {
        let what = if prefix.is_empty() {
            "every variable".to_string()
        } else {
            format!("the whole {ns}* namespace")
        };
        return Some(format!(
            "env.guest_may_set {pattern:?} covers {what}: a program's options and configuration \
             come from its environment too (TAR_OPTIONS, GIT_DIR), so list exact names or narrow \
             globs (GIT_AUTHOR_*), or set env.unsafe_env_globs = true (--unsafe-env-globs)"
        ));
    }
    None
}

/// The environment rules of a policy, ready to apply.
#[derive(Debug, Clone, Default)]
pub(crate) struct EnvRules {
    /// The host's values of `pass` (a missing one skipped).
    passed: Vec<(String, String)>,
    /// Set in every child, over `passed`.
    set: Vec<(String, String)>,
    /// Name patterns of variables the guest may set.
    guest: GlobSet,
    /// The patterns as written, for messages.
    guest_patterns: Vec<String>,
    /// `PATH` is named exactly in the guest patterns.
    path_granted: bool,
}

/// Sets `k` in `env`, replacing what it had.
fn put(env: &mut Vec<(String, String)>, k: &str, v: &str) {
    env.retain(|(key, _)| key != k);
    env.push((k.to_string(), v.to_string()));
}

impl EnvRules {
    /// Builds the rules; `pass` names are looked up in the host's
    /// environment now (a missing one is skipped).
    pub(crate) fn new(
        set: &[(String, String)],
        pass: &[String],
        guest_patterns: &[At<String>],
        unsafe_globs: bool,
    ) -> Result<EnvRules, BuildError> {
        let mut passed = Vec::new();
        for name in pass {
            if let Ok(value) = std::env::var(name) {
                put(&mut passed, name, &value);
            }
        }
        for (k, v) in set {
            if k.is_empty() || k.contains('=') || k.contains('\0') || v.contains('\0') {
                return Err(BuildError::new(format!("env.set: invalid variable {k:?}")));
            }
        }
        let mut globs = GlobSetBuilder::new();
        for entry in guest_patterns {
            let p = &entry.value;
            let glob = Glob::new(p)
                .map_err(|e| BuildError::new(entry.say(format!("env.guest_may_set {p:?}: {e}"))))?;
            if let Some(why) = refuse_pattern(p, unsafe_globs) {
                return Err(BuildError::new(entry.say(why)));
            }
            globs.add(glob);
        }
        let guest_patterns: Vec<String> = guest_patterns.iter().map(|p| p.value.clone()).collect();
        Ok(EnvRules {
            passed,
            set: set.to_vec(),
            guest: globs.build().map_err(|e| BuildError::new(e.to_string()))?,
            path_granted: guest_patterns.iter().any(|p| p == "PATH"),
            guest_patterns,
        })
    }

    /// The child's whole environment: the host variables passed (only
    /// those named in `pass`, a rule's `pass_env`, if given), those set,
    /// then the guest's variables, each checked (in learn mode, only
    /// against the fixed refusals).
    pub(crate) fn build(
        &self,
        guest_env: &[(String, String)],
        learning: bool,
        pass: Option<&[String]>,
    ) -> Result<Vec<(String, String)>> {
        let mut env: Vec<(String, String)> = match pass {
            None => self.passed.clone(),
            Some(names) => (self.passed.iter())
                .filter(|(k, _)| names.contains(k))
                .cloned()
                .collect(),
        };
        for (k, v) in &self.set {
            put(&mut env, k, v);
        }
        for (key, value) in guest_env {
            crate::decide::check_nul("environment variable", key)?;
            crate::decide::check_nul("environment variable", value)?;
            if key.is_empty() || key.contains('=') {
                return Err(Error::InvalidArgument(format!(
                    "invalid environment variable name {key:?}"
                )));
            }
            let path_ok = key == "PATH" && self.path_granted;
            if is_refused_env(key) && !path_ok {
                return Err(Error::Denied(format!("env {key} refused")));
            }
            if !path_ok && !learning && !self.guest.is_match(key) {
                return Err(Error::Denied(format!(
                    "env {key} not in guest-settable variables {:?}",
                    self.guest_patterns
                )));
            }
            put(&mut env, key, value);
        }
        Ok(env)
    }
}

impl EnvRules {
    /// Whether the guest may set `name` (learn mode asks this of an
    /// existing policy).
    pub(crate) fn guest_may_set(&self, name: &str) -> bool {
        let path_ok = name == "PATH" && self.path_granted;
        path_ok || (!is_refused_env(name) && self.guest.is_match(name))
    }
}

#[cfg(test)]
#[path = "env_tests.rs"]
mod tests;
