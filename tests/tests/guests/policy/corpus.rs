//! The bypass corpus: each row ([`rows::CORPUS`]) a named attempt to get
//! around the policy, which must be refused and start nothing.

mod rows;

use super::{denied, Scratch};
use crate::probe::{probe, Req, Step};
use procgate::policy::PolicyBuilder;

/// A named bypass attempt, one row of [`rows::CORPUS`]: its policy (made for the
/// case's scratch layout), its requests, what the last one must answer,
/// and text its output must not hold (what the attack would print if it
/// worked). The last request would create the case's marker `{m}` if it
/// ran, which must not exist afterwards.
struct Case {
    name: &'static str,
    policy: fn(&Scratch) -> PolicyBuilder,
    steps: &'static [Step],
    expect: Expect,
    leak: Option<&'static str>,
}

impl Case {
    const fn new(
        name: &'static str,
        policy: fn(&Scratch) -> PolicyBuilder,
        steps: &'static [Step],
        expect: Expect,
    ) -> Case {
        Case {
            name,
            policy,
            steps,
            expect,
            leak: None,
        }
    }

    const fn leaking(self, text: &'static str) -> Case {
        Case {
            leak: Some(text),
            ..self
        }
    }
}

/// What the last request of a case must answer: the guest's error, or a
/// line of the probe as it starts.
#[derive(Clone, Copy)]
enum Expect {
    Denied(&'static str),
    Limit(&'static str),
    Invalid(&'static str),
    Line(&'static str),
}

impl Expect {
    /// The line the probe prints, from the filled-in text.
    fn line(self, fill: impl Fn(&str) -> String) -> String {
        match self {
            Denied(rule) => denied(&fill(rule)),
            Limit(text) => format!("Err(LimitExceeded({:?}))", fill(text)),
            Invalid(text) => format!("Err(InvalidArgument({:?}))", fill(text)),
            Line(text) => fill(text),
        }
    }
}

use Expect::{Denied, Invalid, Limit, Line};

/// Runs a corpus case in a scratch directory of its own; returns what
/// went wrong (nothing if it was refused and had no effect).
fn run_case(case: &Case) -> Vec<String> {
    let sc = Scratch::new("policy-corpus");
    let fill = |text: &str| sc.fill(case.name, text);
    let policy = (case.policy)(&sc).build().unwrap();
    let reqs: Vec<Req> = case.steps.iter().map(|step| step.req(fill)).collect();
    let (lines, run) = probe(policy, &reqs);
    let last = lines.last().cloned().unwrap_or_default();
    let last_args = case.steps.last().map_or(&[][..], Step::args);
    let argv_bytes = 2 + last_args.iter().map(|a| fill(a).len() + 1).sum::<usize>();
    let expect = case
        .expect
        .line(|text| fill(&text.replace("{argv_bytes}", &argv_bytes.to_string())));
    let mut failures = Vec::new();
    if !last.starts_with(&expect) {
        failures.push(format!("wanted {expect}\n  got {last}\n{run}"));
    }
    if sc.marker(case.name).exists() {
        failures.push("the marker was created".into());
    }
    if let Some(leak) = case.leak {
        if run.stdout.contains(leak) {
            failures.push(format!("the child got {leak}...\n{run}"));
        }
    }
    failures
}

/// Cases that show a real bypass on the code as it is (the attack works):
/// they stay in the corpus, and this test asserts they still get through,
/// so that it fails the day one is fixed and the case must move out of this
/// list. Each is issue 14's to fix.
const KNOWN_OPEN_BYPASSES: &[&str] = &[];

#[test]
fn bypass_corpus_is_refused_and_starts_nothing() {
    let n = rows::CORPUS.len();
    assert_eq!(n, 56, "the corpus has {n} cases");
    let mut names: Vec<&str> = rows::CORPUS.iter().map(|c| c.name).collect();
    names.sort_unstable();
    names.dedup();
    assert_eq!(names.len(), n, "two cases share a name (and a marker)");
    let mut failures = Vec::new();
    let mut open = Vec::new();
    for case in rows::CORPUS {
        let (name, failed) = (case.name, run_case(case));
        if KNOWN_OPEN_BYPASSES.contains(&name) {
            open.push(name);
            if failed.is_empty() {
                failures.push(format!(
                    "{name}: refused now; move it out of KNOWN_OPEN_BYPASSES"
                ));
            }
        } else if !failed.is_empty() {
            failures.push(format!("{name}: {}", failed.join("\n  ")));
        }
    }
    assert_eq!(open.len(), KNOWN_OPEN_BYPASSES.len(), "{open:?}");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
