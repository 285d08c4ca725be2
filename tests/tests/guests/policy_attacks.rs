//! The policy's promises under attack, with real programs (tar, git,
//! python3, a shell, a local TCP listener): each test performs the attack
//! and asserts a typed error (at load or at the request) and that the
//! marker file the attack would create never exists.
//!
//! Over ~400 lines: one test per attack, each with its real program's
//! setup; a new attack goes in a new file.
//!
//! The requests go through the `policy_probe` guest (`probe.rs`), as in
//! `policy.rs`.

use crate::probe::{exec, probe, s, shell, Req};
use procgate::policy::{how_to_allow, ArgForm, ArgPattern, ArgRules, PolicyBuilder, PolicyFile};
use procgate::sandbox::{LandlockMode, NetGrant, Network, Sandbox};
use procgate::Policy;
use procgate_tests::{assert_no_marker, landlock_available, Markers, PYTHON};
use std::path::{Path, PathBuf};

/// A scratch directory with a granted subdirectory `grant` and a secret
/// beside it.
struct Scratch {
    markers: Markers,
    grant: PathBuf,
}

impl Scratch {
    fn new() -> Scratch {
        let markers = Markers::fresh();
        let grant = markers.root.join("grant");
        std::fs::create_dir_all(&grant).unwrap();
        std::fs::write(markers.root.join("secret.txt"), "the secret\n").unwrap();
        std::fs::write(grant.join("file.txt"), "public\n").unwrap();
        Scratch { markers, grant }
    }

    /// A marker inside the grant, which a Landlocked child may write: its
    /// absence then shows the attack failed, not the write.
    fn grant_marker(&self, name: &str) -> PathBuf {
        self.grant.join(format!("{name}.marker"))
    }
}

impl std::ops::Deref for Scratch {
    type Target = Markers;
    fn deref(&self) -> &Markers {
        &self.markers
    }
}

/// Builds `policy`; if it loads, runs `reqs` (the attack). Returns the
/// load error, or the probe's lines.
fn attempt(policy: PolicyBuilder, reqs: &[Req]) -> Result<Vec<String>, String> {
    match policy.build() {
        Err(e) => Err(e.to_string()),
        Ok(policy) => Ok(probe(policy, reqs).0),
    }
}

// Item 4: a glob's `*` must not match `.` or `..`.

#[test]
fn a_glob_star_does_not_accept_dot_dot_tar_cannot_archive_the_parent() {
    let sc = Scratch::new();
    // The archive is the marker: it would hold the secret beside the grant.
    let archive = sc.root.join("parent.tar");
    let rules = ArgRules::default().form(ArgForm::new([
        ArgPattern::exact("-cf"),
        ArgPattern::glob(&format!("{}/*.tar", s(&sc.root))).unwrap(),
        ArgPattern::glob(&format!("{}/*", s(&sc.grant))).unwrap(),
    ]));
    let policy = Policy::builder().allow_program_with("tar", rules);
    let parent = format!("{}/..", s(&sc.grant));
    let ok_archive = sc.root.join("ok.tar");
    let file = format!("{}/file.txt", s(&sc.grant));
    let outcome = attempt(
        policy,
        &[
            exec("tar", &["-cf", s(&archive), &parent]),
            exec(
                "tar",
                &["-cf", s(&archive), &format!("{}/./..", s(&sc.grant))],
            ),
            exec("tar", &["-cf", s(&ok_archive), &file]),
        ],
    );
    assert_no_marker(&archive, &outcome);
    let lines = outcome.unwrap();
    for line in &lines[..2] {
        assert!(
            line.starts_with("Err(Denied(\"program \\\"tar\\\": arguments"),
            "{lines:?}"
        );
    }
    assert_eq!(lines[2], "rc=Ok(0)", "{lines:?}");
}

// Item 5: no search path, shell or program the guest's children can write.

