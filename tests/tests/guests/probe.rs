//! The requests of the `policy_probe` guest
//! (`tests/guests/src/bin/policy_probe.rs`), shared by the policy tests
//! (`policy.rs`, `policy_attacks.rs`): one text per request, run in order.

use procgate::Policy;
use procgate_tests::{Checkpoints, GuestRun, Run};
use std::path::Path;

/// One request of the probe (see `tests/guests/src/bin/policy_probe.rs`).
#[derive(Clone)]
pub(crate) struct Req(pub(crate) String);

pub(crate) fn escape(s: &str) -> String {
    s.replace('\0', "\\0").replace('\n', "\\n")
}

pub(crate) fn exec(program: &str, args: &[&str]) -> Req {
    let mut text = format!("exec\nprogram={}", escape(program));
    for a in args {
        text += &format!("\narg={}", escape(a));
    }
    Req(text)
}

pub(crate) fn shell(cmd: &str) -> Req {
    Req(format!("shell\ncmd={}", escape(cmd)))
}

pub(crate) fn on_kept(op: &str, idx: usize) -> Req {
    Req(format!("{op}\nidx={idx}"))
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
