//! Deny entries and directory/glob allows under attack (issue 16, item 5),
//! through the `policy_probe` guest (`probe.rs`): a denied program asked
//! for through every spelling is denied and never runs; a glob allow
//! never matches a program outside its directory through `..` or a
//! symlink; a glob over a directory someone else may write is refused.
//! Each attack's would-be effect is a marker file that must not exist.

use crate::probe::{exec, probe, s, shell};
use procgate::policy::PolicyBuilder;
use procgate::Policy;
use procgate_tests::{assert_no_marker, Markers};
use std::os::unix::fs::{symlink, PermissionsExt};
use std::path::{Path, PathBuf};

/// A scratch directory: `tools/` (a trusted directory of programs),
/// `outside/` beside it, `grant/` (granted to the children).
struct Scratch {
    markers: Markers,
    tools: PathBuf,
    outside: PathBuf,
    grant: PathBuf,
}

impl Scratch {
    fn new() -> Scratch {
        let markers = Markers::fresh();
        let [tools, outside, grant] = ["tools", "outside", "grant"].map(|d| markers.root.join(d));
        for d in [&tools, &outside, &grant] {
            std::fs::create_dir(d).unwrap();
            std::fs::set_permissions(d, std::fs::Permissions::from_mode(0o755)).unwrap();
        }
        Scratch {
            markers,
            tools,
            outside,
            grant,
        }
    }
}

impl std::ops::Deref for Scratch {
    type Target = Markers;
    fn deref(&self) -> &Markers {
        &self.markers
    }
}

fn run(policy: PolicyBuilder, reqs: &[crate::probe::Req]) -> Vec<String> {
    probe(policy.build().expect("the policy loads"), reqs).0
}

/// Every spelling of `/bin/sh` a guest could try, and the shell itself:
/// each is allowed by something (a name, a path, a glob, the shell
/// grant) and denied by `deny = ["sh"]`.
#[test]
fn a_denied_program_is_denied_through_every_spelling_and_the_shell() {
    let sc = Scratch::new();
    let marker = sc.marker("denied-shell-ran");
    let touch = format!("touch {}", s(&marker));
    // A symlink to the shell in a granted directory, and one in the
    // trusted directory a glob allows.
    symlink("/bin/sh", sc.grant.join("innocent")).unwrap();
    symlink("/bin/sh", sc.tools.join("also-innocent")).unwrap();
    let sh_real = Path::new("/bin/sh").canonicalize().unwrap();
    let policy = Policy::builder()
        .allow_program("sh")
        .allow_program("/bin/sh")
        .allow_program(s(&sh_real))
        .allow_program(format!("{}/*", s(&sc.tools)))
        .allow_program(format!("{}/", s(sh_real.parent().unwrap())))
        .allow_shell("/bin/sh")
        .dir(&sc.grant, "/work")
        .deny_program("sh");
    let spellings = [
        "sh".to_string(),
        "/bin/sh".to_string(),
        "/usr/bin/sh".to_string(),
        s(&sh_real).to_string(),
        "./sh".to_string(),
        "/bin/../bin/sh".to_string(),
        format!("{}/../../../bin/sh", s(&sc.tools)),
        format!("{}/innocent", s(&sc.grant)),
        format!("{}/also-innocent", s(&sc.tools)),
    ];
    let mut reqs: Vec<_> = spellings.iter().map(|p| exec(p, &["-c", &touch])).collect();
    reqs.push(shell(&touch));
    let lines = run(policy, &reqs);
    assert_no_marker(&marker, &lines);
    for (line, asked) in lines.iter().zip(spellings.iter().chain([&"shell".into()])) {
        assert!(line.starts_with("Err(Denied("), "{asked}: {line}");
    }
    assert_eq!(lines.len(), reqs.len(), "{lines:#?}");
    assert!(
        lines[0].contains("denied by programs.deny \\\"sh\\\""),
        "{}",
        lines[0]
    );
}