#[test]
fn a_search_path_inside_a_grant_is_refused_at_load() {
    let sc = Scratch::new();
    let marker = sc.marker("planted-ls");
    sc.plant(&sc.grant.join("ls"), &marker);
    let policy = Policy::builder()
        .dir(&sc.grant, "/work")
        .search_path([sc.grant.clone(), "/usr/bin".into()])
        .allow_program("ls");
    let outcome = attempt(policy, &[exec("ls", &[])]);
    assert_no_marker(&marker, &outcome);
    let err = outcome.unwrap_err();
    assert!(
        err.contains("search path") && err.contains("the guest's children may write"),
        "{err}"
    );
}

#[test]
fn a_program_or_shell_inside_a_grant_is_refused_at_load() {
    let sc = Scratch::new();
    let marker = sc.marker("planted-program");
    let tool = sc.grant.join("tool");
    sc.plant(&tool, &marker);
    let outcome = attempt(
        Policy::builder()
            .dir(&sc.grant, "/work")
            .allow_program(s(&tool)),
        &[exec(s(&tool), &[])],
    );
    assert_no_marker(&marker, &outcome);
    assert!(outcome.unwrap_err().contains("may write"));
    let outcome = attempt(
        Policy::builder().dir(&sc.grant, "/work").allow_shell(&tool),
        &[shell("true")],
    );
    assert_no_marker(&marker, &outcome);
    assert!(outcome.unwrap_err().contains("may write"));
}

#[test]
fn a_search_path_others_can_write_is_refused_at_load() {
    use std::os::unix::fs::PermissionsExt;
    let sc = Scratch::new();
    let marker = sc.marker("world-writable");
    let bin = sc.root.join("bin");
    std::fs::create_dir(&bin).unwrap();
    std::fs::set_permissions(&bin, std::fs::Permissions::from_mode(0o777)).unwrap();
    sc.plant(&bin.join("ls"), &marker);
    let outcome = attempt(
        Policy::builder()
            .search_path([bin.clone()])
            .allow_program("ls"),
        &[exec("ls", &[])],
    );
    assert_no_marker(&marker, &outcome);
    assert!(outcome.unwrap_err().contains("writable by everyone"));
    // Owned by another user (we may be root, who can chown).
    std::fs::set_permissions(&bin, std::fs::Permissions::from_mode(0o755)).unwrap();
    if std::os::unix::fs::chown(&bin, Some(4242), None).is_ok() {
        let outcome = attempt(
            Policy::builder()
                .search_path([bin.clone()])
                .allow_program("ls"),
            &[exec("ls", &[])],
        );
        assert_no_marker(&marker, &outcome);
        assert!(outcome.unwrap_err().contains("owned by uid 4242"));
    }
}

// Item 6: dead entries are refused (or warned about) at load, with the
// file's line:column.

#[test]
fn a_relative_shell_is_refused_at_load() {
    // `sh` relative: the child would run `./sh` from its working directory,
    // which the guest's children can write.
    let sc = Scratch::new();
    let marker = sc.marker("relative-shell");
    sc.plant(&sc.grant.join("sh"), &marker);
    let outcome = attempt(
        Policy::builder()
            .dir(&sc.grant, "/work")
            .origin("--shell")
            .allow_shell("sh"),
        &[shell("true")],
    );
    assert_no_marker(&marker, &outcome);
    assert_eq!(
        outcome.unwrap_err(),
        "--shell: shell sh must be an absolute path"
    );
}

