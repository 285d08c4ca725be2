//! Learn mode: run a trusted guest with everything allowed that the host
//! can still contain, record every request, and write the least-privilege
//! policy file that would have allowed exactly that run.
//!
//! Recording happens at the one decision point: a policy built with
//! [`crate::PolicyBuilder::learn`] decides as usual, except that a program
//! no entry lists (resolved on the search path to a trusted file), any
//! argument form, the shell (`/bin/sh` if none is granted) and any guest
//! variable that is not always refused ([`crate::is_refused_env`]) are
//! allowed; working directories must still lie in a grant, a forbidden
//! flag is still refused, and the sandbox is the policy's. Every decision
//! then lands in the [`Recorder`], allowed or not.
//!
//! [`learn_policy`] turns a [`Recording`] (and the policy file as it was,
//! if any) into the new file's text: programs by the name the guest used,
//! argument forms inferred across calls ([`infer_forms`]), guest variable
//! names, granted directories, signals, and limits just above what was
//! used; each rule with a comment naming the calls it came from. On an
//! existing file it adds only what the file did not already allow.
//!
//! ```
//! use procgate_policy::learn::{learn_policy, Recorder};
//! use procgate_policy::{Policy, SpawnRequest};
//! use std::sync::Arc;
//!
//! let recorder = Arc::new(Recorder::default());
//! let policy = Policy::builder().learn(recorder.clone()).build().unwrap();
//! let args = ["-n".to_string(), "hello".to_string()];
//! policy.decide_spawn(&SpawnRequest::exec("echo", &args)).unwrap();
//! let learned = learn_policy(None, ".".as_ref(), &[], &recorder.recording()).unwrap();
//! assert!(learned.text.contains("program = \"echo\""));
//! assert!(learned.text.contains("{ match = [\"-n\", \"hello\"] }"));
//! ```

use crate::limits::{arg_bytes, Usage};
use crate::request::{Command, SignalRequest, SpawnPlan, SpawnRequest};
use crate::signal::Signal;
use crate::Error;
use std::path::PathBuf;
use std::sync::Mutex;

pub use crate::learn_diff::line_diff;
pub use crate::learn_file::{learn_policy, learning_builder, remember, Learned, Remember};
pub use crate::learn_forms::{infer_forms, open_form, Form, Pat};

/// Collects the requests of a guest run in learn mode; shared between the
/// policy (which records) and the caller (which reads the
/// [`Recording`] when the run is over).
#[derive(Debug, Default)]
pub struct Recorder {
    recording: Mutex<Recording>,
}

/// Every request of a run, in the order the guest made them.
#[derive(Debug, Clone, Default)]
pub struct Recording {
    /// The spawn requests.
    pub spawns: Vec<SpawnRecord>,
    /// The signal requests.
    pub signals: Vec<SignalRecord>,
    /// Requests so far (spawns and signals), the number of the next one.
    calls: usize,
}

/// What a spawn request ran.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Recorded {
    /// `create-subprocess-exec`: the program as the guest named it, and its
    /// arguments.
    Exec {
        /// The program as the guest named it.
        program: String,
        /// The arguments after `argv[0]`.
        args: Vec<String>,
    },
    /// `create-subprocess-shell`: the command line.
    Shell {
        /// The command line.
        cmd: String,
    },
}

/// One spawn request and what became of it.
#[derive(Debug, Clone)]
pub struct SpawnRecord {
    /// The request's number in the run (spawns and signals), from 1.
    pub call: usize,
    /// What it asked to run.
    pub command: Recorded,
    /// The file executed, if it was allowed.
    pub resolved: Option<PathBuf>,
    /// The names of the variables the guest set (values are not kept).
    pub env_names: Vec<String>,
    /// The working directory the guest asked for (a guest path), if any.
    pub cwd: Option<String>,
    /// The child's working directory on the host, if it was allowed.
    pub cwd_host: Option<PathBuf>,
    /// Bytes of `argv` (each with its NUL), if it was allowed.
    pub arg_bytes: usize,
    /// Bytes of the child's whole environment, if it was allowed.
    pub env_bytes: usize,
    /// What the guest had used when it asked.
    pub usage: Usage,
    /// Why it was refused even in learn mode; none if it was allowed.
    pub refused: Option<String>,
}

/// One signal request and what became of it.
#[derive(Debug, Clone)]
pub struct SignalRecord {
    /// The request's number in the run, from 1.
    pub call: usize,
    /// The signal.
    pub signal: Signal,
    /// Why it was refused; none if it was allowed.
    pub refused: Option<String>,
}

impl Recorder {
    /// What was recorded so far.
    pub fn recording(&self) -> Recording {
        self.lock().clone()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Recording> {
        // A panic elsewhere while recording leaves a consistent list.
        self.recording.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Records a spawn decision (called by the decide path only).
    pub(crate) fn spawn(&self, req: &SpawnRequest<'_>, outcome: Result<&SpawnPlan, &Error>) {
        let command = match req.command {
            Command::Exec { program, args } => Recorded::Exec {
                program: program.to_string(),
                args: args.to_vec(),
            },
            Command::Shell { cmd } => Recorded::Shell {
                cmd: cmd.to_string(),
            },
        };
        let plan = outcome.ok();
        let mut rec = self.lock();
        rec.calls += 1;
        let record = SpawnRecord {
            call: rec.calls,
            command,
            resolved: plan.map(|p| p.program.clone()),
            env_names: req.env.iter().map(|(k, _)| k.clone()).collect(),
            cwd: req.cwd.map(str::to_string),
            cwd_host: plan.map(|p| p.cwd.clone()),
            arg_bytes: plan.map_or(0, |p| {
                arg_bytes(std::iter::once(p.arg0.as_str()).chain(p.args.iter().map(|a| a.as_str())))
            }),
            env_bytes: plan.map_or(0, |p| {
                p.env.iter().map(|(k, v)| k.len() + v.len() + 2).sum()
            }),
            usage: req.usage,
            refused: outcome.err().map(|e| e.to_string()),
        };
        rec.spawns.push(record);
    }

    /// Records a signal decision (called by the decide path only).
    pub(crate) fn signal(&self, req: &SignalRequest, outcome: Result<&(), &Error>) {
        let mut rec = self.lock();
        rec.calls += 1;
        let record = SignalRecord {
            call: rec.calls,
            signal: req.signal,
            refused: outcome.err().map(|e| e.to_string()),
        };
        rec.signals.push(record);
    }
}

impl Recorded {
    /// The request as a command line, for comments (`ls -l /work`,
    /// `sh -c 'echo hi'`); long ones are cut.
    pub fn display(&self) -> String {
        let words: Vec<String> = match self {
            Recorded::Exec { program, args } => std::iter::once(program)
                .chain(args)
                .map(|w| quote(w))
                .collect(),
            Recorded::Shell { cmd } => vec!["sh".into(), "-c".into(), quote(cmd)],
        };
        let line = words.join(" ");
        match line.char_indices().nth(72) {
            Some((cut, _)) => format!("{}…", &line[..cut]),
            None => line,
        }
    }
}

/// A word as a shell would need it quoted, control characters escaped
/// (the result goes into a TOML comment: one line).
fn quote(word: &str) -> String {
    let plain = !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./=:,+%@".contains(c));
    if plain {
        word.to_string()
    } else {
        format!("{word:?}")
    }
}

#[cfg(test)]
#[path = "learn_tests.rs"]
mod tests;
