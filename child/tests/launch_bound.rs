//! A guest's launches under way at once are bounded: the next start waits
//! for a place (each launch holds its plan, whose size the guest chooses),
//! and counts for the limits while it waits.

use procgate_child::{Children, LAUNCHES_AT_ONCE};
use procgate_policy::Usage;
use std::sync::Arc;
use std::time::Duration;

#[tokio::test]
async fn a_start_past_the_launches_at_once_waits_for_a_place() {
    let children = Arc::new(Children::default());
    let mut held = Vec::new();
    for _ in 0..LAUNCHES_AT_ONCE {
        held.push(children.starting().await);
    }
    let next = tokio::spawn({
        let children = Arc::clone(&children);
        async move { children.starting().await }
    });
    // Time enough to take a place, were there one.
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(
        !next.is_finished(),
        "a start past {LAUNCHES_AT_ONCE} at once was not held back"
    );
    assert_eq!(
        children.usage().live,
        LAUNCHES_AT_ONCE + 1,
        "the waiting start is counted"
    );
    // One launch over: its place goes to the waiting start.
    held[0].launched();
    let next = tokio::time::timeout(Duration::from_secs(10), next)
        .await
        .expect("the waiting start never got the place given back")
        .unwrap();
    drop((held, next));
    assert_eq!(children.usage(), Usage::default());
}
