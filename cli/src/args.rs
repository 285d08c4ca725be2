//! The one definition of `procgate`'s command line. `--help`, the man page
//! (`procgate man`), the shell completions (`procgate completions SHELL`)
//! and the flag tables of `docs/cli.md` (`procgate help-markdown`) are all
//! made from these types; `cli/tests/docs_tables.rs` fails when the
//! committed tables differ from what they generate.
//!
//! A flag's doc comment is its help: the first paragraph is the short help
//! (`-h`), the rest the long help (`--help`). A last line `Policy key:
//! \`KEY\`` names the policy-file key the flag stands for (the third column
//! of the generated table).

use crate::policy_flags::PolicyFlags;
use clap::{Args, Parser, Subcommand};
use std::ffi::OsString;
use std::path::PathBuf;

/// The help headings of `procgate run`, in the order `--help` shows them.
pub mod heading {
    /// The policy file and the programs the guest's children may run.
    pub const POLICY: &str = "Policy";
    /// The children's environment.
    pub const ENV: &str = "Environment";
    /// Counts, sizes and times.
    pub const LIMITS: &str = "Limits";
    /// The guest itself (not its children).
    pub const GUEST: &str = "Guest";
    /// The audit log.
    pub const OUTPUT: &str = "Audit log";
}

const RUN_EXAMPLES: &str = "\
Examples:
  Run a guest that may start `git` with any arguments:
    procgate run --allow git guest.wasm status

  Use a policy file, give the guest the current directory, stop it after a minute:
    procgate run --policy policy.toml --dir .::/work --deadline 1m guest.wasm

  Log every decision, and each as JSON to a file:
    procgate run -v --audit-json audit.jsonl --allow ls guest.wasm

Everything after GUEST.wasm reaches the guest verbatim, even `--allow-shell` or `--help`.";

/// The exit codes, as `procgate --help` lists them (the rustdoc of
/// `crate::exit` holds the same table).
pub const EXIT_CODES: &str = "\
Exit status:
  N        the guest's own exit code (0 when its `run` returns ok, 1 when it returns an error)
  2        usage error: an unknown flag, a bad value, no guest
  3        policy error: a broken policy file, a refused grant
  4        the guest cannot be run: missing, not WebAssembly, a core module, not a command
  125      procgate itself failed (an I/O or runtime error)
  134      the guest trapped (also past --deadline or --max-memory), as `wasmtime run` exits
  128+N    procgate was stopped by signal N (130 SIGINT, 143 SIGTERM, 129 SIGHUP)";

const TOP_EXAMPLES: &str = "\
Examples:
  procgate run --allow git guest.wasm status
  procgate compile python-guest.wasm
  procgate cache list";

const INSPECT_EXAMPLES: &str = "\
Example:
  procgate inspect guest.wasm";

const DECLARE_EXAMPLES: &str = "\
Example (a Python, JavaScript or C guest; a Rust guest uses `procgate_guest::declare!`):
  procgate declare needs.toml python-guest.wasm -o python-guest.wasm";

/// Run WebAssembly guests that start real processes, under a policy.
#[derive(Parser)]
#[command(
    name = "procgate",
    version,
    about = "Run WebAssembly guests that start real processes, under a policy",
    after_help = TOP_EXAMPLES,
    after_long_help = format!("{TOP_EXAMPLES}\n\n{EXIT_CODES}"),
)]
pub struct Cli {
    /// The subcommand.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Subcommand)]
#[allow(clippy::large_enum_variant)] // parsed once per process
pub enum Command {
    /// Run a guest component (a `procgate:subprocess/command`).
    #[command(after_help = RUN_EXAMPLES, after_long_help = format!("{RUN_EXAMPLES}\n\n{EXIT_CODES}"))]
    Run(RunArgs),
    /// Compile a guest into the compiled-component cache ahead of its first run.
    Compile(CompileArgs),
    /// Show or empty the compiled-component cache.
    Cache {
        /// What to do with the cache.
        #[command(subcommand)]
        command: CacheCommand,
    },
    /// Show what a guest is: its declared capabilities, WIT imports and exports, whether it is a command.
    #[command(after_help = INSPECT_EXAMPLES)]
    Inspect(InspectArgs),
    /// Write a guest's declared capabilities (a policy file's text) into a copy of it.
    #[command(after_help = DECLARE_EXAMPLES)]
    Declare(DeclareArgs),
    /// Print the man page (roff) on stdout: `procgate man | man -l -`.
    Man {
        /// A subcommand's page instead (`procgate man run`).
        #[arg(value_name = "SUBCOMMAND")]
        subcommand: Option<String>,
    },
    /// Print a shell completion script on stdout.
    #[command(
        after_help = "Example:\n  procgate completions bash > ~/.local/share/bash-completion/completions/procgate"
    )]
    Completions {
        /// The shell.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the flag tables of docs/cli.md (Markdown), made from this definition.
    #[command(hide = true)]
    HelpMarkdown,
}

/// `procgate cache`'s subcommands.
#[derive(Subcommand)]
pub enum CacheCommand {
    /// List the entries, most recently used first, with their sizes and the bound.
    List,
    /// Remove every entry (the directory and its key stay).
    Clean,
    /// Print the cache directory.
    Dir,
}

