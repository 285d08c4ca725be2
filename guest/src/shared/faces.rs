//! What both faces' types do alike, written once: their fields have the
//! same names (`core`, `stdin`, `stdout`, `stderr`), which a generic cannot
//! reach on two distinct public types, hence a macro.

use super::communicate::Communicates;
use super::*;

/// For the types of face `$face` (`sync` or `aio`): `Debug` of the process
/// and its streams, the cores a `communicate` reaches, and the process as
/// the [`Spawned`] parts the other face is built from.
macro_rules! faces {
    ($($face:ident),*) => {$(
        impl std::fmt::Debug for crate::$face::Process {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.debug_struct("Process")
                    .field("pid", &self.pid())
                    .field("stdin", &self.stdin.is_some())
                    .field("stdout", &self.stdout.is_some())
                    .field("stderr", &self.stderr.is_some())
                    .finish_non_exhaustive()
            }
        }

        impl std::fmt::Debug for crate::$face::StreamReader {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.debug_struct("StreamReader")
                    .field("buffer", &self.core.buf)
                    .finish_non_exhaustive()
            }
        }

        impl std::fmt::Debug for crate::$face::StreamWriter {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.debug_struct("StreamWriter")
                    .field("buffered", &self.core.pending.len())
                    .field("closing", &self.is_closing())
                    .finish_non_exhaustive()
            }
        }

        impl Communicates for crate::$face::Process {
            fn cores(&mut self) -> (&ProcCore, Option<&mut ReaderCore>, Option<&mut ReaderCore>) {
                let stdout = self.stdout.as_mut().map(|r| &mut *r.core);
                (&self.core, stdout, self.stderr.as_mut().map(|r| &mut *r.core))
            }
        }

        impl crate::$face::Process {
            /// The process and its streams as cores, what they buffered
            /// kept (an async writer's background `close` still running
            /// is left to finish on the reactor, if one runs).
            pub(crate) fn into_spawned(self) -> Spawned {
                Spawned {
                    stdin: self.stdin.map(|w| *w.core),
                    stdout: self.stdout.map(|r| *r.core),
                    stderr: self.stderr.map(|r| *r.core),
                    proc: self.core,
                }
            }
        }
    )*};
}

faces!(sync, aio);
