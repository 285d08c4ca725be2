//! The death signal fires when the *thread* that started a child exits: an
//! embedder spawning from a short-lived thread must not lose the child.

mod common;

use common::{dies, plan, runtime};
use procgate_child::{spawn, Children, Input, Output, Stdio};
use std::sync::Arc;
use std::time::Duration;

#[test]
fn a_child_started_from_a_thread_that_ends_lives_while_its_handle_is_held() {
    let rt = runtime();
    let plan = plan("sleep", &["60"]);
    let children = Arc::new(Children::default());
    let (handle, kids) = (rt.handle().clone(), Arc::clone(&children));
    let child = std::thread::spawn(move || {
        let _runtime = handle.enter();
        let stdio = Stdio {
            stdin: Input::Devnull,
            stdout: Output::Devnull,
            stderr: Output::Devnull,
            start_new_session: false,
        };
        spawn(&plan, stdio, &kids).unwrap()
    })
    .join()
    .unwrap();
    let (exit, pid) = (Arc::clone(child.exit()), child.pid());
    let early = rt.block_on(async {
        tokio::time::timeout(Duration::from_millis(500), exit.wait())
            .await
            .ok()
    });
    assert_eq!(
        early, None,
        "the child died with the thread that started it"
    );
    rt.block_on(async move {
        drop(child);
        children.ended().await;
    });
    assert!(dies(pid), "the child outlived its dropped handle");
}
