//! The progress line while a guest compiles: when a compile has taken
//! [`DELAY`] and stderr is a terminal, `compiling NAME (SIZE) for the first
//! time…` is printed, and ` cached` (or ` done`) ends the line when the
//! compile does. A cache hit, a quick compile, or stderr that is not a
//! terminal (a pipe, a file, CI) prints nothing.

use crate::units::show_size;
use procgate::cache::LoadStep;
use std::io::{IsTerminal, Write};
use std::path::Path;
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::Duration;

/// How long a compile runs before the line appears, unless
/// `$PROCGATE_PROGRESS_AFTER` (a duration: `0`, `2s`) says otherwise.
pub const DELAY: Duration = Duration::from_millis(500);

/// The variable that changes [`DELAY`] (`0` shows the line for every compile).
pub const DELAY_VAR: &str = "PROCGATE_PROGRESS_AFTER";

fn delay() -> Duration {
    match std::env::var(DELAY_VAR) {
        Ok(v) if v.trim() == "0" => Duration::ZERO,
        Ok(v) => crate::units::duration(&v).unwrap_or(DELAY),
        Err(_) => DELAY,
    }
}

/// The progress of one load.
pub struct Progress {
    name: String,
    terminal: bool,
    /// The thread that prints the line after [`DELAY`], and how to tell it
    /// the compile ended (whether it was cached).
    waiter: Option<(mpsc::Sender<bool>, JoinHandle<()>)>,
}

impl Progress {
    /// The progress of loading `path`; silent unless stderr is a terminal.
    pub fn new(path: &Path) -> Progress {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| path.display().to_string());
        Progress {
            name,
            terminal: std::io::stderr().is_terminal(),
            waiter: None,
        }
    }

    /// Follows the cache's steps.
    pub fn step(&mut self, step: LoadStep) {
        match step {
            LoadStep::Compiling { bytes } if self.terminal => {
                let line = format!(
                    "compiling {} ({}) for the first time…",
                    self.name,
                    show_size(bytes)
                );
                let (tx, rx) = mpsc::channel::<bool>();
                let delay = delay();
                let show = |line: &str| {
                    let mut err = std::io::stderr().lock();
                    let _ = write!(err, "{line}");
                    let _ = err.flush();
                };
                // With no delay the line is shown before the compile starts
                // (a thread started now might see it end first).
                if delay.is_zero() {
                    show(&line);
                }
                let thread = std::thread::spawn(move || {
                    if !delay.is_zero() {
                        match rx.recv_timeout(delay) {
                            Ok(_) | Err(mpsc::RecvTimeoutError::Disconnected) => return,
                            Err(mpsc::RecvTimeoutError::Timeout) => show(&line),
                        }
                    }
                    let end = if rx.recv().unwrap_or(false) {
                        " cached"
                    } else {
                        " done"
                    };
                    eprintln!("{end}");
                });
                self.waiter = Some((tx, thread));
            }
            LoadStep::Compiling { .. } => {}
            LoadStep::Compiled { cached } => {
                if let Some((tx, thread)) = self.waiter.take() {
                    let _ = tx.send(cached);
                    let _ = thread.join();
                }
            }
        }
    }

    /// Ends the line if a compile is still shown (an error on the way).
    pub fn finish(&mut self) {
        self.step(LoadStep::Compiled { cached: false });
    }
}
