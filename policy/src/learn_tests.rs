use super::*;
use crate::{Policy, PolicyFile, SignalRequest, SpawnRequest, Usage};
use std::path::Path;
use std::sync::Arc;

fn args(a: &[&str]) -> Vec<String> {
    a.iter().map(|s| s.to_string()).collect()
}

/// Runs `calls` (program, args) through a learning policy.
fn record(calls: &[(&str, &[&str])]) -> Recording {
    let recorder = Arc::new(Recorder::default());
    let policy = learning_builder(None, Path::new("."), recorder.clone())
        .build()
        .unwrap();
    for (i, (program, a)) in calls.iter().enumerate() {
        let a = args(a);
        let usage = Usage {
            spawned: i as u64,
            ..Usage::default()
        };
        let _ = policy.decide_spawn(&SpawnRequest::exec(program, &a).usage(usage));
    }
    recorder.recording()
}

fn policy_of(text: &str) -> Policy {
    let file = PolicyFile::parse(text, "learned.toml").unwrap();
    file.into_builder(Path::new(".")).build().unwrap()
}

fn allowed(policy: &Policy, program: &str, a: &[&str], spawned: u64) -> bool {
    let a = args(a);
    let usage = Usage {
        spawned,
        ..Usage::default()
    };
    policy
        .decide_spawn(&SpawnRequest::exec(program, &a).usage(usage))
        .is_ok()
}

#[test]
fn a_varying_position_becomes_a_pattern_and_a_fixed_flag_stays_exact() {
    let calls = vec![
        (1, args(&["-l", "/work/a.txt"])),
        (2, args(&["-l", "/work/b.txt"])),
    ];
    let forms = infer_forms(&calls);
    assert_eq!(forms.len(), 1);
    assert_eq!(
        forms[0].positions,
        vec![Pat::Exact("-l".into()), Pat::Glob("/work/*.txt".into())]
    );
    assert_eq!(forms[0].rest, None);
    assert_eq!(forms[0].calls, vec![1, 2]);
}

#[test]
fn subcommands_stay_apart_and_one_call_stays_exact() {
    let calls = vec![
        (1, args(&["status", "--short"])),
        (2, args(&["log", "-n", "3"])),
    ];
    let forms = infer_forms(&calls);
    let written: Vec<Vec<Pat>> = forms.iter().map(|f| f.positions.clone()).collect();
    assert!(written.contains(&vec![
        Pat::Exact("status".into()),
        Pat::Exact("--short".into())
    ]));
    assert!(written.contains(&vec![
        Pat::Exact("log".into()),
        Pat::Exact("-n".into()),
        Pat::Exact("3".into())
    ]));
}

#[test]
fn a_varying_count_of_values_becomes_a_rest() {
    let calls = vec![
        (1, args(&["-c", "a.rs"])),
        (2, args(&["-c", "b.rs", "c.rs", "d.rs"])),
    ];
    let forms = infer_forms(&calls);
    assert_eq!(forms.len(), 1);
    assert_eq!(
        forms[0].positions,
        vec![Pat::Exact("-c".into()), Pat::Glob("*.rs".into())]
    );
    assert_eq!(forms[0].rest, Some(Pat::Glob("*.rs".into())));
}

#[test]
fn numbers_flag_values_and_paths_across_directories() {
    let calls = vec![
        (1, args(&["--depth=1", "7", "/srv/a/x.log"])),
        (2, args(&["--depth=22", "12", "/srv/b/c/y.log"])),
    ];
    let forms = infer_forms(&calls);
    assert_eq!(
        forms[0].positions,
        vec![
            Pat::Regex("\\-\\-depth=[0-9]+".into()),
            Pat::Regex("[0-9]+".into()),
            Pat::Regex("/srv/.*\\.log".into()),
        ]
    );
    let form = forms[0].to_arg_form().unwrap();
    assert!(form.matches(&args(&["--depth=5", "3", "/srv/q/r.log"])));
    assert!(!form.matches(&args(&["--depth=x", "3", "/srv/q/r.log"])));
    assert!(!form.matches(&args(&["--depth=5", "3", "/etc/shadow"])));
}

#[test]
fn values_no_pattern_can_match_stay_exact_forms() {
    // A glob never matches a `..` component: both calls stay exact.
    let calls = vec![(1, args(&["../a.txt"])), (2, args(&["../b.txt"]))];
    let forms = infer_forms(&calls);
    assert_eq!(forms.len(), 2);
    assert!(forms
        .iter()
        .all(|f| f.positions.iter().all(|p| matches!(p, Pat::Exact(_)))));
}

