//! Unit tests of the decisions.

use crate::{Error, Policy, SpawnRequest};

fn exec<'a>(program: &'a str, args: &'a [String]) -> SpawnRequest<'a> {
    SpawnRequest::exec(program, args)
}

#[test]
fn empty_policy_denies_everything() {
    let p = Policy::default();
    assert!(matches!(
        p.decide_spawn(&exec("true", &[])),
        Err(Error::Denied(_))
    ));
    let shell = SpawnRequest::shell("true");
    assert!(matches!(p.decide_spawn(&shell), Err(Error::Denied(_))));
}

#[test]
fn names_resolve_on_policy_path_and_paths_must_match() {
    let p = Policy::builder().allow_program("true").build().unwrap();
    let plan = p.decide_spawn(&exec("true", &[])).unwrap();
    assert!(plan.program.is_absolute());
    // The same binary by absolute path is the same program.
    let abs = plan.program.display().to_string();
    assert!(p.decide_spawn(&exec(&abs, &[])).is_ok());
    for bad in ["./true", "../../bin/true", "bin/true", "sh", "/bin/sh"] {
        assert!(
            matches!(p.decide_spawn(&exec(bad, &[])), Err(Error::Denied(_))),
            "{bad}"
        );
    }
}

#[test]
fn allowed_but_missing_is_not_found() {
    let p = Policy::builder()
        .allow_program("procgate-no-such-program")
        .build()
        .unwrap();
    assert!(matches!(
        p.decide_spawn(&exec("procgate-no-such-program", &[])),
        Err(Error::NotFound(_))
    ));
}

#[test]
fn nul_bytes_and_loader_vars_are_refused() {
    // A pattern naming only refused variables does not even load.
    let dead = Policy::builder().allow_guest_env("LD_PRELOAD").build();
    assert!(dead.unwrap_err().to_string().contains("always refused"));
    let p = Policy::builder()
        .allow_program("true")
        .allow_guest_env("*")
        .unsafe_env_globs(true)
        .build()
        .unwrap();
    let args = vec!["a\0b".to_string()];
    assert!(matches!(
        p.decide_spawn(&exec("true", &args)),
        Err(Error::InvalidArgument(_))
    ));
    let env = vec![("LD_PRELOAD".to_string(), "/tmp/x.so".to_string())];
    let req = SpawnRequest::exec("true", &[]).env(&env);
    match p.decide_spawn(&req) {
        Err(Error::Denied(rule)) => assert_eq!(rule, "env LD_PRELOAD refused"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn cwd_stays_inside_grants() {
    let scratch = tempfile::TempDir::new().unwrap();
    let dir = scratch.path().to_path_buf();
    std::fs::create_dir_all(dir.join("sub")).unwrap();
    std::os::unix::fs::symlink("/", dir.join("out")).unwrap();
    let p = Policy::builder()
        .allow_program("true")
        .dir(&dir, "/work")
        .build()
        .unwrap();
    let with_cwd = |cwd| SpawnRequest::exec("true", &[]).cwd(Some(cwd));
    let plan = p.decide_spawn(&with_cwd("/work/sub")).unwrap();
    assert_eq!(plan.cwd, dir.canonicalize().unwrap().join("sub"));
    for bad in [
        "/work/..",
        "/work/../etc",
        "/etc",
        "/work/out",
        "work",
        "/workx",
    ] {
        assert!(
            matches!(p.decide_spawn(&with_cwd(bad)), Err(Error::Denied(_))),
            "{bad}"
        );
    }
}
