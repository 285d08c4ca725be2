//! The policy flags of `procgate run`, merged over a policy file, and the
//! audit log they ask for (readable lines on stderr, JSON lines in a file).

use crate::audit_json::JsonLines;
use anyhow::{bail, Context, Result};
use procgate::cache::LOG_TARGET as CACHE_TARGET;
use procgate::policy::{PolicyBuilder, PolicyFile, AUDIT_TARGET};
use procgate::sandbox::LandlockMode;
use std::path::{Path, PathBuf};
use std::time::Duration;
use tracing_subscriber::filter::{EnvFilter, LevelFilter, Targets};
use tracing_subscriber::prelude::*;

/// The policy, from a file and flags (flags add to the file, and a limit
/// given as a flag replaces the file's).
#[derive(clap::Args)]
pub struct PolicyFlags {
    /// A policy file (TOML); flags add to it.
    #[arg(long, value_name = "FILE")]
    policy: Option<PathBuf>,
    /// Allow a program, by name (looked up on the policy's search path) or absolute path.
    #[arg(long = "allow", value_name = "PROGRAM")]
    allow: Vec<String>,
    /// Grant create-subprocess-shell (with /bin/sh unless --shell says otherwise).
    #[arg(long)]
    allow_shell: bool,
    /// The shell binary for create-subprocess-shell (implies --allow-shell).
    #[arg(long, value_name = "PATH")]
    shell: Option<PathBuf>,
    /// Set a variable in every child's environment.
    #[arg(long = "env", value_name = "K=V")]
    env: Vec<String>,
    /// Pass the host's value of this variable to every child.
    #[arg(long = "pass-env", value_name = "NAME")]
    pass_env: Vec<String>,
    /// Let the guest set variables matching this name pattern (glob) in a child's environment.
    #[arg(long = "allow-env", value_name = "PATTERN")]
    allow_env: Vec<String>,
    /// Accept broad --allow-env patterns (`*`, `GIT_*`): a program's options
    /// can come from its environment, around its argument rules.
    #[arg(long)]
    unsafe_env_globs: bool,
    /// Most children alive at once.
    #[arg(long, value_name = "N")]
    max_live: Option<usize>,
    /// Most exited children the guest may hold unreleased (default 256).
    #[arg(long, value_name = "N")]
    max_held: Option<usize>,
    /// Most children the guest may start.
    #[arg(long, value_name = "N")]
    max_spawns: Option<u64>,
    /// Wall-clock time per child (seconds, or 500ms, 30s, 2m); then SIGTERM
    /// to its group, SIGKILL after the grace.
    #[arg(long, value_name = "DURATION", value_parser = duration)]
    timeout: Option<Duration>,
    /// Most bytes one communicate buffers per stream (suffixes K, M, G).
    #[arg(long, value_name = "BYTES", value_parser = size)]
    communicate_bytes: Option<usize>,
    /// Landlock sandbox for children: off, best-effort or require.
    #[arg(long, value_name = "MODE", value_parser = parse_landlock)]
    landlock: Option<LandlockMode>,
    /// Also write every audit event (decisions, spawns, exits, timeouts) as a JSON line to FILE.
    #[arg(long, value_name = "FILE")]
    audit_json: Option<PathBuf>,
    /// Log every policy decision (allowed ones too) on stderr, not only denials.
    #[arg(short, long)]
    verbose: bool,
}

/// A duration flag, through the policy file's parser.
fn duration(s: &str) -> Result<Duration, String> {
    procgate::policy::parse_duration(s)
}

/// A size flag, through the policy file's parser.
pub fn size(s: &str) -> Result<usize, String> {
    let bytes = procgate::policy::parse_size(s)?;
    usize::try_from(bytes).map_err(|_| format!("{s:?} is too large"))
}

fn parse_landlock(s: &str) -> Result<LandlockMode, String> {
    match s {
        "off" => Ok(LandlockMode::Off),
        "best-effort" => Ok(LandlockMode::BestEffort),
        "require" => Ok(LandlockMode::Require),
        _ => Err(format!("{s:?}: expected off, best-effort or require")),
    }
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

    /// The policy file (if any) with the flags merged in.
    pub fn builder(&self) -> Result<PolicyBuilder> {
        let mut builder = match &self.policy {
            Some(path) => {
                let file = PolicyFile::load(path)?;
                let base = path.parent().unwrap_or(Path::new("."));
                file.into_builder(base)
            }
            None => procgate::Policy::builder(),
        };
        for program in &self.allow {
            builder = builder.origin("--allow").allow_program(program);
        }
        if let Some(shell) = &self.shell {
            builder = builder.origin("--shell").allow_shell(shell);
        } else if self.allow_shell {
            builder = builder.origin("--allow-shell").allow_shell("/bin/sh");
        }
        for kv in &self.env {
            let Some((k, v)) = kv.split_once('=') else {
                bail!("--env {kv:?}: expected K=V");
            };
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