#[test]
fn every_call_matches_a_form_inferred_from_it() {
    let samples: &[&[&str]] = &[
        &["-la", "."],
        &["x y", "--", "-"],
        &[""],
        &["a.b.c", "a.c"],
        &["-", "--", "-1", "-.5"],
        &["über/ä.txt", "über/ö.txt"],
        &["[x]", "{y}", "*"],
    ];
    let calls: Vec<(usize, Vec<String>)> = samples
        .iter()
        .enumerate()
        .map(|(i, a)| (i, args(a)))
        .collect();
    let forms: Vec<_> = infer_forms(&calls)
        .iter()
        .map(|f| f.to_arg_form().unwrap())
        .collect();
    for (_, a) in &calls {
        assert!(forms.iter().any(|f| f.matches(a)), "{a:?} matches no form");
    }
}

#[test]
fn learned_file_replays_with_no_denial_and_refuses_what_is_new() {
    let rec = record(&[
        ("ls", &["-l", "/tmp/a.txt"]),
        ("ls", &["-l", "/tmp/b.txt"]),
        ("true", &[]),
    ]);
    let learned = learn_policy(None, Path::new("."), &[], &rec).unwrap();
    assert!(learned.notes.is_empty(), "{:?}", learned.notes);
    let text = &learned.text;
    assert!(text.contains("program = \"ls\""), "{text}");
    assert!(
        text.contains("{ match = [\"-l\", { glob = \"/tmp/*.txt\" }] }"),
        "{text}"
    );
    assert!(
        text.contains("# calls #1, #2: ls -l /tmp/a.txt, …"),
        "{text}"
    );
    assert!(text.contains("max_spawns = 4 # the run used 3"), "{text}");
    let policy = policy_of(text);
    assert!(allowed(&policy, "ls", &["-l", "/tmp/a.txt"], 0));
    assert!(allowed(&policy, "ls", &["-l", "/tmp/c.txt"], 1));
    assert!(allowed(&policy, "true", &[], 2));
    // New behaviour: another form, another program, past the count.
    assert!(!allowed(&policy, "ls", &["-la", "/tmp/a.txt"], 0));
    assert!(!allowed(&policy, "ls", &["-l", "/etc/passwd"], 0));
    assert!(!allowed(&policy, "cat", &["/tmp/a.txt"], 0));
    assert!(!allowed(&policy, "true", &[], 4));
    assert!(policy.decide_spawn(&SpawnRequest::shell("true")).is_err());
    assert!(policy
        .decide_signal(&SignalRequest {
            pid: 1,
            signal: crate::Signal::Kill
        })
        .is_err());
}

#[test]
fn a_second_run_widens_only_as_far_as_it_needs_and_says_what_changed() {
    let first = learn_policy(None, Path::new("."), &[], &record(&[("ls", &["-l"])])).unwrap();
    let mut edited = first.text.clone();
    edited.push_str("# my own note\n");
    // The same run again: nothing to add.
    let again = learn_policy(
        Some(&edited),
        Path::new("."),
        &[],
        &record(&[("ls", &["-l"])]),
    )
    .unwrap();
    assert_eq!(again.text, edited);
    assert_eq!(again.diff, "");
    // A new form of ls and a new program: added, nothing else changed.
    let second = learn_policy(
        Some(&edited),
        Path::new("."),
        &[],
        &record(&[("ls", &["-a"]), ("true", &[])]),
    )
    .unwrap();
    assert!(second.text.contains("# my own note"));
    assert!(
        second.diff.lines().all(|l| !l.starts_with('-')),
        "{}",
        second.diff
    );
    assert!(
        second.diff.contains("+    { match = [\"-a\"] },"),
        "{}",
        second.diff
    );
    assert!(
        second.diff.contains("+program = \"true\""),
        "{}",
        second.diff
    );
    let policy = policy_of(&second.text);
    assert!(allowed(&policy, "ls", &["-l"], 0));
    assert!(allowed(&policy, "ls", &["-a"], 0));
    assert!(!allowed(&policy, "ls", &["-la"], 0));
}

#[test]
fn learn_mode_still_refuses_what_no_policy_could_allow() {
    let recorder = Arc::new(Recorder::default());
    let policy = learning_builder(None, Path::new("."), recorder.clone())
        .build()
        .unwrap();
    let env = [("LD_PRELOAD".to_string(), "/x.so".to_string())];
    assert!(policy
        .decide_spawn(&SpawnRequest::exec("true", &[]).env(&env))
        .is_err());
    assert!(policy
        .decide_spawn(&SpawnRequest::exec("./tool", &[]))
        .is_err());
    assert!(policy
        .decide_spawn(&SpawnRequest::exec("no-such-program-anywhere", &[]))
        .is_err());
    let env = [("MY_VAR".to_string(), "1".to_string())];
    assert!(policy
        .decide_spawn(
            &SpawnRequest::exec("true", &[])
                .env(&env)
                .cwd(Some("/elsewhere"))
        )
        .is_err());
    assert!(policy.decide_spawn(&SpawnRequest::shell("echo hi")).is_ok());
    let rec = recorder.recording();
    assert_eq!(rec.spawns.len(), 5);
    let learned = learn_policy(None, Path::new("."), &[], &rec).unwrap();
    assert_eq!(learned.notes.len(), 4, "{:?}", learned.notes);
    assert!(learned.notes[0].contains("env LD_PRELOAD refused"));
    assert!(
        learned.text.contains("[shell]\nallow = true"),
        "{}",
        learned.text
    );
    assert!(
        learned.text.contains("# call #5: sh -c \"echo hi\""),
        "{}",
        learned.text
    );
}

