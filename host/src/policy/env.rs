//! The children's environment: empty, plus what the policy passes from the
//! host or sets, plus guest variables whose names the policy allows.
//! Loader and injection variables from the guest are always refused.

use crate::error::{Error, Result};
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
];

/// Prefixes of refused variable names.
const REFUSED_PREFIXES: &[&str] = &[
    "LD_",
    "DYLD_",
    "BASH_FUNC_",
    "GIT_CONFIG_KEY_",
    "GIT_CONFIG_VALUE_",
];

/// Whether the guest may never set `name`, whatever the policy says (the
/// loader, shell, interpreter and tool variables that inject code).
/// `PATH` is among them unless the policy names it exactly in
/// `guest_may_set`.
///
/// ```
/// use procgate::policy::is_refused_env;
/// assert!(is_refused_env("LD_PRELOAD"));
/// assert!(is_refused_env("PYTHONPATH"));
/// assert!(!is_refused_env("TERM"));
/// ```
pub fn is_refused_env(name: &str) -> bool {
    REFUSED.contains(&name) || REFUSED_PREFIXES.iter().any(|p| name.starts_with(p))
}

/// The environment rules of a policy, ready to apply.
#[derive(Debug, Clone, Default)]
pub(crate) struct EnvRules {
    /// Set in every child: the host's values of `pass`, then `set`.
    base: Vec<(String, String)>,
    /// Name patterns of variables the guest may set.
    guest: GlobSet,
    /// The patterns as written, for messages.
    guest_patterns: Vec<String>,
    /// `PATH` is named exactly in the guest patterns.
    path_granted: bool,
}

impl EnvRules {
    /// Builds the rules; `pass` names are looked up in the host's
    /// environment now (a missing one is skipped).
    pub(crate) fn new(
        set: &[(String, String)],
        pass: &[String],
        guest_patterns: &[String],
    ) -> anyhow::Result<EnvRules> {
        let mut base: Vec<(String, String)> = Vec::new();
        let mut put = |k: &str, v: String| {
            base.retain(|(key, _)| key != k);
            base.push((k.to_string(), v));
        };
        for name in pass {
            if let Ok(value) = std::env::var(name) {
                put(name, value);
            }
        }
        for (k, v) in set {
            anyhow::ensure!(
                !k.is_empty() && !k.contains('=') && !k.contains('\0') && !v.contains('\0'),
                "env.set: invalid variable {k:?}"
            );
            put(k, v.clone());
        }
        let mut globs = GlobSetBuilder::new();
        for p in guest_patterns {
            globs.add(Glob::new(p).map_err(|e| anyhow::anyhow!("env.guest_may_set {p:?}: {e}"))?);
        }
        Ok(EnvRules {
            base,
            guest: globs.build()?,
            guest_patterns: guest_patterns.to_vec(),
            path_granted: guest_patterns.iter().any(|p| p == "PATH"),
        })
    }

    /// The child's whole environment: the base plus the guest's
    /// variables, each checked.
    pub(crate) fn build(&self, guest_env: &[(String, String)]) -> Result<Vec<(String, String)>> {
        let mut env = self.base.clone();
        for (key, value) in guest_env {
            super::check_nul("environment variable", key)?;
            super::check_nul("environment variable", value)?;
            if key.is_empty() || key.contains('=') {
                return Err(Error::InvalidArgument(format!(
                    "invalid environment variable name {key:?}"
                )));
            }
            let path_ok = key == "PATH" && self.path_granted;
            if is_refused_env(key) && !path_ok {
                return Err(Error::Denied(format!("env {key} refused")));
            }
            if !path_ok && !self.guest.is_match(key) {
                return Err(Error::Denied(format!(
                    "env {key} not in guest-settable variables {:?}",
                    self.guest_patterns
                )));
            }
            env.retain(|(k, _)| k != key);
            env.push((key.clone(), value.clone()));
        }
        Ok(env)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(v: &[(&str, &str)]) -> Vec<(String, String)> {
        v.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn patterns_pass_and_refusals() {
        std::env::set_var("PROCGATE_ENV_TEST", "from-host");
        let rules = EnvRules::new(
            &vars(&[("LANG", "C")]),
            &["PROCGATE_ENV_TEST".into(), "PROCGATE_ENV_MISSING".into()],
            &["GIT_AUTHOR_*".into(), "LD_*".into(), "*".into()],
        )
        .unwrap();
        let env = rules.build(&vars(&[("GIT_AUTHOR_NAME", "x")])).unwrap();
        assert_eq!(
            env,
            vars(&[
                ("PROCGATE_ENV_TEST", "from-host"),
                ("LANG", "C"),
                ("GIT_AUTHOR_NAME", "x")
            ])
        );
        for bad in ["LD_PRELOAD", "PATH", "BASH_FUNC_ls%%", "GIT_CONFIG_KEY_0"] {
            let err = rules.build(&vars(&[(bad, "x")])).unwrap_err();
            assert_eq!(err.to_string(), format!("denied: env {bad} refused"));
        }
    }

    #[test]
    fn path_only_when_named_exactly() {
        let rules = EnvRules::new(&[], &[], &["PATH".into()]).unwrap();
        assert!(rules.build(&vars(&[("PATH", "/x")])).is_ok());
        assert!(rules.build(&vars(&[("LD_PRELOAD", "/x")])).is_err());
    }
}
