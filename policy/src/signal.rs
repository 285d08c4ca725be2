//! POSIX signals a guest may send, by name: the policy's `signals.allow`
//! and the WIT `signal` enum (whose conversion lives in the wasmtime glue).

use serde::{Deserialize, Deserializer};

macro_rules! signals {
    ($($variant:ident $name:literal $libc:ident,)*) => {
        /// A POSIX signal from the WIT `signal` enum.
        ///
        /// ```
        /// use procgate_policy::Signal;
        /// assert_eq!(Signal::from_name("term"), Some(Signal::Term));
        /// assert_eq!(Signal::Term.number(), libc::SIGTERM);
        /// ```
        ///
        /// In a policy file a signal is named either way: `"term"` or
        /// `"SIGTERM"`.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum Signal {
            $(
                #[doc = concat!("`", stringify!($libc), "`")]
                $variant,
            )*
        }

        impl Signal {
            /// The signal's number on this host.
            pub fn number(self) -> i32 {
                match self { $(Signal::$variant => libc::$libc,)* }
            }

            /// The signal's lowercase WIT name (`term`, `kill`, ...).
            pub fn name(self) -> &'static str {
                match self { $(Signal::$variant => $name,)* }
            }

            /// The signal named `name` (`term` or `SIGTERM`, any case).
            pub fn from_name(name: &str) -> Option<Signal> {
                let lower = name.to_ascii_lowercase();
                let lower = lower.strip_prefix("sig").unwrap_or(&lower);
                match lower { $($name => Some(Signal::$variant),)* _ => None }
            }
        }

        impl<'de> Deserialize<'de> for Signal {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Signal, D::Error> {
                struct Name;
                impl serde::de::Visitor<'_> for Name {
                    type Value = Signal;
                    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                        f.write_str("a signal name such as \"term\" or \"SIGTERM\"")
                    }
                    fn visit_str<E: serde::de::Error>(self, name: &str) -> Result<Signal, E> {
                        Signal::from_name(name).ok_or_else(|| {
                            E::custom(format!(
                                "unknown signal {name:?}: expected a name such as \"term\" or \"SIGTERM\""
                            ))
                        })
                    }
                }
                d.deserialize_str(Name)
            }
        }
    };
}

signals! {
    Hup "hup" SIGHUP,
    Int "int" SIGINT,
    Quit "quit" SIGQUIT,
    Ill "ill" SIGILL,
    Trap "trap" SIGTRAP,
    Abrt "abrt" SIGABRT,
    Bus "bus" SIGBUS,
    Fpe "fpe" SIGFPE,
    Kill "kill" SIGKILL,
    Usr1 "usr1" SIGUSR1,
    Segv "segv" SIGSEGV,
    Usr2 "usr2" SIGUSR2,
    Pipe "pipe" SIGPIPE,
    Alrm "alrm" SIGALRM,
    Term "term" SIGTERM,
    Chld "chld" SIGCHLD,
    Cont "cont" SIGCONT,
    Stop "stop" SIGSTOP,
    Tstp "tstp" SIGTSTP,
    Ttin "ttin" SIGTTIN,
    Ttou "ttou" SIGTTOU,
    Urg "urg" SIGURG,
    Xcpu "xcpu" SIGXCPU,
    Xfsz "xfsz" SIGXFSZ,
    Vtalrm "vtalrm" SIGVTALRM,
    Prof "prof" SIGPROF,
    Winch "winch" SIGWINCH,
    Io "io" SIGIO,
    Pwr "pwr" SIGPWR,
    Sys "sys" SIGSYS,
}
