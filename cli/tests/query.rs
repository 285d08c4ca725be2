//! A guest's queries (`query-exec`, `query-shell`) are logged as audit
//! decisions `queried` (the answer in `error`), and start nothing: no
//! `spawn` event, no marker file.

mod common;

use common::{output, procgate, text};
use procgate_tests::guest_path;
use serde_json::Value;

#[test]
fn queries_are_audited_as_queried_and_start_nothing() {
    let scratch = tempfile::TempDir::new().unwrap();
    let audit = scratch.path().join("audit.jsonl");
    let marker = scratch.path().join("started");
    let mut cmd = procgate();
    cmd.args(["run", "--no-cache", "--allow", "touch", "--audit-json"])
        .arg(&audit)
        .arg(guest_path("query_probe"))
        .args(["touch", "rm"])
        .arg(&marker);
    let out = output(cmd);
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(0), "{stdout}{stderr}");
    assert!(!marker.exists(), "a query started a program");
    let records: Vec<Value> = std::fs::read_to_string(&audit)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let queried: Vec<&Value> = records
        .iter()
        .filter(|r| r["decision"] == "queried")
        .collect();
    assert_eq!(queried.len(), 4, "{records:#?}");
    assert_eq!(queried[0]["program"], "touch");
    assert_eq!(queried[0]["error"], Value::Null, "{:?}", queried[0]);
    assert!(queried[0]["resolved"].as_str().unwrap().ends_with("/touch"));
    assert_eq!(queried[1]["program"], "rm");
    assert_eq!(queried[1]["error"], "denied");
    assert_eq!(queried[2]["request"], "shell");
    assert_eq!(queried[2]["error"], "denied");
    assert_eq!(queried[3]["error"], "denied");
    assert!(
        !records
            .iter()
            .any(|r| r["event"] == "spawn" || r["decision"] == "allow"),
        "{records:#?}"
    );
}
