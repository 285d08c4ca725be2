//! The learn-then-run demo of the README and `docs/learn.md` cannot drift:
//! this test runs the commands of every `console` block about the Rust
//! guest `date.wasm` and checks that each output line the block shows is a
//! line the command printed (the date and the run's id aside; `...` marks
//! lines a block leaves out). `docs/learn.md` shows whole transcripts, so
//! there every line printed must be shown too.

mod common;

use common::{output, procgate, text};
use procgate_tests::{guest_path, root, scratch};
use std::path::Path;

/// One `$ procgate ...` line of a block and the output lines shown under it.
struct Step {
    args: Vec<String>,
    shown: Vec<String>,
    elided: bool,
}

/// The `console` blocks of `text` whose commands run `date.wasm`.
fn date_blocks(text: &str) -> Vec<Vec<Step>> {
    let mut blocks = Vec::new();
    let mut current: Option<Vec<Step>> = None;
    for line in text.lines() {
        if line == "```console" {
            current = Some(Vec::new());
        } else if line == "```" {
            blocks.extend(current.take());
        } else if let Some(steps) = current.as_mut() {
            if let Some(command) = line.strip_prefix("$ procgate ") {
                let args = command.split_whitespace().map(str::to_string).collect();
                steps.push(Step {
                    args,
                    shown: Vec::new(),
                    elided: false,
                });
            } else if let Some(step) = steps.last_mut() {
                match line {
                    "..." => step.elided = true,
                    _ => step.shown.push(normalize(line)),
                }
            }
        }
    }
    blocks.retain(|steps: &Vec<Step>| {
        steps
            .first()
            .is_some_and(|s| s.args.last().map(String::as_str) == Some("date.wasm"))
    });
    blocks
}

/// A line with what changes from run to run replaced.
fn normalize(line: &str) -> String {
    if line.starts_with("Current date: ") {
        return "Current date: DATE".into();
    }
    match line.split_once("run=\"") {
        Some((before, after)) => {
            let rest = after.split_once('"').map_or("", |(_, rest)| rest);
            format!("{before}run=\"ID\"{rest}")
        }
        None => line.to_string(),
    }
}

/// Runs the steps of one block in a directory of their own.
fn check(file: &str, steps: &[Step], cache: &Path) {
    let dir = scratch("readme-demo");
    std::fs::copy(guest_path("date"), dir.path().join("date.wasm")).unwrap();
    for step in steps {
        let mut cmd = procgate();
        cmd.current_dir(dir.path())
            .env("PROCGATE_CACHE_DIR", cache)
            .args(&step.args);
        let out = output(cmd);
        let (stdout, stderr) = text(&out);
        let printed: Vec<String> = stdout
            .lines()
            .chain(stderr.lines())
            .map(normalize)
            .collect();
        for line in &step.shown {
            assert!(
                printed.contains(line),
                "{file}: `procgate {}` did not print {line:?}; it printed:\n{}",
                step.args.join(" "),
                printed.join("\n")
            );
        }
        if !step.elided {
            let mut shown = step.shown.clone();
            let mut printed = printed.clone();
            shown.sort();
            printed.sort();
            assert_eq!(
                shown,
                printed,
                "{file}: `procgate {}` printed other lines than shown",
                step.args.join(" ")
            );
        }
    }
}

#[test]
fn the_learn_then_run_demo_prints_what_the_docs_show() {
    let cache = tempfile::tempdir().unwrap();
    let mut checked = 0;
    for file in ["README.md", "docs/learn.md"] {
        let text = std::fs::read_to_string(root().join(file)).unwrap();
        for steps in date_blocks(&text) {
            check(file, &steps, cache.path());
            checked += 1;
        }
    }
    assert_eq!(
        checked, 2,
        "the README and docs/learn.md each show the Rust demo"
    );
}
