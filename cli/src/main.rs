//! `procgate`: run a WebAssembly guest that may start processes, under a
//! deny-by-default policy.
//!
//! ```text
//! procgate run [--policy FILE] [--allow PROGRAM]... [--allow-shell] [--shell PATH]
//!              [--dir HOST[::GUEST]]... [--env K=V]... [--pass-env NAME]...
//!              [--allow-env PATTERN]... [--unsafe-env-globs] [--max-live N]
//!              [--max-held N] [--max-spawns N] [--timeout DURATION]
//!              [--communicate-bytes SIZE] [--landlock MODE]
//!              [--audit-json FILE] [-v] [--deadline DURATION] [--max-memory SIZE]
//!              [--kill-grace DURATION] [--no-cache] GUEST.wasm [ARGS]...
//! ```
//!
//! procgate's options come before the guest; everything after the guest
//! file reaches the guest verbatim, even `--allow-shell` or `--help` (as
//! with `wasmtime run`).
//!
//! The CLI only turns flags and the policy file into the library's types;
//! everything else is [`procgate::runner`].

#![deny(missing_docs)]

mod audit_json;
mod learn; // --learn
mod policy_flags;
mod signals;

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};
use policy_flags::PolicyFlags;
use procgate::cache::ComponentCache;
use procgate::runner::{engine, GuestLimits, RunEnd, Runner};
use procgate::{InheritedOutput, InheritedStdio, Policy, ProcgateCtx};
use std::ffi::OsString;
use std::path::PathBuf;

#[derive(Parser)]
#[command(
    name = "procgate",
    version,
    about = "Run WebAssembly guests that start real processes, under a policy"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run a guest component (a `procgate:subprocess/command`).
    Run(RunArgs),
}

#[derive(Parser)]
struct RunArgs {
    #[command(flatten)]
    policy: PolicyFlags,
    // --learn (learn mode): its field and the three marked lines in `run`.
    /// Learn mode: allow every request the host can contain (children
    /// sandboxed, shell included), record them, and write FILE as the
    /// least-privilege policy of this run (or widen FILE, printing the diff).
    #[arg(long, value_name = "FILE", conflicts_with = "policy")]
    learn: Option<PathBuf>,
    /// Give the guest a host directory, at GUEST (default: the same path),
    /// and grant it as a working directory for children.
    #[arg(long = "dir", value_name = "HOST[::GUEST]")]
    dirs: Vec<String>,
    /// Stop the guest after this much wall-clock time (host calls
    /// included): seconds, or with a unit (`500ms`, `30s`, `2m`); its
    /// children are ended.
    #[arg(long, value_name = "DURATION", value_parser = procgate::policy::parse_duration)]
    deadline: Option<std::time::Duration>,
    /// Most bytes of linear memory the guest may use (suffixes K, M, G).
    #[arg(long, value_name = "SIZE", value_parser = parse_size)]
    max_memory: Option<usize>,
    /// Time a child the guest gave up gets between SIGTERM and SIGKILL:
    /// seconds, or with a unit (`200ms`).
    #[arg(long, value_name = "DURATION", value_parser = procgate::policy::parse_duration)]
    kill_grace: Option<std::time::Duration>,
    /// Compile the guest afresh instead of using the compiled-component
    /// cache ($PROCGATE_CACHE_DIR, else $XDG_CACHE_HOME/procgate/compiled,
    /// else ~/.cache/procgate/compiled; none without these).
    #[arg(long)]
    no_cache: bool,
    /// The guest component, then its arguments: everything after the guest
    /// reaches it verbatim, even what looks like an option of procgate's.
    #[arg(
        value_name = "GUEST.wasm [ARGS]",
        required = true,
        trailing_var_arg = true
    )]
    guest_and_args: Vec<OsString>,
}

impl RunArgs {
    /// The guest file and its arguments (WASI arguments are UTF-8).
    fn guest(&self) -> Result<(PathBuf, Vec<String>)> {
        let (guest, args) = self
            .guest_and_args
            .split_first()
            .context("no guest given")?;
        let args = args
            .iter()
            .map(|a| a.clone().into_string())
            .collect::<Result<_, _>>()
            .map_err(|a| anyhow::anyhow!("guest argument {a:?} is not UTF-8"))?;
        Ok((PathBuf::from(guest), args))
    }
}