/// `procgate run`.
#[derive(Args)]
pub struct RunArgs {
    /// The policy.
    #[command(flatten)]
    pub policy: PolicyFlags,
    /// Learn mode: allow every request the host can contain (children
    /// sandboxed, shell included), record them, and write FILE as the
    /// least-privilege policy of this run (or widen FILE, printing the diff).
    ///
    /// The policy flags (`--policy`, `--allow`, `--timeout`, ...) are
    /// refused beside it (exit 2): learn mode would ignore them. `-v`,
    /// `--audit-json` and `--dir` still apply.
    #[arg(
        long,
        value_name = "FILE",
        conflicts_with_all = crate::policy_flags::POLICY_FLAG_IDS,
        help_heading = heading::POLICY
    )]
    pub learn: Option<PathBuf>,
    /// Ask at the terminal about each program the policy neither allows nor denies (the ask tier, and every unlisted program): allow once, this exact command, this form; deny; deny always.
    ///
    /// Needs stdin and stderr to be terminals and CI unset (else exit 2).
    /// Answers are read from the controlling terminal, not the guest's
    /// stdin; remembered answers are written to the --policy file and the
    /// audit log.
    ///
    /// Policy key: `programs.default = "ask"`
    #[arg(long, conflicts_with = "learn", help_heading = heading::POLICY)]
    pub prompt: bool,
    /// The guest's own bounds and files.
    #[command(flatten)]
    pub guest: GuestFlags,
    /// The guest component, then its arguments: everything after the guest
    /// reaches it verbatim, even what looks like an option of procgate's.
    #[arg(
        value_name = "GUEST.wasm [ARGS]",
        required = true,
        trailing_var_arg = true
    )]
    pub guest_and_args: Vec<OsString>,
}

/// The flags about the guest itself (not its children).
#[derive(Args)]
#[command(next_help_heading = heading::GUEST)]
pub struct GuestFlags {
    /// Give the guest a host directory at GUEST (default: the same path), and grant it to children as a working directory; `:ro` read-only for both; repeatable.
    ///
    /// The first one is the children's default working directory (with
    /// none: `/`). A directory that contains the compiled-component cache,
    /// or lies inside it, is refused. With `:ro` (`--dir data::/data:ro`)
    /// the guest's preopen is read-only and, under Landlock, children may
    /// only read in it.
    ///
    /// Policy key: `dirs`, `dirs.read_only`
    #[arg(long = "dir", value_name = "HOST[::GUEST][:ro]")]
    pub dirs: Vec<String>,
    /// Stop the guest after this much wall-clock time, host calls included; its children are ended.
    ///
    /// Seconds, or a number with a unit: `500ms`, `30s`, `2m`, `1h`.
    #[arg(long, value_name = "DURATION", value_parser = crate::units::duration)]
    pub deadline: Option<std::time::Duration>,
    /// Most bytes of linear memory the guest may use; past it the guest traps with a message saying so.
    ///
    /// Bytes, or a number with `K`, `M`, `G` or `T` (powers of 1024: `64K`, `1.5G`).
    #[arg(long, value_name = "SIZE", value_parser = crate::units::size)]
    pub max_memory: Option<usize>,
    /// Time a child the guest gave up gets between SIGTERM and SIGKILL (default 200ms).
    ///
    /// Seconds, or a number with a unit (`200ms`). A child that timed out
    /// gets `limits.kill_grace_secs` if the policy sets it.
    ///
    /// Policy key: (the default of `limits.kill_grace_secs`)
    #[arg(long, value_name = "DURATION", value_parser = crate::units::duration)]
    pub kill_grace: Option<std::time::Duration>,
    /// Compile the guest afresh instead of loading it from the compiled-component cache.
    ///
    /// The cache is $PROCGATE_CACHE_DIR, else
    /// $XDG_CACHE_HOME/procgate/compiled, else ~/.cache/procgate/compiled
    /// (none without these); see `procgate cache dir`.
    #[arg(long)]
    pub no_cache: bool,
}

/// `procgate compile`.
#[derive(Args)]
pub struct CompileArgs {
    /// The guest components to compile.
    #[arg(value_name = "GUEST.wasm", required = true)]
    pub guests: Vec<PathBuf>,
}

/// `procgate inspect`.
#[derive(Args)]
pub struct InspectArgs {
    /// The guest file.
    #[arg(value_name = "GUEST.wasm")]
    pub guest: PathBuf,
}

/// `procgate declare`.
#[derive(Args)]
pub struct DeclareArgs {
    /// What the guest needs: a policy file (TOML) listing programs, the
    /// shell, environment names, directories, signals and limits.
    #[arg(value_name = "CAPS.toml")]
    pub capabilities: PathBuf,
    /// The guest (a component or core module) without a declaration.
    #[arg(value_name = "IN.wasm")]
    pub input: PathBuf,
    /// Where to write the guest with its declaration (may be IN.wasm).
    #[arg(short, long, value_name = "OUT.wasm")]
    pub output: PathBuf,
}
