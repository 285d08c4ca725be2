//! A guest that reads a repository's history with `git log` and prints it
//! parsed: `gitlog [REPO] [MAX]` (by default `/repo`, the directory
//! `gitlog.toml` grants, and 10 commits). The parsing code
//! (`procgate_examples::git`) is written against `std::process::Command`;
//! only its `use` line names `procgate_guest::process::Command` instead.

use std::path::Path;
use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let repo = args.first().map_or("/repo", String::as_str);
    let max = args.get(1).and_then(|n| n.parse().ok()).unwrap_or(10);
    match procgate_examples::git::log(Path::new(repo), max) {
        Ok(commits) => {
            for c in &commits {
                println!(
                    "{} {} <{}> {} {}",
                    &c.hash[..12],
                    c.author,
                    c.email,
                    c.time,
                    c.subject
                );
            }
            println!("{} commits", commits.len());
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("gitlog: {e}");
            ExitCode::FAILURE
        }
    }
}
