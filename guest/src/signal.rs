//! [`Signal`]: the POSIX signals a guest may send to its child, with
//! their names and Linux numbers, one table.

use std::fmt;

use crate::bindings::procgate::subprocess::types as wit;

macro_rules! signals {
    ($($variant:ident = $name:literal, $number:literal, $doc:literal;)*) => {
        /// A POSIX signal a guest may send to its child with `send_signal`.
        ///
        /// The host's policy decides which of them a guest may send.
        /// [`Signal::number`] gives the signal's number on Linux, which is
        /// what a negative return code `-N` of a child killed by a signal
        /// names on a Linux host ([`Signal::from_number`] reads it back).
        ///
        /// ```
        /// use procgate_guest::sync::create_subprocess_exec;
        /// use procgate_guest::{Options, Signal};
        ///
        /// let proc = create_subprocess_exec("sleep", ["60"], Options::new())?;
        /// proc.send_signal(Signal::Hup)?;
        /// let code = proc.wait()?;
        /// assert_eq!(Signal::from_number(-code), Some(Signal::Hup));
        /// assert_eq!(Signal::Hup.to_string(), "SIGHUP");
        /// # Ok::<(), procgate_guest::HostError>(())
        /// ```
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Signal {
            $(
                #[doc = concat!("`", $name, "` (", stringify!($number), " on Linux): ", $doc)]
                $variant,
            )*
        }

        impl Signal {
            /// Every signal, in the order of the WIT enum.
            ///
            /// ```
            /// use procgate_guest::Signal;
            ///
            /// assert!(Signal::ALL.contains(&Signal::Usr1));
            /// assert_eq!(Signal::ALL.len(), 30);
            /// ```
            pub const ALL: &'static [Signal] = &[$(Signal::$variant),*];

            /// The signal's POSIX name, e.g. `"SIGHUP"`.
            ///
            /// ```
            /// use procgate_guest::Signal;
            ///
            /// assert_eq!(Signal::Term.name(), "SIGTERM");
            /// ```
            pub fn name(self) -> &'static str {
                match self {
                    $(Signal::$variant => $name,)*
                }
            }

            /// The signal's number on Linux, e.g. 15 for `SIGTERM`.
            ///
            /// ```
            /// use procgate_guest::Signal;
            ///
            /// assert_eq!(Signal::Kill.number(), 9);
            /// ```
            pub fn number(self) -> i32 {
                match self {
                    $(Signal::$variant => $number,)*
                }
            }

            /// The signal with this number on Linux, if it is one of these.
            /// A return code `-N` means the child was killed by signal `N`.
            ///
            /// ```
            /// use procgate_guest::Signal;
            ///
            /// assert_eq!(Signal::from_number(15), Some(Signal::Term));
            /// assert_eq!(Signal::from_number(0), None);
            /// ```
            pub fn from_number(number: i32) -> Option<Signal> {
                match number {
                    $($number => Some(Signal::$variant),)*
                    _ => None,
                }
            }
        }

        impl From<Signal> for wit::Signal {
            fn from(signal: Signal) -> Self {
                match signal {
                    $(Signal::$variant => wit::Signal::$variant,)*
                }
            }
        }
    };
}

signals! {
    Hup = "SIGHUP", 1, "hangup; the controlling terminal closed.";
    Int = "SIGINT", 2, "interrupt from the keyboard (Ctrl-C).";
    Quit = "SIGQUIT", 3, "quit from the keyboard; dumps core.";
    Ill = "SIGILL", 4, "illegal instruction.";
    Trap = "SIGTRAP", 5, "trace or breakpoint trap.";
    Abrt = "SIGABRT", 6, "abort.";
    Bus = "SIGBUS", 7, "bus error (bad memory access).";
    Fpe = "SIGFPE", 8, "floating-point exception.";
    Kill = "SIGKILL", 9, "kill; cannot be caught or ignored. What `kill()` sends.";
    Usr1 = "SIGUSR1", 10, "user-defined signal 1.";
    Segv = "SIGSEGV", 11, "invalid memory reference.";
    Usr2 = "SIGUSR2", 12, "user-defined signal 2.";
    Pipe = "SIGPIPE", 13, "write to a pipe with no readers.";
    Alrm = "SIGALRM", 14, "timer signal from `alarm`.";
    Term = "SIGTERM", 15, "termination request. What `terminate()` sends.";
    Chld = "SIGCHLD", 17, "a child stopped or terminated.";
    Cont = "SIGCONT", 18, "continue if stopped.";
    Stop = "SIGSTOP", 19, "stop the process; cannot be caught or ignored.";
    Tstp = "SIGTSTP", 20, "stop typed at the terminal (Ctrl-Z).";
    Ttin = "SIGTTIN", 21, "terminal input for a background process.";
    Ttou = "SIGTTOU", 22, "terminal output for a background process.";
    Urg = "SIGURG", 23, "urgent condition on a socket.";
    Xcpu = "SIGXCPU", 24, "CPU time limit exceeded.";
    Xfsz = "SIGXFSZ", 25, "file size limit exceeded.";
    Vtalrm = "SIGVTALRM", 26, "virtual alarm clock.";
    Prof = "SIGPROF", 27, "profiling timer expired.";
    Winch = "SIGWINCH", 28, "window resize.";
    Io = "SIGIO", 29, "I/O now possible.";
    Pwr = "SIGPWR", 30, "power failure.";
    Sys = "SIGSYS", 31, "bad system call.";
}

impl fmt::Display for Signal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}
