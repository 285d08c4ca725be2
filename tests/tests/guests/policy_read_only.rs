//! Read-only grants (`[[dirs]] read_only = true`, `--dir HOST::GUEST:ro`)
//! under attack: a child under Landlock may read in the grant and never
//! write, create, remove or execute there, whatever program or spelling
//! it uses. (The guest's own read-only preopen is attacked through the
//! CLI: `cli/tests/read_only_dirs.rs`.)

use crate::probe::{exec, probe, s, shell};
use procgate::sandbox::{LandlockMode, Sandbox};
use procgate::Policy;
use procgate_tests::landlock_available;
use std::os::unix::fs::PermissionsExt;
use tempfile::TempDir;

#[test]
fn a_sandboxed_child_cannot_write_into_a_read_only_grant() {
    if !landlock_available(6) {
        return;
    }
    let dir = TempDir::new().unwrap();
    let root = dir.path().canonicalize().unwrap();
    let (ro, rw) = (root.join("ro"), root.join("rw"));
    for d in [&ro, &rw] {
        std::fs::create_dir(d).unwrap();
    }
    std::fs::write(ro.join("data.txt"), "read me\n").unwrap();
    let tool = ro.join("tool");
    std::fs::write(&tool, format!("#!/bin/sh\ntouch {}/ran\n", s(&rw))).unwrap();
    std::fs::set_permissions(&tool, std::fs::Permissions::from_mode(0o755)).unwrap();
    let policy = Policy::builder()
        .allow_shell("/bin/sh")
        .allow_program("touch")
        .allow_program("cat")
        .dir_read_only(&ro, "/data")
        .dir(&rw, "/out")
        .sandbox(Sandbox {
            landlock: LandlockMode::Require,
            ..Sandbox::default()
        })
        .build()
        .unwrap();
    let attacks = [
        exec("touch", &[&format!("{}/new", s(&ro))]),
        shell(&format!("echo x > {}/new", s(&ro))),
        shell(&format!("echo x >> {}/data.txt", s(&ro))),
        shell(&format!("rm {}/data.txt", s(&ro))),
        shell(&format!("mkdir {}/sub", s(&ro))),
        shell(&format!("mv {0}/data.txt {0}/moved", s(&ro))),
        // Run from inside the grant (its cwd): relative writes fail too.
        shell("touch ./new").cwd("/data"),
        // Executing what is there: read-only grants never execute.
        shell(s(&tool)),
    ];
    let mut reqs = attacks.to_vec();
    reqs.push(exec("cat", &[&format!("{}/data.txt", s(&ro))]).pipe());
    reqs.push(exec("touch", &[&format!("{}/written", s(&rw))]));
    let (lines, run) = probe(policy, &reqs);
    for (i, line) in lines[..attacks.len()].iter().enumerate() {
        assert!(
            line.starts_with("rc=Ok(") && line != "rc=Ok(0)",
            "attack {i} succeeded: {line}\n{run}"
        );
    }
    assert!(
        !ro.join("new").exists() && !ro.join("sub").exists(),
        "{run}"
    );
    assert!(!rw.join("ran").exists(), "{run}");
    assert_eq!(
        std::fs::read_to_string(ro.join("data.txt")).unwrap(),
        "read me\n"
    );
    // Reading is granted, and so is writing in the writable grant.
    assert!(lines[attacks.len()].contains("read me"), "{run}");
    assert_eq!(lines[attacks.len() + 1], "rc=Ok(0)", "{run}");
    assert!(rw.join("written").exists(), "{run}");
}
