//! The policy flags of `procgate run`, merged over a policy file, and the
//! audit log they ask for (readable lines on stderr, JSON lines in a file).

use crate::args::heading;
use crate::audit_json::JsonLines;
use crate::units;
use anyhow::{Context, Result};
use procgate::cache::LOG_TARGET as CACHE_TARGET;
use procgate::policy::{PolicyBuilder, PolicyFile, AUDIT_TARGET};
use procgate::sandbox::LandlockMode;
use std::path::{Path, PathBuf};
use std::time::Duration;
use tracing_subscriber::filter::{EnvFilter, LevelFilter, Targets};
use tracing_subscriber::prelude::*;

/// The ids of the flags below that make the policy (all but `-v` and
/// `--audit-json`): `--learn` conflicts with each, since learn mode
/// builds its own policy and would ignore them.
pub const POLICY_FLAG_IDS: &[&str] = &[
    "policy",
    "profile",
    "allow",
    "deny",
    "ask",
    "allow_shell",
    "shell",
    "env",
    "pass_env",
    "allow_env",
    "unsafe_env_globs",
    "max_live",
    "max_held",
    "max_spawns",
    "timeout",
    "communicate_bytes",
    "landlock",
];

/// The policy, from a file and flags (flags add to the file, and a limit
/// given as a flag replaces the file's).
#[derive(clap::Args)]
#[command(next_help_heading = heading::POLICY)]
pub struct PolicyFlags {
    /// Read the policy from a TOML file; flags add to it, and a limit given as a flag replaces the file's.
    ///
    /// A broken file is refused before the guest starts (exit 3), with
    /// `file:line:column`.
    #[arg(long, value_name = "FILE")]
    policy: Option<PathBuf>,
    /// Apply the profile NAME of the policy file (its `[profiles.NAME]` table) on top of the file's top level.
    ///
    /// Lists add, a key the profile sets replaces the top level's, the
    /// sandbox modes are the stricter of the two. An unknown name is a
    /// usage error (exit 2) naming the file's profiles.
    ///
    /// Policy key: `profiles`
    #[arg(long, value_name = "NAME")]
    profile: Option<String>,
    /// Allow a program with any arguments, by name (looked up on the policy's search path, never the guest's PATH) or absolute path; repeatable.
    ///
    /// Policy key: `programs.allow`
    #[arg(long = "allow", value_name = "PROGRAM")]
    allow: Vec<String>,
    /// Ask about a program (an embedder's hook, or --prompt) when no rule allows the request; denied if nothing answers; repeatable.
    ///
    /// Policy key: `programs.ask`
    #[arg(long = "ask", value_name = "PROGRAM")]
    ask: Vec<String>,
    /// Deny a program whatever allows it (an --allow, a glob, the shell): a name, a name glob, an absolute path or glob, or a directory ending in `/`; repeatable.
    ///
    /// A name matches every spelling of the program (path, symlink, hard
    /// link); the shell is denied too when its binary is.
    ///
    /// Policy key: `programs.deny`
    #[arg(long = "deny", value_name = "PROGRAM")]
    deny: Vec<String>,
    /// Grant create-subprocess-shell, run as `/bin/sh -c CMD`: this grants every program the shell can reach.
    ///
    /// Policy key: `shell.allow`
    #[arg(long)]
    allow_shell: bool,
    /// The shell binary for create-subprocess-shell (an absolute path); implies --allow-shell.
    ///
    /// Policy key: `shell.path`
    #[arg(long, value_name = "PATH")]
    shell: Option<PathBuf>,
    /// Set a variable in every child's environment (children start from an empty one); repeatable.
    ///
    /// The guest's own environment is not changed (unlike `wasmtime run
    /// --env`): this is the children's. `--env` is an alias kept for
    /// older command lines.
    ///
    /// Policy key: `env.set`
    #[arg(
        long = "child-env",
        visible_alias = "env",
        value_name = "K=V",
        value_parser = key_value,
        help_heading = heading::ENV
    )]
    env: Vec<(String, String)>,
    /// Pass the host's value of this variable to every child; repeatable.
    ///
    /// Policy key: `env.pass`
    #[arg(long = "pass-env", value_name = "NAME", help_heading = heading::ENV)]
    pass_env: Vec<String>,
    /// Let the guest set variables whose names match this glob in a child's environment (`TERM`, `GIT_AUTHOR_*`); repeatable.
    ///
    /// Broad patterns (`*`, `GIT_*`) are refused unless --unsafe-env-globs.
    ///
    /// Policy key: `env.guest_may_set`
    #[arg(long = "allow-env", value_name = "PATTERN", help_heading = heading::ENV)]
    allow_env: Vec<String>,
    /// Accept broad --allow-env patterns (`*`, `GIT_*`); loader and option variables stay refused.
    ///
    /// A program's options can come from its environment, around its
    /// argument rules.
    ///
    /// Policy key: `env.unsafe_env_globs`
    #[arg(long, help_heading = heading::ENV)]
    unsafe_env_globs: bool,
    /// Most children alive at once.
    ///
    /// Policy key: `limits.max_live`
    #[arg(long, value_name = "N", help_heading = heading::LIMITS)]
    max_live: Option<usize>,
    /// Most exited children the guest may hold unreleased (default 256).
    ///
    /// Policy key: `limits.max_held`
    #[arg(long, value_name = "N", help_heading = heading::LIMITS)]
    max_held: Option<usize>,
    /// Most children the guest may start in its lifetime.
    ///
    /// Policy key: `limits.max_spawns`
    #[arg(long, value_name = "N", help_heading = heading::LIMITS)]
    max_spawns: Option<u64>,
    /// Wall-clock time per child; then SIGTERM to its group, SIGKILL after the grace.
    ///
    /// Seconds, or a number with a unit: `500ms`, `30s`, `2m`, `1h`.
    ///
    /// Policy key: `limits.timeout_secs`
    #[arg(long, value_name = "DURATION", value_parser = units::duration, help_heading = heading::LIMITS)]
    timeout: Option<Duration>,
    /// Most bytes one communicate buffers per stream (default 16M).
    ///
    /// Bytes, or a number with `K`, `M`, `G` or `T` (powers of 1024: `64K`, `1.5G`).
    ///
    /// Policy key: `limits.communicate_bytes`
    #[arg(long, value_name = "SIZE", value_parser = units::size, help_heading = heading::LIMITS)]
    communicate_bytes: Option<usize>,
    /// The children's Landlock sandbox.
    ///
    /// `require` refuses a spawn the kernel cannot sandbox; `best-effort`
    /// sandboxes as far as the kernel can.
    ///
    /// Policy key: `sandbox.landlock`
    #[arg(long, value_name = "MODE", value_parser = landlock_modes(), help_heading = heading::LIMITS)]
    landlock: Option<LandlockMode>,
    /// Also write every audit event (decisions, and each child's start, failure to start, timeout and exit) as a JSON line to FILE.
    #[arg(long, value_name = "FILE", help_heading = heading::OUTPUT)]
    audit_json: Option<PathBuf>,
    /// Log every policy decision on stderr, not only denials.
    #[arg(short, long, help_heading = heading::OUTPUT)]
    verbose: bool,
}

