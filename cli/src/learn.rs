//! `procgate run --learn FILE`: run the guest under a learning policy
//! (built from FILE if it exists), then write FILE as the least-privilege
//! policy of what the run did (or widen it), and print what changed. The
//! recording and the inference are `procgate_policy::learn`'s.

use anyhow::{Context, Result};
use procgate::policy::learn::{learn_policy, learning_builder, Recorder};
use procgate::policy::{PolicyBuilder, PolicyFile};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// One learn-mode run: the file, its text before the run, the recorder.
pub struct Learning {
    path: PathBuf,
    existing: Option<String>,
    recorder: Arc<Recorder>,
}

impl Learning {
    /// Reads FILE if it exists (a missing file is a new policy).
    pub fn start(path: &Path) -> Result<Learning> {
        let existing = match std::fs::read_to_string(path) {
            Ok(text) => Some(text),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => return Err(e).with_context(|| format!("--learn {}", path.display())),
        };
        Ok(Learning {
            path: path.to_path_buf(),
            existing,
            recorder: Arc::default(),
        })
    }

    /// The directory relative paths in the file are relative to.
    fn base(&self) -> &Path {
        match self.path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p,
            _ => Path::new("."),
        }
    }

    /// The learning policy's builder (the CLI adds the `--dir` grants).
    pub fn builder(&self) -> Result<PolicyBuilder> {
        let file = match &self.existing {
            Some(text) => Some(PolicyFile::parse(text, &self.path.display().to_string())?),
            None => None,
        };
        Ok(learning_builder(file, self.base(), self.recorder.clone()))
    }

    /// Writes the learned policy and says on stderr what changed and what
    /// was refused even in learn mode. `grants`: the run's directories.
    pub fn finish(self, grants: &[(PathBuf, String)]) -> Result<()> {
        let learned = learn_policy(
            self.existing.as_deref(),
            self.base(),
            grants,
            &self.recorder.recording(),
        )
        .with_context(|| format!("--learn {}", self.path.display()))?;
        let file = self.path.display();
        for note in &learned.notes {
            eprintln!("procgate: learn: not learned (refused even in learn mode): {note}");
        }
        if learned.diff.is_empty() {
            eprintln!("procgate: learn: {file} already allows this run; unchanged");
            return Ok(());
        }
        std::fs::write(&self.path, &learned.text).with_context(|| format!("--learn {file}"))?;
        let what = if self.existing.is_some() {
            "widened"
        } else {
            "written"
        };
        eprintln!(
            "procgate: learn: {file} {what}:\n{}",
            learned.diff.trim_end()
        );
        Ok(())
    }
}
