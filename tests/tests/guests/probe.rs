//! The requests of the `policy_probe` guest
//! (`tests/guests/src/bin/policy_probe.rs`), shared by the policy tests
//! (`policy.rs`, `policy_attacks.rs`): one text per request, run in order.
//! The operations named in the texts are checked against the guest's own
//! `match` with `guest_case!` (a misspelt or removed one does not compile);
//! the `key=` names after them are not checked.

use procgate::Policy;
use procgate_tests::{guest_case, Checkpoints, GuestRun, Run};
use std::path::Path;

const EXEC: &str = guest_case!(policy_probe, "exec");
const SHELL: &str = guest_case!(policy_probe, "shell");
const KILL_KEPT: &str = guest_case!(policy_probe, "kill-kept");

/// One request of the probe (see `tests/guests/src/bin/policy_probe.rs`).
#[derive(Clone)]
pub(crate) struct Req(pub(crate) String);

pub(crate) fn escape(s: &str) -> String {
    s.replace('\0', "\\0").replace('\n', "\\n")
}

pub(crate) fn exec(program: &str, args: &[&str]) -> Req {
    let mut text = format!("{EXEC}\nprogram={}", escape(program));
    for a in args {
        text += &format!("\narg={}", escape(a));
    }
    Req(text)
}

pub(crate) fn shell(cmd: &str) -> Req {
    Req(format!("{SHELL}\ncmd={}", escape(cmd)))
}

/// Kills the `idx`th kept process and waits for it.
pub(crate) fn kill_kept(idx: usize) -> Req {
    Req(format!("{KILL_KEPT}\nidx={idx}"))
}

impl Req {
    pub(crate) fn env(self, k: &str, v: &str) -> Req {
        Req(format!("{}\nenv={}={}", self.0, escape(k), escape(v)))
    }
    pub(crate) fn cwd(self, cwd: &str) -> Req {
        Req(format!("{}\ncwd={}", self.0, escape(cwd)))
    }
    pub(crate) fn pipe(self) -> Req {
        Req(format!("{}\npipe=1", self.0))
    }
    pub(crate) fn keep(self) -> Req {
        Req(format!("{}\nkeep=1", self.0))
    }
    pub(crate) fn kill(self) -> Req {
        Req(format!("{}\nkill=1", self.0))
    }
    /// After a `kill-kept`, ask the host whether the kept process is alive.
    pub(crate) fn then_check_alive(self) -> Req {
        Req(format!("{}\ncheck=alive", self.0))
    }
}

/// A request as a `const` template, for tables: what [`exec`], [`shell`]
/// and [`kill_kept`] and the methods of [`Req`] build, with placeholders
/// in its texts that [`Step::req`] fills in.
#[derive(Clone, Copy)]
pub(crate) struct Step {
    op: &'static str,
    /// The program of an `exec`, the command of a `shell`.
    text: &'static str,
    args: &'static [&'static str],
    env: Option<(&'static str, &'static str)>,
    cwd: Option<&'static str>,
    idx: usize,
    pipe: bool,
    keep: bool,
    check_alive: bool,
}

impl Step {
    const fn new(op: &'static str, text: &'static str) -> Step {
        Step {
            op,
            text,
            args: &[],
            env: None,
            cwd: None,
            idx: 0,
            pipe: false,
            keep: false,
            check_alive: false,
        }
    }
    pub(crate) const fn exec(program: &'static str, args: &'static [&'static str]) -> Step {
        Step {
            args,
            ..Step::new(EXEC, program)
        }
    }
    pub(crate) const fn shell(cmd: &'static str) -> Step {
        Step::new(SHELL, cmd)
    }
    pub(crate) const fn kill_kept(idx: usize) -> Step {
        Step {
            idx,
            ..Step::new(KILL_KEPT, "")
        }
    }
    pub(crate) const fn env(self, k: &'static str, v: &'static str) -> Step {
        Step {
            env: Some((k, v)),
            ..self
        }
    }
    pub(crate) const fn cwd(self, cwd: &'static str) -> Step {
        Step {
            cwd: Some(cwd),
            ..self
        }
    }
    pub(crate) const fn pipe(self) -> Step {
        Step { pipe: true, ..self }
    }
    pub(crate) const fn keep(self) -> Step {
        Step { keep: true, ..self }
    }
    pub(crate) const fn then_check_alive(self) -> Step {
        Step {
            check_alive: true,
            ..self
        }
    }

    /// The arguments of an `exec`, placeholders unfilled.
    pub(crate) fn args(&self) -> &'static [&'static str] {
        self.args
    }

    /// The request, with each text (program, command, arguments, variable,
    /// working directory) passed through `fill`.
    pub(crate) fn req(&self, fill: impl Fn(&str) -> String) -> Req {
        let mut req = match self.op {
            EXEC => {
                let args: Vec<String> = self.args.iter().map(|a| fill(a)).collect();
                let args: Vec<&str> = args.iter().map(String::as_str).collect();
                exec(&fill(self.text), &args)
            }
            SHELL => shell(&fill(self.text)),
            _ => kill_kept(self.idx),
        };
        if let Some((k, v)) = self.env {
            req = req.env(&fill(k), &fill(v));
        }
        if let Some(cwd) = self.cwd {
            req = req.cwd(&fill(cwd));
        }
        if self.pipe {
            req = req.pipe();
        }
        if self.keep {
            req = req.keep();
        }
        if self.check_alive {
            req = req.then_check_alive();
        }
        req
    }
}

/// Runs the probe under `policy` and returns its output lines, without
/// the step numbers.
/// The probe's `check=` requests are answered by [`Checkpoints`] in the
/// host while the guest runs.
pub(crate) fn probe(policy: Policy, reqs: &[Req]) -> (Vec<String>, Run) {
    let args: Vec<&str> = reqs.iter().map(|r| r.0.as_str()).collect();
    let run = GuestRun::new("policy_probe", &args, policy)
        .hooks(Checkpoints::default())
        .run()
        .unwrap_or_else(|(e, run)| panic!("policy_probe trapped: {e:?}\n{run}"));
    run.assert_ok();
    (lines_of(&run), run)
}

pub(crate) fn lines_of(run: &Run) -> Vec<String> {
    run.lines()
        .iter()
        .map(|l| l.split_once(' ').map(|(_, r)| r).unwrap_or(l).to_string())
        .collect()
}

pub(crate) fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}
