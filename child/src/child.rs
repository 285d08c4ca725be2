//! [`Child`]: one started process with its pipes, owned by whoever started
//! it; dropping it ends the child and everything it started.

use crate::cgroup::Containment;
use crate::children::Children;
use crate::exit::ChildExit;
use crate::pipes::{PipeReader, PipeWriter};
use std::sync::Arc;

/// One of a child's standard streams as the [`Child`] holds it: the same
/// model for stdin, stdout and stderr.
#[derive(Debug, Default)]
pub enum Pipe<T> {
    /// The stream was not created as a pipe.
    #[default]
    None,
    /// The pipe, not handed out yet.
    Held(T),
    /// Handed out (as a stream, to a communicate, to the next process of a
    /// pipeline). `Some` is a share the child keeps of an output pipe, so
    /// a communicate can read the rest of what a stream began reading.
    Taken(Option<T>),
}

/// Why a [`Pipe`] could not be handed out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unavailable {
    /// The stream was not created as a pipe.
    NotPiped,
    /// The pipe was handed out before.
    Taken,
}

impl<T> Pipe<T> {
    /// Hands the pipe out, keeping nothing.
    ///
    /// ```
    /// use procgate_child::{Pipe, Unavailable};
    /// let mut p = Pipe::Held(7);
    /// assert_eq!(p.take(), Ok(7));
    /// assert_eq!(p.take(), Err(Unavailable::Taken));
    /// assert_eq!(Pipe::<u8>::None.take(), Err(Unavailable::NotPiped));
    /// ```
    pub fn take(&mut self) -> Result<T, Unavailable> {
        match std::mem::replace(self, Pipe::Taken(None)) {
            Pipe::Held(t) => Ok(t),
            Pipe::None => {
                *self = Pipe::None;
                Err(Unavailable::NotPiped)
            }
            taken @ Pipe::Taken(_) => {
                *self = taken;
                Err(Unavailable::Taken)
            }
        }
    }

    /// The pipe if the child still has it, handed out as a share or not.
    pub fn shared(&self) -> Option<&T> {
        match self {
            Pipe::Held(t) | Pipe::Taken(Some(t)) => Some(t),
            _ => None,
        }
    }
}

impl<T: Clone> Pipe<T> {
    /// Hands out a share of the pipe, keeping one.
    ///
    /// ```
    /// use procgate_child::{Pipe, Unavailable};
    /// let mut p = Pipe::Held(7);
    /// assert_eq!(p.lend(), Ok(7));
    /// assert_eq!(p.shared(), Some(&7));
    /// assert_eq!(p.lend(), Err(Unavailable::Taken));
    /// ```
    pub fn lend(&mut self) -> Result<T, Unavailable> {
        let t = self.take()?;
        *self = Pipe::Taken(Some(t.clone()));
        Ok(t)
    }
}

/// A started child: its exit and its pipes. Dropping it ends the child and
/// everything it started, in the background ([`ChildExit::end`]: SIGTERM,
/// the grace, SIGKILL to its cgroup or group), and reaps it; a pollable or
/// communicate still holding the exit then sees the signal's code.
#[derive(Debug)]
pub struct Child {
    exit: Arc<ChildExit>,
    children: Arc<Children>,
    /// The write end of its stdin pipe.
    pub stdin: Pipe<PipeWriter>,
    /// The read end of its stdout pipe.
    pub stdout: Pipe<Arc<PipeReader>>,
    /// The read end of its stderr pipe.
    pub stderr: Pipe<Arc<PipeReader>>,
    /// Most bytes one `communicate` buffers per stream: the plan's
    /// [`SpawnPlan::communicate_cap`](procgate_policy::SpawnPlan::communicate_cap).
    communicate_cap: usize,
}

impl Child {
    /// A child `exit` watches, counted among `children`, whose
    /// communicates buffer at most `communicate_cap` bytes per stream;
    /// pipes none yet.
    pub(crate) fn new(exit: ChildExit, children: Arc<Children>, communicate_cap: usize) -> Child {
        let exit = Arc::new(exit);
        children.add(exit.clone());
        Child {
            communicate_cap,
            exit,
            children,
            stdin: Pipe::None,
            stdout: Pipe::None,
            stderr: Pipe::None,
        }
    }

    /// The child's process id.
    pub fn pid(&self) -> u32 {
        self.exit.pid()
    }

    /// What contains the child (for the audit log): its own cgroup, its
    /// process group, or only its pidfd.
    pub fn containment(&self) -> Containment {
        self.exit.containment()
    }

    /// Most bytes one `communicate` buffers from each of its stdout and
    /// stderr (its rule's, or the guest's).
    pub fn communicate_cap(&self) -> usize {
        self.communicate_cap
    }

    /// The child's exit, shared with pollables and communicates.
    pub fn exit(&self) -> &Arc<ChildExit> {
        &self.exit
    }
}

impl Drop for Child {
    fn drop(&mut self) {
        self.children.end_in_background(Arc::clone(&self.exit));
    }
}
