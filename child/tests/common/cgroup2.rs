//! Finding a writable cgroup v2 on its own, not through the code under
//! test; shared by the integration tests (`common`) and the cgroup unit
//! tests (`src/cgroup/tests.rs`), so it names no crate.

/// The mount point of a writable cgroup v2 with `cgroup.kill`, found on its
/// own (as `scripts/test.sh` does), not through the code under test.
pub fn cgroup2_mount() -> Option<std::path::PathBuf> {
    let mountinfo = std::fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
    mountinfo.lines().find_map(|line| {
        let (left, right) = line.split_once(" - ")?;
        let mount = std::path::Path::new(left.split(' ').nth(4)?);
        if !right.starts_with("cgroup2 ") {
            return None;
        }
        // Tests of one process probe at once: a name each.
        static N: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let probe = mount.join(format!("procgate-probe-{}-{n}", std::process::id()));
        let ok = std::fs::create_dir(&probe).is_ok() && probe.join("cgroup.kill").exists();
        let _ = std::fs::remove_dir(&probe);
        ok.then(|| mount.to_path_buf())
    })
}

/// Whether a writable cgroup v2 with `cgroup.kill` is here
/// ([`cgroup2_mount`]). Prints the skip; fails instead of skipping when
/// `PROCGATE_EXPECT_CGROUP` is set.
pub fn cgroup_expected() -> bool {
    let found = cgroup2_mount().is_some();
    if !found {
        assert!(
            std::env::var_os("PROCGATE_EXPECT_CGROUP").is_none(),
            "PROCGATE_EXPECT_CGROUP is set but no writable cgroup v2 was found"
        );
        eprintln!("skipped: no writable cgroup v2 with cgroup.kill");
    }
    found
}
