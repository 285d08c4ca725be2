//! Unit tests of `file.rs`.

use super::*;
use crate::sandbox::LandlockMode;
use std::time::Duration;

fn err(text: &str) -> String {
    PolicyFile::parse(text, "p.toml").unwrap_err().to_string()
}

#[test]
fn errors_name_file_line_column_and_key_path() {
    let cases: &[(&str, &str)] = &[
            // An unknown key, at the key.
            ("[programs]\nallow = [\"ls\"]\nalow = 1\n", "p.toml:3:1: programs.alow: "),
            ("[shell]\nalow = true\n", "p.toml:2:1: shell.alow: "),
            ("[shel]\nallow = true\n", "p.toml:1:2: shel: "),
            // A value of the wrong type, at the value.
            ("[shell]\nallow = \"yes\"\n", "p.toml:2:9: shell.allow: "),
            ("[limits]\nmax_live = -1\n", "p.toml:2:12: limits.max_live: "),
            ("[limits]\ntimeout_secs = 0\n", "p.toml:2:16: limits.timeout_secs: "),
            // Bad values inside arrays and nested tables.
            (
                "[signals]\nallow = [\"term\", \"sigfoo\"]\n",
                "p.toml:2:18: signals.allow[1]: ",
            ),
            (
                "[[programs.rules]]\nprogram = \"find\"\nforbid_flag = [\"-exec\"]\n",
                "p.toml:3:1: programs.rules[0].forbid_flag: ",
            ),
            (
                "[[programs.rules]]\nprogram = \"git\"\nargs = [{ match = [\"status\", { glob = \"[\" }] }]\n",
                "p.toml:3:30: programs.rules[0].args[0].match[1]: ",
            ),
            (
                "[[programs.rules]]\nprogram = \"git\"\nargs = [{ match = [{ regex = \"(\" }] }]\n",
                "p.toml:3:20: programs.rules[0].args[0].match[0]: ",
            ),
            ("[sandbox]\nlandlock = \"maybe\"\n", "p.toml:2:12: sandbox.landlock: "),
            // Broken TOML itself.
            ("[programs\nallow = 1\n", "p.toml:1:10: "),
        ];
    for (text, prefix) in cases {
        let e = err(text);
        assert!(
            e.starts_with(prefix),
            "{text:?}\nwanted {prefix:?}\ngot    {e:?}"
        );
    }
}

#[test]
fn messages_say_what_is_wrong() {
    assert!(err("[shell]\nalow = true\n").contains("unknown field `alow`"));
    assert!(err("[signals]\nallow = [\"sigfoo\"]\n").contains("sigfoo"));
    assert!(err("[limits]\ntimeout_secs = -2\n").contains("positive duration"));
}

#[test]
fn the_example_policy_parses_and_builds() {
    let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples");
    let file = PolicyFile::load(&examples.join("policy.toml")).unwrap();
    let policy = file.into_builder(&examples).build().unwrap();
    assert_eq!(policy.dirs()[0].guest, "/work");
    assert_eq!(policy.limits().max_live, Some(4));
}

#[test]
fn every_section_parses() {
    let text = r#"
[programs]
allow = ["ls"]
search_path = ["/usr/bin", "/bin"]
[[programs.rules]]
program = "find"
forbid_flags = ["-exec", "-delete"]
[[programs.rules]]
program = "sort"
args = [{ match = ["-n"] }, { match = ["-u", { glob = "*.txt" }], rest = { regex = "[a-z]+" } }]
[shell]
allow = true
path = "/bin/sh"
[env]
set = { LANG = "C.UTF-8" }
pass = ["HOME"]
guest_may_set = ["TERM", "APP_*"]
secret = ["*_TOKEN"]
[[dirs]]
host = "/tmp"
guest = "/scratch"
[cwd]
default = "/scratch"
[signals]
allow = ["term", "SIGKILL"]
[limits]
max_live = 2
max_held = 16
max_spawns = 10
timeout_secs = 1.5
kill_grace_secs = "500ms"
communicate_bytes = "1.5M"
max_arg_bytes = 4096
max_env_bytes = 4096
cpu_secs = 5
address_space_bytes = 1000000000
open_files = 64
processes = 32
no_new_privs = true
[sandbox]
landlock = "best-effort"
read = ["/usr"]
write = ["/tmp"]
"#;
    let file = PolicyFile::parse(text, "p.toml").unwrap();
    assert_eq!(file.programs.rules[1].args.len(), 2);
    let policy = file.into_builder(Path::new("/")).build().unwrap();
    let l = policy.limits();
    assert_eq!(l.timeout, Some(Duration::from_millis(1500)));
    assert_eq!(l.kill_grace, Some(Duration::from_millis(500)));
    assert_eq!(l.communicate_bytes, Some(3 << 19));
    assert_eq!(l.max_held, Some(16));
    assert_eq!(l.os.open_files, Some(64));
    assert!(l.os.no_new_privs);
    assert_eq!(policy.dirs()[0].guest, "/scratch");
    assert_eq!(policy.sandbox().landlock, LandlockMode::BestEffort);
    assert!(policy.is_secret_env("GH_TOKEN"));
}