#[test]
fn dead_policy_entries_name_their_line_and_column() {
    let load = |text: &str| {
        PolicyFile::parse(text, "p.toml")
            .unwrap()
            .into_builder(Path::new("/"))
            .build()
    };
    let cases = [
        (
            "[programs]\nallow = [\"ls\", \"./relative\"]\n",
            "p.toml:2:16: programs.allow[1]: program \"./relative\" can never be allowed",
        ),
        (
            "[programs]\nallow = [\"bin/x\"]\n",
            "p.toml:2:10: programs.allow[0]: program \"bin/x\" can never be allowed",
        ),
        (
            "[shell]\nallow = true\npath = \"sh\"\n",
            "p.toml:3:8: shell.path: shell sh must be an absolute path",
        ),
        (
            "[env]\nguest_may_set = [\"TERM\", \"LD_*\"]\n",
            "p.toml:2:26: env.guest_may_set[1]: env.guest_may_set \"LD_*\" only matches",
        ),
    ];
    for (text, prefix) in cases {
        let err = load(text).unwrap_err().to_string();
        assert!(
            err.starts_with(prefix),
            "{text:?}\nwanted {prefix:?}\ngot    {err:?}"
        );
    }
    // Missing programs and shells are warnings: they may be installed later.
    let policy = load(
        "[programs]\nallow = [\"procgate-no-such-program\"]\n[shell]\nallow = true\npath = \"/no/such/sh\"\n",
    )
    .unwrap();
    let warnings = policy.warnings();
    assert_eq!(warnings.len(), 2, "{warnings:?}");
    assert!(
        warnings[0].starts_with(
            "p.toml:2:10: programs.allow[0]: program \"procgate-no-such-program\" not found"
        ),
        "{warnings:?}"
    );
    assert!(
        warnings[1].starts_with("p.toml:5:8: shell.path: shell /no/such/sh not found"),
        "{warnings:?}"
    );
}

#[test]
fn signal_names_durations_and_sizes_read_either_way() {
    let text = "[signals]\nallow = [\"SIGTERM\", \"kill\"]\n[limits]\ntimeout_secs = \"30s\"\n\
                kill_grace_secs = \"250ms\"\ncommunicate_bytes = \"1.5G\"\nmax_held = 8\n";
    let policy = PolicyFile::parse(text, "p.toml")
        .unwrap()
        .into_builder(Path::new("/"))
        .build()
        .unwrap();
    let l = policy.limits();
    assert_eq!(l.timeout, Some(std::time::Duration::from_secs(30)));
    assert_eq!(l.kill_grace, Some(std::time::Duration::from_millis(250)));
    assert_eq!(l.communicate_bytes, Some(3 << 29));
    assert_eq!(l.max_held, Some(8));
    let bad = PolicyFile::parse("[limits]\ncommunicate_bytes = \"2X\"\n", "p.toml").unwrap_err();
    assert!(
        bad.to_string()
            .starts_with("p.toml:2:21: limits.communicate_bytes: \"2X\": unknown unit"),
        "{bad}"
    );
}

// Item 7: errors of the right kind, and denials that say how to allow.

#[test]
fn an_empty_cwd_is_invalid_and_a_denial_says_how_to_allow() {
    let sc = Scratch::new();
    let marker = sc.marker("empty-cwd");
    let policy = Policy::builder()
        .allow_program("touch")
        .dir(&sc.grant, "/work")
        .build()
        .unwrap();
    let (lines, run) = probe(
        policy,
        &[
            exec("touch", &[s(&marker)]).cwd(""),
            exec("tar", &["--version"]),
            shell("true"),
        ],
    );
    assert_no_marker(&marker, &lines);
    assert_eq!(lines[0], "Err(InvalidArgument(\"empty cwd\"))", "{run}");
    // The rule goes to the guest; how to allow it is said once, beside it.
    let hint = |line: &str| {
        let rule = line
            .strip_prefix("Err(Denied(\"")
            .and_then(|l| l.strip_suffix("\"))"))
            .unwrap_or_else(|| panic!("{line}"))
            .replace("\\\"", "\"");
        how_to_allow(&rule)
    };
    assert_eq!(
        hint(&lines[1]).as_deref(),
        Some("allow it with --allow tar or programs.allow"),
        "{run}"
    );
    assert_eq!(
        hint(&lines[2]).as_deref(),
        Some("grant it with --allow-shell or shell.allow = true"),
        "{run}"
    );
}

// Item 1: options in the environment.

fn tar_rules() -> ArgRules {
    [
        "--checkpoint-action",
        "--to-command",
        "--use-compress-program",
        "-I",
        "--info-script",
        "--new-volume-script",
        "-F",
    ]
    .iter()
    .fold(ArgRules::default(), |r, f| r.forbid_flag(*f))
}

