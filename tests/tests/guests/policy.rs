//! The policy against a guest trying to get around it: a corpus of bypass
//! attempts (each must be refused and start nothing), and the limits,
//! sandbox and hooks at work. One module a theme: `corpus` (the bypass
//! attempts, a table of rows), `requests` (what a request carries:
//! arguments, environment, working directory, signals), `limits`,
//! `landlock` and `hooks`.
//!
//! Every case runs the `policy_probe` guest with its own policy, requests
//! and scratch directory; each request that must be refused would show its
//! effect if it ran: a marker file the program would create (which must not
//! exist after), a variable `env` would print (which must not be in the
//! output), or a process a signal would end (which the host checks is still
//! alive).

host_tests_for!(policy_probe);

mod corpus;
mod hooks;
mod landlock;
mod limits;
mod requests;

use crate::probe::s;
use procgate_tests::{scratch, PYTHON};
use std::path::{Path, PathBuf};

/// The line the probe prints for a request the policy denied by `rule`.
fn denied(rule: &str) -> String {
    format!("Err(Denied({rule:?}))")
}

/// The scratch layout a test (or one corpus case) uses, in a directory of
/// its own, removed when it is dropped.
struct Scratch {
    _dir: tempfile::TempDir,
    root: PathBuf,
    bin: PathBuf,
    grant: PathBuf,
}

impl Scratch {
    fn new(name: &str) -> Scratch {
        let dir = scratch(name);
        let root = dir.path().to_path_buf();
        let bin = root.join("bin");
        let grant = root.join("grant");
        std::fs::create_dir_all(&bin).unwrap();
        std::fs::create_dir_all(grant.join("sub")).unwrap();
        std::fs::create_dir_all(grant.join("bin")).unwrap();
        // A directory named like an allowed program, to climb out of.
        std::fs::create_dir_all(root.join("echo")).unwrap();
        let link = |target: &str, at: &Path| std::os::unix::fs::symlink(target, at).unwrap();
        link("/usr/bin/touch", &bin.join("evil"));
        link("/usr/bin/touch", &bin.join("echo"));
        link("/usr/bin/sort", &bin.join("mysort"));
        link(PYTHON, &bin.join("py"));
        // Inside the grant: ways out, and a `touch` that relative program
        // names would find from there.
        link(s(&root), &grant.join("out"));
        link("../", &grant.join("up"));
        link("sub", &grant.join("in"));
        link("/usr/bin/touch", &grant.join("touch"));
        link("/usr/bin/touch", &grant.join("bin/touch"));
        Scratch {
            _dir: dir,
            root,
            bin,
            grant,
        }
    }

    fn marker(&self, case: &str) -> PathBuf {
        self.root.join(format!("{case}.marker"))
    }

    /// `text` of a row of case `case` with its placeholders filled in (see
    /// `corpus::rows::CORPUS`); braces around anything else stay as they are.
    fn fill(&self, case: &str, text: &str) -> String {
        let mut out = String::new();
        let mut rest = text;
        while let Some(open) = rest.find('{') {
            out += &rest[..open];
            let Some(len) = rest[open..].find('}') else {
                break;
            };
            let inner = &rest[open + 1..open + len];
            let repeat = inner
                .rsplit_once('*')
                .and_then(|(t, n)| Some((t, n.parse::<usize>().ok()?)));
            match (inner, repeat) {
                ("m", _) => out += s(&self.marker(case)),
                ("root", _) => out += s(&self.root),
                ("bin", _) => out += s(&self.bin),
                ("grant", _) => out += s(&self.grant),
                ("up", _) => {
                    let depth = self.grant.canonicalize().unwrap().components().count() - 1;
                    out += &"../".repeat(depth)
                }
                (_, Some((text, n))) => out += &text.repeat(n),
                _ => out += &rest[open..=open + len],
            }
            rest = &rest[open + len + 1..];
        }
        out + rest
    }
}