#[test]
fn variables_dirs_and_signals_are_learned() {
    let dir = tempfile::tempdir().unwrap();
    let recorder = Arc::new(Recorder::default());
    let policy = learning_builder(None, dir.path(), recorder.clone())
        .dir(dir.path(), "/work")
        .build()
        .unwrap();
    let env = [("MY_VAR".to_string(), "1".to_string())];
    policy
        .decide_spawn(&SpawnRequest::exec("true", &[]).env(&env).cwd(Some("/work")))
        .unwrap();
    policy
        .decide_signal(&SignalRequest {
            pid: 1,
            signal: crate::Signal::Term,
        })
        .unwrap();
    let grants = [(dir.path().to_path_buf(), "/work".to_string())];
    let learned = learn_policy(None, dir.path(), &grants, &recorder.recording()).unwrap();
    let text = &learned.text;
    assert!(
        text.contains("guest_may_set = [\n    # call #1: true\n    \"MY_VAR\",\n]"),
        "{text}"
    );
    assert!(text.contains("host = \".\"\nguest = \"/work\""), "{text}");
    assert!(text.contains("allow = [\"term\"]"), "{text}");
    let file = PolicyFile::parse(text, "learned.toml").unwrap();
    let policy = file.into_builder(dir.path()).build().unwrap();
    assert!(policy
        .decide_spawn(&SpawnRequest::exec("true", &[]).env(&env).cwd(Some("/work")))
        .is_ok());
    let other = [("OTHER".to_string(), "1".to_string())];
    assert!(policy
        .decide_spawn(&SpawnRequest::exec("true", &[]).env(&other))
        .is_err());
}

#[test]
fn learn_mode_keeps_the_flags_a_file_forbids() {
    let text = "[[programs.rules]]\nprogram = \"find\"\nforbid_flags = [\"-exec\"]\nargs = [{ match = [\".\"] }]\n";
    let file = PolicyFile::parse(text, "p.toml").unwrap();
    let recorder = Arc::new(Recorder::default());
    let policy = learning_builder(Some(file), Path::new("."), recorder.clone())
        .build()
        .unwrap();
    let ok = args(&[".", "-name", "x"]);
    assert!(policy
        .decide_spawn(&SpawnRequest::exec("find", &ok))
        .is_ok());
    let attack = args(&[".", "-exec", "sh", "{}", ";"]);
    let err = policy
        .decide_spawn(&SpawnRequest::exec("find", &attack))
        .unwrap_err();
    assert!(
        err.to_string().contains("forbidden flag \"-exec\""),
        "{err}"
    );
    let learned = learn_policy(Some(text), Path::new("."), &[], &recorder.recording()).unwrap();
    assert_eq!(learned.notes.len(), 1, "{:?}", learned.notes);
    assert!(learned.text.contains("forbid_flags = [\"-exec\"]"));
}

#[test]
fn learn_mode_refuses_a_program_children_could_have_planted() {
    let dir = tempfile::tempdir().unwrap();
    let planted = dir.path().join("tool");
    std::fs::copy("/bin/true", &planted).unwrap();
    let recorder = Arc::new(Recorder::default());
    let policy = learning_builder(None, dir.path(), recorder)
        .dir(dir.path(), "/work")
        .build()
        .unwrap();
    let program = planted.canonicalize().unwrap();
    let err = policy
        .decide_spawn(&SpawnRequest::exec(program.to_str().unwrap(), &[]))
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("which the guest's children may write"),
        "{err}"
    );
}

#[test]
fn different_flags_at_one_position_make_different_forms() {
    let calls = vec![(1, args(&["-l", "a.txt"])), (2, args(&["-a", "b.txt"]))];
    let forms = infer_forms(&calls);
    let written: Vec<Vec<Pat>> = forms.iter().map(|f| f.positions.clone()).collect();
    assert_eq!(
        written,
        vec![
            vec![Pat::Exact("-a".into()), Pat::Exact("b.txt".into())],
            vec![Pat::Exact("-l".into()), Pat::Exact("a.txt".into())],
        ]
    );
}
