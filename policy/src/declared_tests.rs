//! [`Policy::refusals`]: each kind of declared need, refused and granted.

use crate::{Declaration, PolicyFile};

fn refusals(policy: &str, declared: &str) -> Vec<String> {
    let policy = PolicyFile::parse(policy, "policy.toml")
        .unwrap()
        .into_builder(".".as_ref())
        .build()
        .unwrap();
    let declared = Declaration::parse(declared, "guest.wasm").unwrap();
    policy
        .refusals(&declared)
        .iter()
        .map(ToString::to_string)
        .collect()
}

const NEEDS: &str = r#"
[programs]
allow = ["ls"]
[[programs.rules]]
program = "echo"
args = [{ match = ["hello"] }, { match = [{ glob = "*" }] }]
[shell]
allow = true
[env]
pass = ["PROCGATE_SURELY_UNSET"]
[signals]
allow = ["term", "kill"]
[limits]
max_live = 4
timeout_secs = 30
"#;

#[test]
fn every_kind_of_need_is_checked() {
    assert_eq!(
        refusals("[signals]\nallow = [\"term\"]\n[limits]\nmax_live = 2\ntimeout_secs = \"10s\"\n", NEEDS),
        [
            "program \"ls\" not in allow list; allow it with --allow ls or programs.allow",
            "program \"echo\" not in allow list; allow it with --allow echo or programs.allow",
            "shell not granted (create-subprocess-shell is off); grant it with --allow-shell or shell.allow = true",
            "env PROCGATE_SURELY_UNSET is not in the children's environment; pass it with --pass-env PROCGATE_SURELY_UNSET or env.pass, or set it with --env PROCGATE_SURELY_UNSET=VALUE or env.set",
            "signal kill not in allowed signals; add \"kill\" to signals.allow",
            "limits.max_live is 2, the guest declares 4; raise limits.max_live to 4",
            "limits.timeout_secs is 10, the guest declares 30; raise limits.timeout_secs to 30",
        ]
    );
}

#[test]
fn a_policy_that_grants_every_need_refuses_none() {
    let policy = r#"
[programs]
allow = ["ls"]
[[programs.rules]]
program = "echo"
args = [{ match = ["hello"] }]
[shell]
allow = true
[env]
set = { PROCGATE_SURELY_UNSET = "1" }
[limits]
max_live = 8
"#;
    assert_eq!(refusals(policy, NEEDS), Vec::<String>::new());
}

#[test]
fn exact_forms_are_checked_word_for_word() {
    let policy = "[[programs.rules]]\nprogram = \"echo\"\nargs = [{ match = [\"bye\"] }]\n";
    let declared = "[[programs.rules]]\nprogram = \"echo\"\nargs = [{ match = [\"hello\"] }]\n";
    let refused = refusals(policy, declared);
    assert_eq!(refused.len(), 1, "{refused:?}");
    assert!(refused[0].starts_with("program \"echo\": "), "{refused:?}");
    // Any arguments declared: the host's argument rules decide at run time.
    assert_eq!(
        refusals(policy, "[programs]\nallow = [\"echo\"]\n"),
        Vec::<String>::new()
    );
}

#[test]
fn a_declaration_is_bounded() {
    let big = format!("# {}\n", "x".repeat(crate::MAX_DECLARATION_BYTES));
    assert!(Declaration::parse(&big, "guest.wasm").is_err());
}
