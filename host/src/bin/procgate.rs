//! `procgate`: run a WebAssembly guest that may start processes, under a
//! deny-by-default policy.
//!
//! ```text
//! procgate run [--policy FILE] [--allow PROGRAM]... [--allow-shell]
//!              [--dir HOST[::GUEST]]... [--env K=V]... GUEST.wasm [ARGS]...
//! ```
//!
//! The CLI only turns flags and the policy file into the library's types;
//! everything else is [`procgate::runner`].

use anyhow::{bail, Context, Result};
use clap::{Parser, Subcommand};
use procgate::policy::{PolicyFile, AUDIT_TARGET};
use procgate::runner::{engine, Runner};
use procgate::{InheritedOutput, InheritedStdio, ProcgateCtx};
use std::path::{Path, PathBuf};
use tracing_subscriber::EnvFilter;

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
    /// Give the guest a host directory, at GUEST (default: the same path),
    /// and grant it as a working directory for children.
    #[arg(long = "dir", value_name = "HOST[::GUEST]")]
    dirs: Vec<String>,
    /// Set a variable in every child's environment.
    #[arg(long = "env", value_name = "K=V")]
    env: Vec<String>,
    /// Let the guest set this variable in a child's environment.
    #[arg(long = "allow-env", value_name = "NAME")]
    allow_env: Vec<String>,
    /// Log every policy decision (allowed ones too), not only denials.
    #[arg(short, long)]
    verbose: bool,
    /// The guest component.
    guest: PathBuf,
    /// Arguments for the guest.
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    args: Vec<String>,
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

fn init_logging(verbose: bool) {
    let default = if verbose {
        format!("{AUDIT_TARGET}=info")
    } else {
        format!("{AUDIT_TARGET}=warn")
    };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .without_time()
        .init();
}

fn split_dir(spec: &str) -> (PathBuf, String) {
    match spec.split_once("::") {
        Some((host, guest)) => (PathBuf::from(host), guest.to_string()),
        None => (PathBuf::from(spec), spec.to_string()),
    }
}

fn run(args: RunArgs) -> Result<i32> {
    init_logging(args.verbose);

    let mut builder = match &args.policy {
        Some(path) => {
            let file = PolicyFile::load(path)?;
            let base = path.parent().unwrap_or(Path::new("."));
            file.into_builder(base)
        }
        None => procgate::Policy::builder(),
    };
    for program in &args.allow {
        builder = builder.allow_program(program);
    }
    if let Some(shell) = &args.shell {
        builder = builder.allow_shell(shell);
    } else if args.allow_shell {
        builder = builder.allow_shell("/bin/sh");
    }
    for kv in &args.env {
        let Some((k, v)) = kv.split_once('=') else {
            bail!("--env {kv:?}: expected K=V");
        };
        builder = builder.set_env(k, v);
    }
    for name in &args.allow_env {
        builder = builder.allow_guest_env(name);
    }
    let mut wasi = wasmtime_wasi::WasiCtx::builder();
    wasi.inherit_stdio();
    let guest_name = args.guest.display().to_string();
    wasi.arg(&guest_name);
    wasi.args(&args.args);
    for spec in &args.dirs {
        let (host, guest) = split_dir(spec);
        wasi.preopened_dir(&host, &guest, wasmtime_wasi::FsPerms::ReadWrite)
            .map_err(anyhow::Error::from)
            .with_context(|| format!("--dir {spec}"))?;
        builder = builder.dir(host, guest);
    }
    let policy = builder.build().context("policy")?;
    let procgate = ProcgateCtx::new(policy).inherit(InheritedStdio {
        stdin_from_host: true,
        stdout: InheritedOutput::Host,
        stderr: InheritedOutput::Host,
    });

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        let engine = engine()?;
        let runner = Runner::from_file(&engine, &args.guest)?;
        let wasi = wasi.build();
        // The guest runs in its own task: faster streams than on the main future.
        tokio::spawn(async move { runner.run(wasi, procgate).await })
            .await
            .context("guest task")?
    })
}
