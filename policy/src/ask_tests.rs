//! Unit tests of the ask tier: deny > ask > allow, and who is asked.

use crate::hooks::{Answer, Consult, HookFuture, ProcgateHooks};
use crate::{ArgForm, ArgRules, Error, Policy, SpawnPlan, SpawnRequest};
use std::sync::Mutex;

/// A hook that answers every question with `answer` and remembers what it
/// was asked.
struct Answers {
    answer: Answer,
    asked: Mutex<Vec<(Consult, String)>>,
}

impl Answers {
    fn new(answer: Answer) -> Answers {
        Answers {
            answer,
            asked: Mutex::default(),
        }
    }

    fn asked(&self) -> Vec<(Consult, String)> {
        self.asked.lock().unwrap().clone()
    }
}

impl ProcgateHooks for Answers {
    fn on_spawn_async<'a>(&'a self, plan: &'a SpawnPlan, consult: Consult) -> HookFuture<'a> {
        self.asked
            .lock()
            .unwrap()
            .push((consult, plan.rule.clone()));
        Box::pin(std::future::ready(match consult {
            Consult::Ask => self.answer.clone(),
            Consult::Allowed => Answer::none(),
        }))
    }
}

fn args(words: &[&str]) -> Vec<String> {
    words.iter().map(|w| w.to_string()).collect()
}

#[test]
fn an_ask_nobody_answers_is_denied_saying_how_to_allow_it() {
    let p = Policy::builder().ask_program("true").build().unwrap();
    let err = p
        .decide_spawn(&SpawnRequest::exec("true", &[]))
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "denied: program \"true\" is in the ask tier (programs.ask: \"true\") and nothing \
         answered (no hook answers asks, no --prompt): allow it with --allow true or \
         programs.allow, or run with --prompt"
    );
}

#[test]
fn a_hook_that_only_vetoes_never_grants_an_ask() {
    // The sync hook's default `Ok(())` is a veto not used, not a yes.
    struct Veto;
    impl ProcgateHooks for Veto {
        fn on_spawn(&self, _: &SpawnPlan) -> Result<(), String> {
            Ok(())
        }
    }
    let p = Policy::builder().default_ask(true).build().unwrap();
    assert!(matches!(
        p.decide_spawn_with(&SpawnRequest::exec("true", &[]), &Veto),
        Err(Error::Denied(_))
    ));
}

#[test]
fn the_hook_decides_an_ask_and_sees_the_entry() {
    let p = Policy::builder().ask_program("true").build().unwrap();
    let yes = Answers::new(Answer::allow());
    let plan = p
        .decide_spawn_with(&SpawnRequest::exec("true", &[]), &yes)
        .unwrap();
    assert_eq!(plan.rule, "programs.ask: \"true\"");
    assert_eq!(
        yes.asked(),
        [(Consult::Ask, "programs.ask: \"true\"".to_string())]
    );
    let no = Answers::new(Answer::deny("not now").by("prompt"));
    let err = p
        .decide_spawn_with(&SpawnRequest::exec("true", &[]), &no)
        .unwrap_err();
    assert_eq!(err.to_string(), "denied: prompt refused: not now");
}

#[test]
fn allowed_requests_are_not_asked_only_offered_for_veto() {
    let p = Policy::builder()
        .allow_program("true")
        .ask_program("true")
        .build()
        .unwrap();
    let no = Answers::new(Answer::deny("no"));
    assert!(p
        .decide_spawn_with(&SpawnRequest::exec("true", &[]), &no)
        .is_ok());
    assert_eq!(
        no.asked(),
        [(Consult::Allowed, "programs: \"true\"".to_string())]
    );
}

#[test]
fn deny_entries_are_never_asked() {
    let p = Policy::builder()
        .ask_program("true")
        .default_ask(true)
        .deny_program("true")
        .build()
        .unwrap();
    let yes = Answers::new(Answer::allow());
    let err = p
        .decide_spawn_with(&SpawnRequest::exec("true", &[]), &yes)
        .unwrap_err();
    assert!(err.to_string().contains("programs.deny"), "{err}");
    assert!(yes.asked().is_empty());
}

#[test]
fn what_the_static_policy_refuses_for_another_reason_is_never_asked() {
    let yes = Answers::new(Answer::allow());
    // A forbidden flag of the program's rules.
    let p = Policy::builder()
        .allow_program_with(
            "echo",
            ArgRules::default()
                .form(ArgForm::exact(["hi"]))
                .forbid_flag("-e"),
        )
        .ask_program("echo")
        .build()
        .unwrap();
    let forbidden = args(&["-e", "x"]);
    assert!(p
        .decide_spawn_with(&SpawnRequest::exec("echo", &forbidden), &yes)
        .is_err());
    // A variable the guest may not set.
    let env = [("LD_PRELOAD".to_string(), "x".to_string())];
    let other = args(&["other"]);
    let req = SpawnRequest::exec("echo", &other).env(&env);
    assert!(p.decide_spawn_with(&req, &yes).is_err());
    // The shell, even with every program asked.
    let all = Policy::builder().default_ask(true).build().unwrap();
    assert!(all
        .decide_spawn_with(&SpawnRequest::shell("true"), &yes)
        .is_err());
    // A relative path.
    assert!(all
        .decide_spawn_with(&SpawnRequest::exec("./true", &[]), &yes)
        .is_err());
    assert!(yes.asked().is_empty(), "{:?}", yes.asked());
    // An argument list no form lists is asked.
    assert!(p
        .decide_spawn_with(&SpawnRequest::exec("echo", &other), &yes)
        .is_ok());
    assert_eq!(yes.asked().len(), 1);
}

#[test]
fn the_default_asks_about_unlisted_programs() {
    let p = Policy::builder().default_ask(true).build().unwrap();
    let yes = Answers::new(Answer::allow());
    let plan = p
        .decide_spawn_with(&SpawnRequest::exec("true", &[]), &yes)
        .unwrap();
    assert_eq!(plan.rule, "programs.default = \"ask\"");
    assert!(plan.program.is_absolute());
}

#[test]
fn ask_entries_are_checked_like_allow_entries() {
    let err = Policy::builder()
        .ask_program("./mytool")
        .build()
        .unwrap_err();
    assert!(err.to_string().contains("\"./mytool\""), "{err}");
}
