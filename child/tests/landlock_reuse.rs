//! A Landlock ruleset reused across spawns never grants less (or more)
//! than a fresh one: a granted directory replaced between two spawns
//! (same policy, same paths) is granted as it is now, not as it was.

mod common;

use common::{first_line, runtime};
use procgate_child::{spawn, Children, Input, Output, Stdio};
use procgate_policy::sandbox::{LandlockMode, Sandbox};
use procgate_policy::{Policy, SpawnRequest};
use std::sync::Arc;

fn landlock_abi() -> i64 {
    // SAFETY: with a null attribute, size 0 and flag 1
    // (LANDLOCK_CREATE_RULESET_VERSION) the kernel only returns its ABI.
    unsafe {
        libc::syscall(
            libc::SYS_landlock_create_ruleset,
            std::ptr::null::<libc::c_void>(),
            0usize,
            1u32,
        )
    }
}

#[test]
fn a_granted_directory_replaced_between_spawns_is_granted_as_it_is_now() {
    if landlock_abi() < 6 {
        assert!(
            std::env::var("PROCGATE_EXPECT_LANDLOCK").as_deref() != Ok("1"),
            "PROCGATE_EXPECT_LANDLOCK=1 but this kernel lacks Landlock ABI 6"
        );
        eprintln!("SKIPPED: this kernel lacks Landlock ABI 6");
        return;
    }
    let scratch = tempfile::TempDir::new().unwrap();
    let dir = scratch.path().join("granted");
    std::fs::create_dir(&dir).unwrap();
    std::fs::write(dir.join("f"), "one\n").unwrap();
    let policy = Policy::builder()
        .allow_program("cat")
        .sandbox(Sandbox {
            landlock: LandlockMode::Require,
            write: vec![dir.clone()],
            ..Sandbox::default()
        })
        .build()
        .unwrap();
    let file = dir.join("f").to_string_lossy().into_owned();
    let rt = runtime();
    let children = Arc::new(Children::default());
    let cat = || {
        let plan = policy
            .decide_spawn(&SpawnRequest::exec("cat", std::slice::from_ref(&file)))
            .unwrap();
        let stdio = Stdio {
            stdin: Input::Devnull,
            stdout: Output::Pipe,
            stderr: Output::Devnull,
            start_new_session: false,
        };
        rt.block_on(async {
            let mut child = spawn(&plan, stdio, &children).unwrap();
            let line = first_line(&mut child).await;
            child.exit().wait().await;
            line
        })
    };
    assert_eq!(cat(), "one\n");
    // The directory is replaced: the same path names another inode.
    std::fs::rename(&dir, scratch.path().join("old")).unwrap();
    std::fs::create_dir(&dir).unwrap();
    std::fs::write(dir.join("f"), "two\n").unwrap();
    assert_eq!(
        cat(),
        "two\n",
        "the second child was sandboxed by the old directory's rule"
    );
}