fn main() {
    let cli = Cli::parse();
    let code = match cli.command {
        Command::Run(args) => match run(args) {
            Ok(code) => code,
            Err(e) => {
                eprintln!("procgate: {e:#}");
                1
            }
        },
    };
    std::process::exit(code);
}

fn parse_size(s: &str) -> Result<usize, String> {
    policy_flags::size(s)
}

fn split_dir(spec: &str) -> (PathBuf, String) {
    match spec.split_once("::") {
        Some((host, guest)) => (PathBuf::from(host), guest.to_string()),
        None => (PathBuf::from(spec), spec.to_string()),
    }
}

/// Refuses a grant through which the guest or its children could write
/// the compiled-component cache, and so plant code a later run executes
/// (whether or not this run uses the cache).
fn refuse_grants_over_cache(cache: &ComponentCache, policy: &Policy) -> Result<()> {
    let grants = policy.dirs().iter().map(|d| d.host.as_path());
    let writes = policy.sandbox().write.iter().map(PathBuf::as_path);
    for dir in grants.chain(writes) {
        if cache
            .overlaps(dir)
            .with_context(|| format!("{}", dir.display()))?
        {
            anyhow::bail!(
                "refusing to grant {}: it overlaps the compiled-component cache {}, where a \
                 guest could plant code the host runs; grant another directory or move the \
                 cache with PROCGATE_CACHE_DIR",
                dir.display(),
                cache.dir().unwrap_or(dir).display()
            );
        }
    }
    Ok(())
}

fn run(args: RunArgs) -> Result<i32> {
    args.policy.init_logging()?;
    let (guest, guest_args) = args.guest()?;
    let learn = args
        .learn
        .as_deref()
        .map(learn::Learning::start)
        .transpose()?; // --learn
    let mut builder = match &learn {
        Some(learn) => learn.builder()?, // --learn
        None => args.policy.builder()?,
    };
    let mut wasi = procgate::wasmtime_wasi::WasiCtx::builder();
    wasi.inherit_stdio();
    wasi.arg(guest.display().to_string());
    wasi.args(&guest_args);
    for spec in &args.dirs {
        let (host, guest) = split_dir(spec);
        wasi.preopened_dir(&host, &guest, procgate::wasmtime_wasi::FsPerms::ReadWrite)
            .map_err(anyhow::Error::from)
            .with_context(|| format!("--dir {spec}"))?;
        builder = builder.dir(host, guest);
    }
    let policy = builder.build().context("policy")?;
    let grants: Vec<_> = policy
        .dirs()
        .iter()
        .map(|d| (d.host.clone(), d.guest.clone()))
        .collect(); // --learn
    let cache = ComponentCache::new(ComponentCache::default_dir());
    refuse_grants_over_cache(&cache, &policy)?;
    if cache.dir().is_none() && !args.no_cache {
        tracing::warn!(
            target: procgate::cache::LOG_TARGET,
            "not caching compiled components: no private cache directory \
             (PROCGATE_CACHE_DIR, XDG_CACHE_HOME and HOME are unset)"
        );
    }
    let mut procgate = ProcgateCtx::new(policy);
    if let Some(grace) = args.kill_grace {
        procgate = procgate.kill_grace(grace);
    }
    let procgate = procgate.inherit(InheritedStdio {
        stdin_from_host: true,
        stdout: InheritedOutput::Host,
        stderr: InheritedOutput::Host,
    });

    let limits = GuestLimits {
        deadline: args.deadline,
        max_memory: args.max_memory,
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let code: Result<i32> = runtime.block_on(async move {
        let engine = engine()?;
        let runner = if args.no_cache {
            Runner::from_file(&engine, &guest)?
        } else {
            Runner::from_file_cached(&engine, &guest, &cache)?
        };
        let wasi = wasi.build();
        let stop = signals::stopping().context("installing signal handlers")?;
        // The guest runs in its own task: faster streams than on the main future.
        let end = tokio::spawn(async move { runner.run_until(wasi, procgate, limits, stop).await })
            .await
            .context("guest task")??;
        Ok(match end {
            RunEnd::Exited(code) => code,
            RunEnd::Cancelled(sig) => signals::exit_code(sig),
        })
    });
    learn.map(|l| l.finish(&grants)).transpose()?; // --learn
    code
}
