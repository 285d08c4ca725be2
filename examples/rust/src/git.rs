//! `git log`, parsed: code written against `std::process::Command`, as a
//! crate on crates.io would be. In a guest it runs through procgate; the
//! only change is the `use` line, chosen here by target so that the very
//! same function also runs natively with std (see the test below).

use std::io;
use std::path::Path;

#[cfg(target_family = "wasm")]
use procgate_guest::process::Command;
#[cfg(not(target_family = "wasm"))]
use std::process::Command;

/// One commit of `git log`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Commit {
    /// The full hash.
    pub hash: String,
    /// The author's name.
    pub author: String,
    /// The author's e-mail address.
    pub email: String,
    /// The author date, in seconds since the epoch.
    pub time: i64,
    /// The subject line.
    pub subject: String,
}

/// Fields end with US (0x1f), records with RS (0x1e): neither appears in
/// names or subjects.
const FORMAT: &str = "--format=%H%x1f%an%x1f%ae%x1f%at%x1f%s%x1e";

/// The last `max` commits of the repository at `repo`, newest first.
pub fn log(repo: &Path, max: usize) -> io::Result<Vec<Commit>> {
    let output = Command::new("git")
        .arg("log")
        .arg(format!("--max-count={max}"))
        .arg(FORMAT)
        .current_dir(repo)
        .output()?;
    if !output.status.success() {
        return Err(io::Error::other(format!(
            "git log failed ({}): {}",
            output.status,
            String::from_utf8_lossy(&output.stderr).trim()
        )));
    }
    let text = String::from_utf8(output.stdout)
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
    text.split('\x1e')
        .map(str::trim_start)
        .filter(|record| !record.is_empty())
        .map(parse)
        .collect()
}

fn parse(record: &str) -> io::Result<Commit> {
    let bad = || io::Error::new(io::ErrorKind::InvalidData, format!("bad record {record:?}"));
    let mut fields = record.split('\x1f');
    let mut next = || fields.next().map(str::to_owned).ok_or_else(bad);
    Ok(Commit {
        hash: next()?,
        author: next()?,
        email: next()?,
        time: next()?.parse().map_err(|_| bad())?,
        subject: next()?,
    })
}

#[cfg(all(test, not(target_family = "wasm")))]
mod tests {
    /// The same function with `std::process::Command`, on this checkout.
    #[test]
    fn log_parses_this_checkout_with_std() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        if !root.join(".git").exists() {
            eprintln!("skipped: {} is not a git checkout", root.display());
            return;
        }
        let commits = super::log(&root, 3).unwrap();
        assert!(!commits.is_empty());
        for c in &commits {
            assert_eq!(c.hash.len(), 40, "{c:?}");
            assert!(c.hash.chars().all(|ch| ch.is_ascii_hexdigit()), "{c:?}");
            assert!(c.time > 0, "{c:?}");
        }
    }
}
