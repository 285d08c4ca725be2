//! `procgate inspect GUEST`: what a guest file is, read without compiling
//! or running it (the guest's declared capabilities, its WIT imports and
//! exports, whether it is a command); and the notice `procgate run` prints
//! up front for each declared need its policy refuses.
//!
//! Everything shown comes from the guest file, which procgate does not
//! trust: control characters are escaped before they reach the terminal.

use crate::exit::{fail, Failure, GUEST};
use procgate::declare::{self, GuestFile, SECTION};
use procgate::Policy;
use std::fmt::Write;
use std::path::Path;

/// Prints what `path` is; 0, or [`GUEST`] for a file that is not a
/// component (missing, not WebAssembly, a core module, malformed) or whose
/// declaration does not parse.
pub fn inspect(path: &Path) -> Result<i32, Failure> {
    let bytes = crate::guest::read(path)?;
    let file =
        declare::read(&bytes).map_err(|e| fail(GUEST, format!("{}: {e:#}", path.display())))?;
    print!("{}", describe(path, &file));
    match file.parsed(&path.display().to_string()) {
        Ok(_) => Ok(0),
        Err(e) => Err(fail(
            GUEST,
            format!(
                "its declaration does not parse: {}",
                printable(&format!("{e:#}"))
            ),
        )),
    }
}

/// The text `procgate inspect` prints.
fn describe(path: &Path, file: &GuestFile) -> String {
    let mut out = String::new();
    let command = match file.is_command() {
        true => "yes (exports wasi:cli/run)".to_string(),
        false => "no: it exports no wasi:cli/run, so `procgate run` refuses it".to_string(),
    };
    let _ = writeln!(out, "{}: a WebAssembly component", path.display());
    let _ = writeln!(out, "command: {command}");
    match &file.declaration {
        Some(text) => {
            let _ = writeln!(out, "declared capabilities ({SECTION}):");
            for line in text.trim_matches('\n').lines() {
                match line.is_empty() {
                    true => out.push('\n'),
                    false => {
                        let _ = writeln!(out, "  {}", printable(line));
                    }
                }
            }
        }
        None => {
            let _ = writeln!(
                out,
                "declared capabilities: none (the host's policy alone decides)"
            );
        }
    }
    for (what, names) in [("imports", &file.imports), ("exports", &file.exports)] {
        let _ = writeln!(out, "{what} ({}):", names.len());
        for name in names {
            let _ = writeln!(out, "  {}", printable(name));
        }
    }
    out
}

/// Up front, before `procgate run` starts the guest at `path`: one line
/// on stderr per need its `declaration` (the text of its declaration
/// section, if it has one) declares and `policy` refuses, with how to
/// allow it. A guest without a declaration prints nothing; a declaration
/// that does not parse is one warning line. Nothing is decided here: the
/// guest's requests are decided, and audited, when it makes them.
pub fn notice_refusals(path: &Path, declaration: Option<&str>, policy: &Policy) {
    let file = declare::GuestFile {
        declaration: declaration.map(str::to_string),
        ..Default::default()
    };
    match file.parsed(&path.display().to_string()) {
        Ok(None) => {}
        Ok(Some(declared)) => {
            for refusal in policy.refusals(&declared) {
                eprintln!(
                    "procgate: declared but refused: {}",
                    printable(&refusal.to_string())
                );
            }
        }
        Err(e) => eprintln!(
            "procgate: ignoring the guest's declaration: {}",
            printable(&format!("{e:#}"))
        ),
    }
}

/// `text` with control characters (but tabs) escaped, so a guest's bytes
/// cannot drive the terminal.
fn printable(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '\t' => c.to_string(),
            c if c.is_control() => c.escape_default().to_string(),
            c => c.to_string(),
        })
        .collect()
}
