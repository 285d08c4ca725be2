//! The man page and the completions come from the same definition as
//! `--help`: every flag of `procgate run` appears in each.

mod common;

use common::{output, procgate, text};

fn stdout_of(args: &[&str]) -> String {
    let mut cmd = procgate();
    cmd.args(args);
    let out = output(cmd);
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(0), "{args:?}: {stderr}");
    stdout
}

/// The long flags `procgate run --help` lists.
fn run_flags() -> Vec<String> {
    let help = stdout_of(&["run", "--help"]);
    let flags: Vec<String> = help
        .lines()
        .filter_map(|l| {
            l.trim_start()
                .strip_prefix("--")
                .or_else(|| l.trim_start().strip_prefix("-v, --"))
        })
        .map(|l| l.split([' ', ',']).next().unwrap().to_string())
        .collect();
    assert!(flags.len() > 15, "{help}");
    flags
}

#[test]
fn the_man_page_has_every_flag_and_the_exit_codes() {
    let top = stdout_of(&["man"]);
    assert!(top.contains(".TH procgate 1"), "{top}");
    assert!(top.contains("procgate\\-run(1)"), "{top}");
    let run = stdout_of(&["man", "run"]);
    assert!(run.contains(".TH procgate-run 1"), "{run}");
    assert!(run.contains(".SH \"EXIT STATUS\""), "{run}");
    // Each flag is an item of the options sections (`.TP`, then the flag
    // in bold), not only a word of the synopsis.
    let items: Vec<&str> = run
        .split(".TP\n")
        .skip(1)
        .filter_map(|item| item.lines().next())
        .collect();
    for flag in run_flags() {
        let roff = format!("\\fB\\-\\-{}\\fR", flag.replace('-', "\\-"));
        assert!(
            items.iter().any(|i| i.contains(&roff)),
            "{flag} not in the man page's options: {items:?}"
        );
    }
}

#[test]
fn the_completions_offer_every_flag() {
    for shell in ["bash", "zsh", "fish"] {
        let script = stdout_of(&["completions", shell]);
        for flag in run_flags() {
            assert!(script.contains(&flag), "{shell}: {flag} not offered");
        }
    }
}