/// Deny by glob and by directory, over an allow of the same file.
#[test]
fn deny_globs_and_directories_override_allows() {
    let sc = Scratch::new();
    let marker = sc.marker("denied-tool-ran");
    let tool = sc.tools.join("tool-a");
    sc.plant(&tool, &marker);
    for deny in [
        "tool-*".to_string(),
        format!("{}/tool-?", s(&sc.tools)),
        format!("{}/", s(&sc.tools)),
        format!("{}/", s(&sc.root)),
    ] {
        let policy = Policy::builder()
            .allow_program(s(&tool))
            .allow_program(format!("{}/*", s(&sc.tools)))
            .deny_program(&deny);
        let lines = run(policy, &[exec(s(&tool), &[])]);
        assert_no_marker(&marker, &lines);
        assert!(lines[0].starts_with("Err(Denied("), "{deny}: {lines:?}");
    }
}

/// A glob allow matches the canonical path: `..` out of its directory and
/// a symlink in it to a program outside match nothing; a program inside
/// runs.
#[test]
fn a_glob_allow_matches_nothing_outside_its_directory() {
    let sc = Scratch::new();
    let escaped = sc.marker("escaped");
    let inside = sc.marker("inside");
    sc.plant(&sc.outside.join("prog"), &escaped);
    sc.plant(&sc.tools.join("prog"), &inside);
    symlink(sc.outside.join("prog"), sc.tools.join("link-out")).unwrap();
    symlink(&sc.outside, sc.tools.join("dir-out")).unwrap();
    for allow in [format!("{}/*", s(&sc.tools)), format!("{}/", s(&sc.tools))] {
        let attacks = [
            format!("{}/../outside/prog", s(&sc.tools)),
            format!("{}/link-out", s(&sc.tools)),
            format!("{}/dir-out/prog", s(&sc.tools)),
            format!("{}/./../outside/./prog", s(&sc.tools)),
        ];
        let mut reqs: Vec<_> = attacks.iter().map(|p| exec(p, &[])).collect();
        reqs.push(exec(&format!("{}/prog", s(&sc.tools)), &[]));
        let lines = run(Policy::builder().allow_program(&allow), &reqs);
        assert_no_marker(&escaped, &lines);
        for (line, asked) in lines.iter().zip(&attacks) {
            assert!(
                line.starts_with("Err(Denied(") && line.contains("not in allow list"),
                "{allow} let {asked} through: {line}"
            );
        }
        assert_eq!(lines[attacks.len()], "rc=Ok(0)", "{allow}: {lines:#?}");
        assert!(inside.exists(), "the program inside the glob did not run");
        std::fs::remove_file(&inside).unwrap();
    }
}

/// A glob's directory is checked as an allowed program's is: inside a
/// grant (the children may write it) or writable by others, it is refused
/// when the policy is built; a file in it others may write is refused
/// when asked for.
#[test]
fn a_glob_over_a_directory_others_may_write_is_refused() {
    let sc = Scratch::new();
    let marker = sc.marker("planted");
    sc.plant(&sc.grant.join("tool"), &marker);
    let err = Policy::builder()
        .dir(&sc.grant, "/work")
        .allow_program(format!("{}/*", s(&sc.grant)))
        .build()
        .unwrap_err()
        .to_string();
    assert!(err.contains("may write"), "{err}");
    std::fs::set_permissions(&sc.outside, std::fs::Permissions::from_mode(0o777)).unwrap();
    let err = Policy::builder()
        .allow_program(format!("{}/", s(&sc.outside)))
        .build()
        .unwrap_err()
        .to_string();
    assert!(err.contains("writable by everyone"), "{err}");
    let tool = sc.tools.join("tool");
    sc.plant(&tool, &marker);
    std::fs::set_permissions(&tool, std::fs::Permissions::from_mode(0o777)).unwrap();
    let lines = run(
        Policy::builder().allow_program(format!("{}/*", s(&sc.tools))),
        &[exec(s(&tool), &[])],
    );
    assert_no_marker(&marker, &lines);
    assert!(
        lines[0].starts_with("Err(Denied(") && lines[0].contains("writable by everyone"),
        "{lines:?}"
    );
}