/// `--profile` named a profile the policy file does not have: a usage
/// error (exit 2), naming the ones it has.
#[derive(Debug)]
pub struct UnknownProfile(String);

impl std::fmt::Display for UnknownProfile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for UnknownProfile {}

/// `--child-env`'s value.
fn key_value(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((k, v)) => Ok((k.to_string(), v.to_string())),
        None => Err(format!("{s:?}: expected K=V")),
    }
}

/// `--landlock`'s values (listed in the help, the man page and completions).
fn landlock_modes() -> impl clap::builder::TypedValueParser<Value = LandlockMode> {
    use clap::builder::TypedValueParser;
    clap::builder::PossibleValuesParser::new(["off", "best-effort", "require"]).map(|s| {
        match s.as_str() {
            "off" => LandlockMode::Off,
            "best-effort" => LandlockMode::BestEffort,
            _ => LandlockMode::Require,
        }
    })
}

impl PolicyFlags {
    /// Starts the audit log: denials (or, with `-v`, every decision) on
    /// stderr as readable lines (the summary and the run id; control
    /// characters escaped); every event's JSON record in the file if asked.
    pub fn init_logging(&self) -> Result<()> {
        let default = if self.verbose {
            format!("{AUDIT_TARGET}=info,{CACHE_TARGET}=warn")
        } else {
            format!("{AUDIT_TARGET}=warn,{CACHE_TARGET}=warn")
        };
        let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
        // The readable line leaves out the JSON record.
        let fields =
            tracing_subscriber::fmt::format::debug_fn(|w, field, value| match field.name() {
                "record" => Ok(()),
                "message" => write!(w, "{value:?}"),
                name => write!(w, " {name}={value:?}"),
            });
        let stderr = tracing_subscriber::fmt::layer()
            .with_writer(std::io::stderr)
            .with_target(false)
            .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
            .without_time()
            .fmt_fields(fields)
            .with_filter(filter);
        let json = match &self.audit_json {
            Some(path) => {
                let file = std::fs::File::create(path)
                    .with_context(|| format!("--audit-json {}", path.display()))?;
                let layer = JsonLines::new(file)
                    .with_filter(Targets::new().with_target(AUDIT_TARGET, LevelFilter::INFO));
                Some(layer)
            }
            None => None,
        };
        tracing_subscriber::registry()
            .with(stderr)
            .with(json)
            .init();
        Ok(())
    }