#[test]
fn tar_options_in_the_environment_cannot_bring_forbidden_flags() {
    let sc = Scratch::new();
    let marker = sc.marker("tar-options");
    let options = format!(
        "--checkpoint=1 --checkpoint-action=exec=touch\\ {}",
        s(&marker)
    );
    let archive = sc.root.join("a.tar");
    let attack = || exec("tar", &["-cf", s(&archive), s(&sc.grant)]).env("TAR_OPTIONS", &options);
    // A glob over tar's whole namespace does not load.
    let outcome = attempt(
        Policy::builder()
            .allow_program_with("tar", tar_rules())
            .allow_guest_env("TAR_*"),
        &[attack()],
    );
    assert_no_marker(&marker, &outcome);
    assert!(
        outcome
            .unwrap_err()
            .contains("covers the whole TAR_* namespace"),
        "broad glob"
    );
    // Allowed explicitly as unsafe, the variable is still refused.
    let outcome = attempt(
        Policy::builder()
            .allow_program_with("tar", tar_rules())
            .allow_guest_env("TAR_*")
            .unsafe_env_globs(true),
        &[attack()],
    );
    assert_no_marker(&marker, &outcome);
    let lines = outcome.unwrap();
    assert!(
        lines[0].starts_with("Err(Denied(\"env TAR_OPTIONS refused"),
        "{lines:?}"
    );
}

#[test]
fn git_dir_cannot_point_git_status_at_a_planted_repository() {
    let sc = Scratch::new();
    let marker = sc.marker("git-fsmonitor");
    // The guest's children wrote a repository in the grant whose
    // configuration runs a command on `git status`.
    let repo = sc.grant.join("evil");
    let git = |args: &[&str]| {
        let st = std::process::Command::new("git")
            .args(args)
            .current_dir(&sc.grant)
            .status()
            .unwrap();
        assert!(st.success());
    };
    git(&["init", "-q", s(&repo)]);
    std::fs::write(repo.join("f"), "x").unwrap();
    git(&["-C", s(&repo), "add", "f"]);
    git(&[
        "-C",
        s(&repo),
        "config",
        "core.fsmonitor",
        &format!("touch {}", s(&marker)),
    ]);
    let status_only = ArgRules::default().form(ArgForm::exact(["status"]));
    let outcome = attempt(
        Policy::builder()
            .allow_program_with("git", status_only)
            .dir(&sc.grant, "/work")
            .allow_guest_env("GIT_*")
            .unsafe_env_globs(true),
        &[exec("git", &["status"]).env("GIT_DIR", &format!("{}/.git", s(&repo)))],
    );
    assert_no_marker(&marker, &outcome);
    let lines = outcome.unwrap();
    assert!(
        lines[0].starts_with("Err(Denied(\"env GIT_DIR refused"),
        "{lines:?}"
    );
}

// Item 2 and 3: Landlock.

fn sandboxed(sc: &Scratch, network: Network) -> PolicyBuilder {
    Policy::builder()
        .allow_shell("/bin/sh")
        .allow_program(PYTHON)
        .dir(&sc.grant, "/work")
        .sandbox(Sandbox {
            landlock: LandlockMode::Require,
            network,
            ..Sandbox::default()
        })
}

#[test]
fn a_sandboxed_child_cannot_execute_what_it_wrote() {
    if !landlock_available(6) {
        return;
    }
    let sc = Scratch::new();
    let marker = sc.grant_marker("exec-written");
    let cmd = format!(
        "cp /usr/bin/touch {g}/t && chmod +x {g}/t && {g}/t {m}",
        g = s(&sc.grant),
        m = s(&marker)
    );
    let (lines, run) = probe(
        sandboxed(&sc, Network::Any).build().unwrap(),
        &[shell(&cmd)],
    );
    assert_no_marker(&marker, &lines);
    // The copy was written (writing is granted), running it was refused.
    assert!(sc.grant.join("t").exists(), "{run}");
    assert_eq!(lines, ["rc=Ok(126)"], "{run}");
    // A read list (where children execute) covering the grant would undo
    // that: it does not load.
    let mut read: Vec<PathBuf> = procgate::sandbox::DEFAULT_READ
        .iter()
        .map(PathBuf::from)
        .collect();
    read.push(sc.root.clone());
    let policy = Policy::builder()
        .allow_shell("/bin/sh")
        .dir(&sc.grant, "/work")
        .sandbox(Sandbox {
            landlock: LandlockMode::Require,
            read: Some(read),
            ..Sandbox::default()
        });
    std::fs::remove_file(sc.grant.join("t")).unwrap();
    let outcome = attempt(policy, &[shell(&cmd)]);
    assert_no_marker(&marker, &outcome);
    assert!(
        outcome
            .unwrap_err()
            .contains("they could execute what they wrote"),
        "a read list covering a grant loaded"
    );
}