#[test]
fn a_profile_adds_to_the_top_level() {
    let text = r#"
[programs]
allow = ["ls"]
[limits]
max_live = 4
timeout_secs = 10
[sandbox]
landlock = "require"
[profiles.p.programs]
allow = ["cat"]
deny = ["sh"]
[profiles.p.limits]
timeout_secs = 2
[profiles.p.sandbox]
landlock = "off"
"#;
    let file = PolicyFile::parse(text, "p.toml").unwrap();
    assert_eq!(file.profile_names(), ["p"]);
    let b = file.into_builder_with_profile(Path::new("."), Some("p"));
    let policy = b.unwrap().build().unwrap();
    let l = policy.limits();
    assert_eq!(
        (l.max_live, l.timeout),
        (Some(4), Some(Duration::from_secs(2)))
    );
    // The stricter sandbox mode stays.
    assert_eq!(policy.sandbox().landlock, LandlockMode::Require);
    let ls = crate::SpawnRequest::exec("ls", &[]);
    let cat = crate::SpawnRequest::exec("cat", &[]);
    let sh = crate::SpawnRequest::exec("sh", &[]);
    assert!(policy.decide_spawn(&ls).is_ok() && policy.decide_spawn(&cat).is_ok());
    assert!(policy.decide_spawn(&sh).is_err());
    // Without the profile, only the top level.
    let file = PolicyFile::parse(text, "p.toml").unwrap();
    let policy = file.into_builder(Path::new(".")).build().unwrap();
    assert!(policy.decide_spawn(&cat).is_err());
}

#[test]
fn profiles_do_not_nest_and_an_unknown_one_names_the_known() {
    let e = err("[profiles.a.profiles.b]\n");
    assert_eq!(e, "p.toml: profiles.a.profiles: profiles do not nest");
    let file = PolicyFile::parse("[profiles.a]\n[profiles.b]\n", "p.toml").unwrap();
    let e = file.into_builder_with_profile(Path::new("."), Some("c"));
    assert_eq!(
        e.err().unwrap().to_string(),
        "p.toml: no profile \"c\" (the file has: a, b)"
    );
}

#[test]
fn a_profiles_entries_name_their_key_path() {
    let text = "[profiles.p.programs]\nallow = [\"./rel\"]\n";
    let file = PolicyFile::parse(text, "p.toml").unwrap();
    let b = file
        .into_builder_with_profile(Path::new("."), Some("p"))
        .unwrap();
    let e = b.build().unwrap_err().to_string();
    assert!(
        e.starts_with("p.toml:2:10: profiles.p.programs.allow[0]: "),
        "{e}"
    );
}

/// A rule's `communicate_bytes` and `pass_env` narrow the guest-wide
/// ones: the smaller cap, only the named host variables (`cargo test`
/// sets both `CARGO_*` variables).
#[test]
fn a_rule_narrows_the_communicate_cap_and_the_variables_passed() {
    let text = r#"
[env]
pass = ["CARGO_PKG_NAME", "CARGO_MANIFEST_DIR"]
[limits]
communicate_bytes = "1KiB"
[programs]
allow = ["ls"]
[[programs.rules]]
program = "true"
communicate_bytes = "100B"
pass_env = ["CARGO_PKG_NAME"]
[[programs.rules]]
program = "false"
communicate_bytes = "1MiB"
"#;
    let file = PolicyFile::parse(text, "p.toml").unwrap();
    let policy = file.into_builder(Path::new(".")).build().unwrap();
    let plan = |p: &str| {
        policy
            .decide_spawn(&crate::SpawnRequest::exec(p, &[]))
            .unwrap()
    };
    let names = |p: &crate::SpawnPlan| p.env.iter().map(|(k, _)| k.clone()).collect::<Vec<_>>();
    let t = plan("true");
    assert_eq!(
        (t.communicate_cap, names(&t)),
        (100, vec!["CARGO_PKG_NAME".into()])
    );
    // Above the guest's cap: clamped to it.
    let f = plan("false");
    assert_eq!(f.communicate_cap, 1024);
    assert_eq!(names(&f), ["CARGO_PKG_NAME", "CARGO_MANIFEST_DIR"]);
    let ls = plan("ls");
    assert_eq!((ls.communicate_cap, names(&ls).len()), (1024, 2));
}

#[test]
fn a_rule_cannot_pass_a_variable_env_pass_does_not() {
    let text = "[env]\npass = [\"A\"]\n[[programs.rules]]\nprogram = \"true\"\npass_env = [\"A\", \"B\"]\n";
    let file = PolicyFile::parse(text, "p.toml").unwrap();
    let e = file.into_builder(Path::new(".")).build().unwrap_err();
    assert_eq!(
        e.to_string(),
        "p.toml:4:11: programs.rules[0].program: programs.rules pass_env \"B\" of \"true\" is \
         not in env.pass: a rule narrows the host variables passed to children, never widens \
         them"
    );
}