    /// The policy file given with `--policy`.
    pub fn policy_file(&self) -> Option<&Path> {
        self.policy.as_deref()
    }

    /// The policy file (if any, with its `--profile`) and the flags
    /// merged in. An unknown profile is an [`UnknownProfile`] error.
    pub fn builder(&self) -> Result<PolicyBuilder> {
        let mut builder = match &self.policy {
            Some(path) => {
                let file = PolicyFile::load(path)?;
                let base = path.parent().unwrap_or(Path::new("."));
                let profile = self.profile.as_deref();
                // Its only error: a profile the file does not have.
                file.into_builder_with_profile(base, profile)
                    .map_err(|e| UnknownProfile(format!("--profile: {e}")))?
            }
            None if self.profile.is_some() => {
                return Err(UnknownProfile("--profile needs --policy FILE".into()).into());
            }
            None => procgate::Policy::builder(),
        };
        for program in &self.allow {
            builder = builder.origin("--allow").allow_program(program);
        }
        for program in &self.ask {
            builder = builder.origin("--ask").ask_program(program);
        }
        for program in &self.deny {
            builder = builder.origin("--deny").deny_program(program);
        }
        if let Some(shell) = &self.shell {
            builder = builder.origin("--shell").allow_shell(shell);
        } else if self.allow_shell {
            builder = builder.origin("--allow-shell").allow_shell("/bin/sh");
        }
        for (k, v) in &self.env {
            builder = builder.set_env(k, v);
        }
        for name in &self.pass_env {
            builder = builder.pass_env(name);
        }
        for pattern in &self.allow_env {
            builder = builder.origin("--allow-env").allow_guest_env(pattern);
        }
        if self.unsafe_env_globs {
            builder = builder.unsafe_env_globs(true);
        }
        builder = builder.origin("");
        let timeout = self.timeout;
        builder = builder.update_limits(|l| {
            l.max_live = self.max_live.or(l.max_live);
            l.max_held = self.max_held.or(l.max_held);
            l.max_spawns = self.max_spawns.or(l.max_spawns);
            l.timeout = timeout.or(l.timeout);
            l.communicate_bytes = self.communicate_bytes.or(l.communicate_bytes);
        });
        if let Some(mode) = self.landlock {
            builder = builder.landlock(mode);
        }
        Ok(builder)
    }
}
