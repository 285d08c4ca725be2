//! Learn mode with a real guest: `learn_probe` runs commands under a
//! learning policy, the recording becomes a policy file
//! (`procgate_policy::learn`), and the same run under that file is allowed
//! in full while new behaviour is refused; a second learning run widens the
//! file only where it needs to.

host_tests_for!(learn_probe);

use procgate::policy::learn::{learn_policy, learning_builder, Learned, Recorder};
use procgate::policy::PolicyFile;
use procgate_tests::{run_guest, scratch, Run};
use std::path::Path;
use std::sync::Arc;

/// The commands of the first run (see `learn_probe`): two `ls -l` of files
/// in /etc, an `echo`, a child with a variable in the granted directory, a
/// shell, a child sent SIGTERM.
const FIRST: &[&str] = &[
    "ls",
    "-l",
    "/etc/hostname",
    ";",
    "ls",
    "-l",
    "/etc/hosts",
    ";",
    "echo",
    "hello",
    ";",
    "MY_NAME=x",
    "@/work",
    "true",
    ";",
    "sh:echo from-shell",
    ";",
    "kill:sleep",
    "5",
];

/// A learning run of `learn_probe` with `args`, merged into `existing`.
fn learn(dir: &Path, existing: Option<&str>, args: &[&str]) -> (Run, Learned) {
    let recorder = Arc::new(Recorder::default());
    let file = existing.map(|t| PolicyFile::parse(t, "learned.toml").unwrap());
    let policy = learning_builder(file, dir, recorder.clone())
        .dir(dir, "/work")
        .build()
        .unwrap();
    let run = run_guest("learn_probe", args, policy);
    let grants = [(dir.to_path_buf(), "/work".to_string())];
    let learned = learn_policy(existing, dir, &grants, &recorder.recording()).unwrap();
    (run, learned)
}

/// A run of `learn_probe` under the policy file `text`.
fn replay(dir: &Path, text: &str, args: &[&str]) -> Run {
    let file = PolicyFile::parse(text, "learned.toml").unwrap();
    run_guest("learn_probe", args, file.into_builder(dir).build().unwrap())
}

fn denials(run: &Run) -> Vec<&str> {
    run.lines()
        .into_iter()
        .filter(|l| l.contains("denied"))
        .collect()
}

#[test]
fn a_learned_policy_allows_the_same_run_and_refuses_new_behaviour() {
    let dir = scratch("learn-replay");
    let (run, learned) = learn(dir.path(), None, FIRST);
    run.assert_ok();
    assert!(denials(&run).is_empty(), "{run}");
    assert!(learned.notes.is_empty(), "{:?}", learned.notes);
    let text = &learned.text;
    // The varying path became a glob, the fixed flag stayed exact; the
    // single echo stayed exact.
    assert!(
        text.contains("{ match = [\"-l\", { glob = \"/etc/*\" }] }"),
        "{text}"
    );
    assert!(text.contains("{ match = [\"hello\"] }"), "{text}");
    assert!(text.contains("\"MY_NAME\""), "{text}");
    assert!(text.contains("[shell]\nallow = true"), "{text}");
    assert!(text.contains("allow = [\"term\"]"), "{text}");

    let again = replay(dir.path(), text, FIRST);
    again.assert_ok();
    assert!(denials(&again).is_empty(), "{again}");
    assert_eq!(again.lines().len(), 6, "{again}");

    let new = replay(
        dir.path(),
        text,
        &[
            "ls",
            "-la",
            "/etc/hosts",
            ";",
            "cat",
            "/etc/hosts",
            ";",
            "echo",
            "bye",
            ";",
            "OTHER=1",
            "true",
            ";",
            "ls",
            "-l",
            "/usr/bin",
        ],
    );
    new.assert_ok();
    assert_eq!(denials(&new).len(), 5, "{new}");
}

#[test]
fn a_second_learning_run_widens_the_file_only_as_far_as_it_needs() {
    let dir = scratch("learn-merge");
    let (_, first) = learn(dir.path(), None, FIRST);
    // `ls -l /etc/passwd` fits the learned `/etc/*`; `cat` and `echo bye`
    // are new.
    let second_args = [
        "ls",
        "-l",
        "/etc/passwd",
        ";",
        "cat",
        "/etc/hostname",
        ";",
        "echo",
        "bye",
    ];
    let (run, second) = learn(dir.path(), Some(&first.text), &second_args);
    run.assert_ok();
    let diff = &second.diff;
    assert!(diff.lines().all(|l| !l.starts_with('-')), "{diff}");
    assert!(diff.contains("+program = \"cat\""), "{diff}");
    assert!(diff.contains("+    { match = [\"bye\"] },"), "{diff}");
    assert!(!diff.contains("passwd"), "{diff}");
    // Both runs now pass; the same second run learns nothing more.
    for args in [FIRST, &second_args[..]] {
        let replayed = replay(dir.path(), &second.text, args);
        assert!(denials(&replayed).is_empty(), "{replayed}");
    }
    let (_, third) = learn(dir.path(), Some(&second.text), &second_args);
    assert_eq!(third.diff, "");
}
