//! The examples of Python's `asyncio.subprocess` documentation as procgate
//! Rust guests: `shell` (run a shell command and show its result), `gather`
//! (two such commands at once) and `date` (read a line from a child); and
//! `gitlog`, code written against `std::process::Command` ([`git`]) run
//! in a guest by changing one `use` line.
//!
//! Build them with
//! `cargo build --release --target wasm32-wasip2 -p procgate-examples`.
//! This library holds what they share.

#![warn(missing_docs)]

pub mod git;

/// Python's `repr` of a string, for printing a command as the Python
/// examples do with `{cmd!r}`: single quotes unless the text holds a single
/// quote and no double quote.
///
/// ```
/// assert_eq!(procgate_examples::repr("ls /zzz"), "'ls /zzz'");
/// assert_eq!(procgate_examples::repr(r#"echo "hello""#), r#"'echo "hello"'"#);
/// assert_eq!(procgate_examples::repr("it's"), r#""it's""#);
/// ```
pub fn repr(text: &str) -> String {
    let quote = if text.contains('\'') && !text.contains('"') {
        '"'
    } else {
        '\''
    };
    let mut out = String::with_capacity(text.len() + 2);
    out.push(quote);
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                out.push_str(&format!("\\x{:02x}", c as u32));
            }
            c => out.push(c),
        }
    }
    out.push(quote);
    out
}

/// Print a finished command's result as the Python example does:
///
/// ```python
/// print(f'[{cmd!r} exited with {proc.returncode}]')
/// if stdout:
///     print(f'[stdout]\n{stdout.decode()}')
/// if stderr:
///     print(f'[stderr]\n{stderr.decode()}')
/// ```
pub fn print_result(cmd: &str, returncode: i32, stdout: Option<&[u8]>, stderr: Option<&[u8]>) {
    println!("[{} exited with {returncode}]", repr(cmd));
    if let Some(out) = stdout.filter(|o| !o.is_empty()) {
        println!("[stdout]\n{}", String::from_utf8_lossy(out));
    }
    if let Some(err) = stderr.filter(|e| !e.is_empty()) {
        println!("[stderr]\n{}", String::from_utf8_lossy(err));
    }
}
