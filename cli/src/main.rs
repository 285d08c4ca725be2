//! `procgate`: run a WebAssembly guest that may start processes, under a
//! deny-by-default policy.
//!
//! ```text
//! procgate run [OPTIONS] GUEST.wasm [ARGS]...   run a guest
//! procgate compile GUEST.wasm...                fill the compiled-component cache
//! procgate cache list|clean|dir                 the cache
//! procgate inspect GUEST.wasm                   what a guest declares, imports, exports
//! procgate declare CAPS.toml IN.wasm -o OUT     write a declaration into a guest
//! procgate man                                  the man page
//! procgate completions SHELL                    a shell completion script
//! ```
//!
//! procgate's options come before the guest; everything after the guest
//! file reaches the guest verbatim, even `--allow-shell` or `--help` (as
//! with `wasmtime run`).
//!
//! Every flag is defined once, in [`args`]; `--help`, the man page, the
//! completions and the tables of `docs/cli.md` come from there
//! ([`docgen`]). The exit codes are in [`exit`]. The CLI only turns flags
//! and the policy file into the library's types; everything else is
//! [`procgate::runner`].

#![deny(missing_docs)]

mod args;
mod audit_json;
mod cache_cmd;
mod declare;
mod docgen;
mod exit;
mod guest;
mod inspect;
mod learn;
mod policy_flags;
mod progress;
mod prompt;
mod run;
mod signals;
mod units;

use args::{Cli, Command};
use clap::Parser;
use exit::OrExit;

fn main() {
    // clap exits 2 on a usage error, 0 for --help and --version.
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Run(args) => run::run(args),
        Command::Compile(args) => cache_cmd::compile(&args.guests),
        Command::Cache { command } => cache_cmd::command(&command),
        Command::Inspect(args) => inspect::inspect(&args.guest),
        Command::Declare(args) => declare::declare(&args),
        Command::Man { subcommand } => {
            docgen::man(subcommand.as_deref(), &mut std::io::stdout().lock())
                .map(|()| 0)
                .or_exit(exit::USAGE)
        }
        Command::Completions { shell } => {
            docgen::completions(shell, &mut std::io::stdout().lock());
            Ok(0)
        }
        Command::HelpMarkdown => docgen::markdown(&mut std::io::stdout().lock())
            .map(|()| 0)
            .or_exit(exit::HOST),
    };
    let code = result.unwrap_or_else(exit::Failure::report);
    std::process::exit(code);
}
