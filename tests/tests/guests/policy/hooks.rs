//! Hooks: they decide after the policy allows, and see exactly what would
//! start.

use super::{denied, Scratch};
use crate::probe::{exec, kill_kept, lines_of, s};
use procgate::hooks::ProcgateHooks;
use procgate::policy::SpawnPlan;
use procgate::signals::Signal;
use procgate_tests::{allow, GuestRun};

/// Hooks that refuse any spawn with an argument `forbidden` and any
/// signal, and record what they saw.
#[derive(Clone, Default)]
struct Recorder(std::sync::Arc<std::sync::Mutex<Vec<String>>>);

impl ProcgateHooks for Recorder {
    fn on_spawn(&self, plan: &SpawnPlan) -> Result<(), String> {
        self.0.lock().unwrap().push(format!(
            "spawn {} {:?} in {}",
            plan.program.display(),
            plan.args,
            plan.cwd.display()
        ));
        if plan.args.iter().any(|a| a == "forbidden") {
            return Err("the user said no".into());
        }
        Ok(())
    }

    fn on_signal(&self, _pid: u32, signal: Signal) -> Result<(), String> {
        self.0
            .lock()
            .unwrap()
            .push(format!("signal {}", signal.name()));
        Err("signals need a confirmation".into())
    }
}

#[test]
fn hooks_decide_after_the_policy_allows() {
    let sc = Scratch::new("hooks_decide_after_the_policy_allows");
    let marker = sc.marker("hook");
    let recorder = Recorder::default();
    let policy = allow(&["touch", "sleep"])
        .dir(&sc.grant, "/work")
        .build()
        .unwrap();
    let reqs = [
        exec("touch", &[s(&marker), "forbidden"]),
        exec("sh", &[]),
        exec("sleep", &["100"]).keep(),
        kill_kept(0),
    ];
    let args: Vec<&str> = reqs.iter().map(|r| r.0.as_str()).collect();
    let run = GuestRun::new("policy_probe", &args, policy)
        .hooks(recorder.clone())
        .run()
        .unwrap_or_else(|(e, run)| panic!("{e:?}\n{run}"));
    let lines = lines_of(&run);
    assert_eq!(lines[0], denied("hook refused: the user said no"), "{run}");
    assert_eq!(
        lines[1],
        denied("program \"sh\" not in allow list"),
        "{run}"
    );
    assert_eq!(lines[2], "kept 0", "{run}");
    assert!(
        lines[3].starts_with("kill Err(Denied(\"hook refused: signals need a confirmation\"))"),
        "{run}"
    );
    assert!(!marker.exists());
    let seen = recorder.0.lock().unwrap().clone();
    let grant = sc.grant.canonicalize().unwrap();
    assert_eq!(
        seen,
        [
            format!(
                "spawn /usr/bin/touch [{:?}, \"forbidden\"] in {}",
                s(&marker),
                grant.display()
            ),
            format!("spawn /usr/bin/sleep [\"100\"] in {}", grant.display()),
            "signal kill".to_string(),
        ]
    );
}