#[test]
fn a_sandboxed_child_cannot_signal_outside_its_sandbox() {
    if !landlock_available(6) {
        return;
    }
    let sc = Scratch::new();
    let marker = sc.grant_marker("signal-out");
    let mut bystander = std::process::Command::new("sleep")
        .arg("60")
        .spawn()
        .unwrap();
    let cmd = format!(
        "kill -KILL {} && touch {m}; kill -0 $PPID && touch {m}",
        bystander.id(),
        m = s(&marker)
    );
    let (lines, run) = probe(
        sandboxed(&sc, Network::Any).build().unwrap(),
        &[shell(&cmd)],
    );
    let alive = bystander.try_wait().unwrap().is_none();
    let _ = bystander.kill();
    let _ = bystander.wait();
    assert_no_marker(&marker, &lines);
    assert!(
        alive,
        "the sandboxed child killed an unrelated process: {run}"
    );
    assert_eq!(lines, ["rc=Ok(1)"], "{run}");
}

#[test]
fn a_sandboxed_child_connects_only_to_granted_ports() {
    if !landlock_available(4) {
        return;
    }
    let sc = Scratch::new();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let connect = |marker: &Path| {
        let code = format!(
            "import socket, sys\nsocket.create_connection(('127.0.0.1', {port}))\nopen(sys.argv[1], 'w')"
        );
        exec(PYTHON, &["-c", &code, s(marker)])
    };
    let none = sc.grant_marker("net-none");
    let (lines, run) = probe(
        sandboxed(&sc, Network::None).build().unwrap(),
        &[connect(&none)],
    );
    assert_no_marker(&none, &lines);
    assert_eq!(lines, ["rc=Ok(1)"], "{run}");
    assert!(run.stderr.contains("PermissionError"), "{run}");
    // Another port granted: still refused.
    let other = Network::Allow(vec![NetGrant::Connect(port.wrapping_add(1))]);
    let (lines, run) = probe(sandboxed(&sc, other).build().unwrap(), &[connect(&none)]);
    assert_no_marker(&none, &lines);
    assert_eq!(lines, ["rc=Ok(1)"], "{run}");
    // The port granted: the connection is made.
    let granted = sc.grant_marker("net-granted");
    let this = Network::Allow(vec![NetGrant::Connect(port)]);
    let (lines, run) = probe(sandboxed(&sc, this).build().unwrap(), &[connect(&granted)]);
    assert_eq!(lines, ["rc=Ok(0)"], "{run}");
    assert!(granted.exists(), "{run}");
}

#[test]
fn a_sandboxed_child_cannot_reach_an_abstract_socket_outside() {
    use std::os::linux::net::SocketAddrExt;
    if !landlock_available(6) {
        return;
    }
    let sc = Scratch::new();
    let name = format!("procgate-test-{}", std::process::id());
    let addr = std::os::unix::net::SocketAddr::from_abstract_name(&name).unwrap();
    let _listener = std::os::unix::net::UnixListener::bind_addr(&addr).unwrap();
    let marker = sc.grant_marker("abstract-socket");
    let code = format!(
        "import socket, sys\ns = socket.socket(socket.AF_UNIX)\ns.connect('\\x00{name}')\nopen(sys.argv[1], 'w')"
    );
    let req = exec(PYTHON, &["-c", &code, s(&marker)]);
    let (lines, run) = probe(sandboxed(&sc, Network::Any).build().unwrap(), &[req]);
    assert_no_marker(&marker, &lines);
    assert_eq!(lines, ["rc=Ok(1)"], "{run}");
    assert!(run.stderr.contains("PermissionError"), "{run}");
}
