//! Runs the commands on its command line, one after the other, and prints
//! what became of each: a guest whose requests learn mode records.
//!
//! Commands are separated by a `;` argument. Each is
//! `[NAME=VALUE]... [@CWD] PROGRAM ARGS...` (variables for the child, its
//! working directory as a guest path), or `sh:COMMAND` for
//! `create-subprocess-shell`, or `kill:PROGRAM ARGS...` to start a child
//! and send it SIGTERM. The children's output is captured, not printed, so
//! the guest prints one line per command:
//!
//! ```text
//! ls: exit 0
//! cat: denied: program "cat" not in allow list
//! ```

use procgate_guest::sync::{create_subprocess_exec, create_subprocess_shell, Process};
use procgate_guest::{Options, Signal, PIPE};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    for command in args.split(|a| a == ";") {
        if command.is_empty() {
            continue;
        }
        let (name, outcome) = run(command);
        match outcome {
            Ok(line) => println!("{name}: {line}"),
            Err(e) => println!("{name}: denied: {e}"),
        }
    }
}

fn run(command: &[String]) -> (String, procgate_guest::Result<String>) {
    let mut options = Options::new().stdout(PIPE).stderr(PIPE);
    let mut words = command.iter().peekable();
    while let Some((k, v)) = words.peek().and_then(|w| w.split_once('=')) {
        if k.is_empty() || !k.chars().all(|c| c.is_ascii_uppercase() || c == '_') {
            break;
        }
        options = options.env(k, v);
        words.next();
    }
    if let Some(cwd) = words.peek().and_then(|w| w.strip_prefix('@')) {
        options = options.cwd(cwd);
        words.next();
    }
    let rest: Vec<String> = words.cloned().collect();
    let Some(first) = rest.first() else {
        return ("(nothing)".into(), Ok("nothing to run".into()));
    };
    if let Some(cmd) = first.strip_prefix("sh:") {
        return (
            "sh".into(),
            create_subprocess_shell(cmd, options)
                .map_err(Into::into)
                .and_then(finish),
        );
    }
    if let Some(program) = first.strip_prefix("kill:") {
        let outcome = create_subprocess_exec(program, &rest[1..], options)
            .map_err(Into::into)
            .and_then(|p| {
                p.send_signal(Signal::Term)?;
                finish(p)
            });
        return (program.to_string(), outcome);
    }
    let outcome = create_subprocess_exec(first, &rest[1..], options)
        .map_err(Into::into)
        .and_then(finish);
    (first.clone(), outcome)
}

fn finish(mut p: Process) -> procgate_guest::Result<String> {
    p.communicate(None)?;
    Ok(format!("exit {}", p.returncode().unwrap_or(-1)))
}
