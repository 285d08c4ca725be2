//! Shared helpers for the host-driven tests: build the guest programs once
//! per test run, run one under a policy with its output captured, and look
//! at what is left behind in `/proc`.
//!
//! Over ~400 lines: the one helper library every host test imports; the
//! `/proc` probes and the kernel-feature checks are the first to move out
//! if it grows.
//!
//! Like wasmtime's `crates/test-programs`: the guests in `tests/guests` (and
//! the examples in `examples/rust`) are compiled to `wasm32-wasip2` by one
//! `cargo build` (a no-op when nothing changed), in their own target
//! directory so it never waits on the lock of the `cargo test` running us.

use procgate::runner::{engine, GuestLimits, Runner};
use procgate::{InheritedOutput, InheritedStdio, Policy, ProcgateCtx};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Mutex, OnceLock};
use std::time::Duration;
use wasmtime::Engine;
use wasmtime_wasi::p2::pipe::MemoryOutputPipe;

/// A scratch directory, as [`scratch`] makes it.
pub use tempfile::TempDir;

/// The workspace root.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// The directory the guests are built into.
pub fn wasm_dir() -> PathBuf {
    root().join("target/wasm/wasm32-wasip2/release")
}

/// Builds every guest program and example once per test process.
fn build_guests() {
    static BUILT: OnceLock<()> = OnceLock::new();
    BUILT.get_or_init(|| {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let status = Command::new(cargo)
            .current_dir(root())
            .args([
                "build",
                "--release",
                "--target",
                "wasm32-wasip2",
                "-p",
                "procgate-test-programs",
                "-p",
                "procgate-examples",
            ])
            .env("CARGO_TARGET_DIR", root().join("target/wasm"))
            .env_remove("RUSTFLAGS")
            .env_remove("CARGO_ENCODED_RUSTFLAGS")
            .status()
            .expect("running cargo to build the guest programs");
        assert!(status.success(), "building the guest programs failed");
    });
}

/// The path of a built guest program or example.
pub fn guest_path(name: &str) -> PathBuf {
    build_guests();
    let path = wasm_dir().join(format!("{name}.wasm"));
    assert!(
        path.exists(),
        "no guest program {name} at {}",
        path.display()
    );
    path
}

fn shared_engine() -> &'static Engine {
    static ENGINE: OnceLock<Engine> = OnceLock::new();
    ENGINE.get_or_init(|| engine().expect("engine"))
}

/// A compiled and linked guest, cached per test process.
pub fn runner(name: &str) -> Runner {
    static RUNNERS: OnceLock<Mutex<HashMap<String, Runner>>> = OnceLock::new();
    let runners = RUNNERS.get_or_init(Default::default);
    if let Some(r) = runners.lock().unwrap().get(name) {
        return r.clone();
    }
    let r = Runner::from_file(shared_engine(), &guest_path(name)).expect("compiling guest");
    runners.lock().unwrap().insert(name.to_string(), r.clone());
    r
}

/// A guest component at `path` (one not built from `tests/guests`: a guest
/// in another language), compiled through the compiled-component cache and
/// linked, once per test process.
pub fn runner_at(path: &Path) -> Runner {
    static RUNNERS: OnceLock<Mutex<HashMap<PathBuf, Runner>>> = OnceLock::new();
    let runners = RUNNERS.get_or_init(Default::default);
    if let Some(r) = runners.lock().unwrap().get(path) {
        return r.clone();
    }
    let cache =
        procgate::cache::ComponentCache::new(procgate::cache::ComponentCache::default_dir());
    let r = Runner::from_file_cached(shared_engine(), path, &cache).expect("compiling guest");
    runners
        .lock()
        .unwrap()
        .insert(path.to_path_buf(), r.clone());
    r
}

/// Builds the guests of another language (`python`, `js` or `c`: the
/// cross-language cases and the reference's examples) with
/// `scripts/guests-other-languages.sh`, which installs the pinned toolchain
/// first if it is missing; once per test process. Returns their directory,
/// `target/guests/LANG`. A toolchain that cannot be installed fails here.
pub fn other_language_guests(lang: &str) -> PathBuf {
    static BUILT: OnceLock<Mutex<HashMap<String, bool>>> = OnceLock::new();
    let built = BUILT.get_or_init(Default::default);
    let done = built.lock().unwrap().get(lang).copied();
    if done.is_none() {
        let status = Command::new("bash")
            .arg(root().join("scripts/guests-other-languages.sh"))
            .args(["build", lang])
            .status()
            .expect("running scripts/guests-other-languages.sh");
        built
            .lock()
            .unwrap()
            .insert(lang.to_string(), status.success());
    }
    assert!(
        built.lock().unwrap()[lang],
        "building the {lang} guests failed (scripts/guests-other-languages.sh build {lang})"
    );
    root().join("target/guests").join(lang)
}

/// What a guest run left: its exit code and everything it (and children
/// with inherited output) wrote.
#[derive(Debug)]
pub struct Run {
    /// The guest's exit code.
    pub code: i32,
    /// The guest's stdout.
    pub stdout: String,
    /// The guest's stderr.
    pub stderr: String,
}

impl Run {
    /// Asserts the guest exited 0, showing its output otherwise.
    pub fn assert_ok(&self) -> &Self {
        assert_eq!(self.code, 0, "guest failed:\n{self}");
        self
    }

    /// The stdout lines.
    pub fn lines(&self) -> Vec<&str> {
        self.stdout.lines().collect()
    }
}

impl std::fmt::Display for Run {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "exit {}\n--- stdout\n{}--- stderr\n{}",
            self.code, self.stdout, self.stderr
        )
    }
}

/// Runs a guest program with `args` under `policy`; children's inherited
/// output goes into the guest's captured stdout/stderr. A trap fails the
/// test; use [`GuestRun`] to look at traps or set limits.
pub fn run_guest(name: &str, args: &[&str], policy: Policy) -> Run {
    GuestRun::new(name, args, policy)
        .run()
        .unwrap_or_else(|(e, run)| panic!("guest {name} trapped: {e:?}\n{run}"))
}

/// One guest run with everything adjustable: limits, kill grace.
pub struct GuestRun {
    name: String,
    path: Option<PathBuf>,
    args: Vec<String>,
    policy: Policy,
    limits: GuestLimits,
    grace: Option<Duration>,
    hooks: Option<std::sync::Arc<dyn procgate::hooks::ProcgateHooks>>,
    dirs: Vec<PathBuf>,
    die_with_host: bool,
}

impl GuestRun {
    /// A run of guest program `name` with `args` under `policy`.
    pub fn new(name: &str, args: &[&str], policy: Policy) -> GuestRun {
        GuestRun {
            name: name.into(),
            path: None,
            args: args.iter().map(|a| a.to_string()).collect(),
            policy,
            limits: GuestLimits {
                deadline: Some(DEFAULT_DEADLINE),
                ..GuestLimits::default()
            },
            grace: None,
            hooks: None,
            dirs: Vec::new(),
            die_with_host: true,
        }
    }

    /// Grants the guest itself `dir` (read-write, at the same path), as
    /// `procgate run --dir` does.
    pub fn dir(mut self, dir: &Path) -> GuestRun {
        self.dirs.push(dir.to_path_buf());
        self
    }

    /// Whether the guest's children die with the host
    /// (`ProcgateCtx::die_with_host`; yes unless told).
    pub fn die_with_host(mut self, yes: bool) -> GuestRun {
        self.die_with_host = yes;
        self
    }

    /// Sets the embedder hooks asked after the policy allows.
    pub fn hooks(mut self, hooks: impl procgate::hooks::ProcgateHooks + 'static) -> GuestRun {
        self.hooks = Some(std::sync::Arc::new(hooks));
        self
    }

    /// A run of the guest component at `path` (see [`runner_at`]).
    pub fn component(path: &Path, args: &[&str], policy: Policy) -> GuestRun {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        GuestRun {
            path: Some(path.to_path_buf()),
            ..GuestRun::new(&name, args, policy)
        }
    }

    /// Sets the guest's deadline and memory limit (without a deadline,
    /// [`DEFAULT_DEADLINE`] still applies).
    pub fn limits(mut self, limits: GuestLimits) -> GuestRun {
        self.limits = limits;
        self
    }

    /// Sets the grace between SIGTERM and SIGKILL for abandoned children.
    pub fn kill_grace(mut self, grace: Duration) -> GuestRun {
        self.grace = Some(grace);
        self
    }

    /// Runs the guest to its end on a fresh multi-threaded runtime. `Err`
    /// carries the trap (or limit error) and what the guest wrote. A run
    /// that has not returned [`WATCHDOG`] after the guest's deadline (a
    /// host that hangs past it) fails the test; compiling the guest comes
    /// before and is not counted.
    pub fn run(mut self) -> Result<Run, (anyhow::Error, Run)> {
        let deadline = *self.limits.deadline.get_or_insert(DEFAULT_DEADLINE);
        let name = self.name.clone();
        // Compiled first (a large guest takes a while on a loaded machine;
        // that is no hang of the host).
        let runner = match &self.path {
            Some(path) => runner_at(path),
            None => runner(&self.name),
        };
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let _ = tx.send(self.run_here(runner));
        });
        rx.recv_timeout(deadline + WATCHDOG).unwrap_or_else(|_| {
            panic!("guest {name}: the host did not return {WATCHDOG:?} after the guest's deadline of {deadline:?}")
        })
    }

    fn run_here(self, runner: Runner) -> Result<Run, (anyhow::Error, Run)> {
        let stdout = MemoryOutputPipe::new(64 << 20);
        let stderr = MemoryOutputPipe::new(64 << 20);
        let mut wasi = wasmtime_wasi::WasiCtx::builder();
        wasi.stdout(stdout.clone())
            .stderr(stderr.clone())
            .arg(&self.name);
        wasi.args(&self.args);
        for dir in &self.dirs {
            wasi.preopened_dir(
                dir,
                dir.to_string_lossy(),
                wasmtime_wasi::FsPerms::ReadWrite,
            )
            .unwrap_or_else(|e| panic!("granting {}: {e:?}", dir.display()));
        }
        let mut ctx = ProcgateCtx::new(self.policy).inherit(InheritedStdio {
            stdin_from_host: false,
            stdout: InheritedOutput::Stream(Box::new(stdout.clone())),
            stderr: InheritedOutput::Stream(Box::new(stderr.clone())),
        });
        if let Some(grace) = self.grace {
            ctx = ctx.kill_grace(grace);
        }
        if !self.die_with_host {
            ctx = ctx.die_with_host(false);
        }
        if let Some(hooks) = self.hooks {
            ctx = ctx.hooks(hooks);
        }
        let wasi = wasi.build();
        let limits = self.limits;
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let result = rt
            .block_on(async move {
                tokio::spawn(async move { runner.run_with(wasi, ctx, limits).await }).await
            })
            .expect("guest task");
        rt.shutdown_timeout(Duration::from_secs(5));
        let text = |p: &MemoryOutputPipe| String::from_utf8_lossy(&p.contents()).into_owned();
        let run = |code| Run {
            code,
            stdout: text(&stdout),
            stderr: text(&stderr),
        };
        match result {
            Ok(code) => Ok(run(code)),
            Err(e) => Err((e, run(-1))),
        }
    }
}

/// The deadline of a guest run unless the test sets another: a guest
/// that hangs (a host call that never returns) fails instead of hanging
/// the suite.
pub const DEFAULT_DEADLINE: Duration = Duration::from_secs(120);

/// How long past its deadline a guest run may take to return (the guest's
/// children ended and reaped) before the test fails.
pub const WATCHDOG: Duration = Duration::from_secs(30);

/// `/usr/bin/python3`: Debian's, not a shim on the tester's PATH.
pub const PYTHON: &str = "/usr/bin/python3";

/// A policy builder allowing `programs`.
pub fn allow(programs: &[&str]) -> procgate::policy::PolicyBuilder {
    programs
        .iter()
        .fold(Policy::builder(), |b, p| b.allow_program(*p))
}

/// The state of process `pid` from `/proc` (`R`, `S`, `Z`, ...), or `None`
/// if there is no such process.
pub fn proc_state(pid: u32) -> Option<char> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The state follows the command name in parentheses.
    stat.rsplit_once(") ")?.1.chars().next()
}

/// Whether process `pid` is gone or a zombie within `limit` (polled every
/// 10 ms); one that is not is SIGKILLed, so that a failing test leaves
/// nothing running.
pub fn dies_within(pid: u32, limit: Duration) -> bool {
    let end = std::time::Instant::now() + limit;
    loop {
        if matches!(proc_state(pid), None | Some('Z')) {
            return true;
        }
        if std::time::Instant::now() >= end {
            // SAFETY: a plain system call.
            unsafe { libc::kill(pid as i32, libc::SIGKILL) };
            return false;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// The text of the file at `path` once it exists (a writer renames it
/// into place whole), waiting up to `limit`.
pub fn wait_for_file(path: &Path, limit: Duration) -> Option<String> {
    let end = std::time::Instant::now() + limit;
    loop {
        if let Ok(text) = std::fs::read_to_string(path) {
            return Some(text);
        }
        if std::time::Instant::now() >= end {
            return None;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// The parent of process `pid` from `/proc`, or `None` if there is no such
/// process.
pub fn proc_parent(pid: u32) -> Option<u32> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    stat.rsplit_once(") ")?.1.split(' ').nth(1)?.parse().ok()
}

/// The process group of process `pid` from `/proc`.
pub fn proc_group(pid: u32) -> Option<u32> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    stat.rsplit_once(") ")?.1.split(' ').nth(2)?.parse().ok()
}

/// A process seen alive (not a zombie) as a descendant of a known
/// process: only such a pid can be checked gone with [`wait_gone`], so
/// that a wrong pid (one that never was a child, or an unreadable `/proc`
/// entry) cannot pass for a child that ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SeenChild(pub u32);

/// Checks that `pid` is alive right now and a descendant of `ancestor`
/// (its child, or a child's child...); the answer to keep for
/// [`wait_gone`], or why not.
pub fn child_of(ancestor: u32, pid: u32) -> Result<SeenChild, String> {
    let Some(state) = proc_state(pid) else {
        return Err(format!("no process {pid}"));
    };
    if state == 'Z' {
        return Err(format!("process {pid} is already a zombie"));
    }
    let mut at = pid;
    for _ in 0..16 {
        match proc_parent(at) {
            Some(p) if p == ancestor => return Ok(SeenChild(pid)),
            Some(p) if p > 1 => at = p,
            _ => break,
        }
    }
    Err(format!(
        "process {pid} (state {state}) does not descend from {ancestor}"
    ))
}

/// [`child_of`] this process, panicking with the reason if `pid` is not
/// a live descendant of it.
pub fn live_child(pid: u32) -> SeenChild {
    child_of(std::process::id(), pid).unwrap_or_else(|e| panic!("{e}"))
}

/// Waits (up to 5 s) until the child `seen` alive before is gone entirely:
/// neither running nor a zombie. Returns whether it is gone.
pub fn wait_gone(seen: SeenChild) -> bool {
    for _ in 0..500 {
        if proc_state(seen.0).is_none() {
            return true;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    false
}

/// Host-side checks a guest asks for while it still runs, as embedder
/// hooks: the guest spawns `true procgate-checkpoint WHAT PID` (see
/// `procgate_test_programs::checkpoint`), the hook runs the check in the
/// host process and refuses the spawn with the answer as its reason, which
/// the guest prints. `WHAT` is `alive` (PID is a live child of the host;
/// the answer is `alive` or why not), `descendant` (PID is a live child of
/// the host or of its children...: `descendant` or why not) or `gone` (PID, seen alive by an
/// earlier checkpoint of the same run, is gone now, neither running nor a
/// zombie: `gone`, or `still there (state S)`, or `never seen alive`; the
/// guest side asks again for up to 5 s) or `in-group-of:LEADER`
/// (PID runs, in process group LEADER: `alive in the group`). Any other
/// spawn is allowed.
#[derive(Clone, Debug, Default)]
pub struct Checkpoints(std::sync::Arc<Mutex<HashMap<u32, SeenChild>>>);

impl Checkpoints {
    fn check(&self, what: &str, pid: &str) -> String {
        let Ok(pid) = pid.parse::<u32>() else {
            return format!("bad pid {pid:?}");
        };
        match what {
            "alive" | "descendant" => {
                let found = match child_of(std::process::id(), pid) {
                    Ok(seen) if what == "alive" && proc_parent(pid) != Some(std::process::id()) => {
                        Err(format!("process {} is not a child of the host", seen.0))
                    }
                    found => found,
                };
                match found {
                    Ok(seen) => {
                        self.0.lock().unwrap().insert(pid, seen);
                        what.into()
                    }
                    Err(e) => e,
                }
            }
            // Not waited for here: the host's own tasks may need this
            // thread to end the process (the guest asks again).
            "gone" => match self.0.lock().unwrap().get(&pid).copied() {
                None => "never seen alive".into(),
                Some(_) if proc_state(pid).is_none() => "gone".into(),
                Some(_) => format!("still there (state {:?})", proc_state(pid)),
            },
            what => match what.strip_prefix("in-group-of:").map(str::parse::<u32>) {
                // A process the guest's signal to its own (exited) child
                // would have reached had it gone to the child's group.
                Some(Ok(leader)) => match (proc_state(pid), proc_group(pid)) {
                    (Some(state), Some(group)) if state != 'Z' && group == leader => {
                        "alive in the group".into()
                    }
                    (state, group) => {
                        format!("not alive in the group: state {state:?}, group {group:?}")
                    }
                },
                _ => format!("unknown checkpoint {what:?}"),
            },
        }
    }

    /// The process `pid` as an `alive` checkpoint of the guest saw it;
    /// panics if none did.
    pub fn seen(&self, pid: u32) -> SeenChild {
        let seen = self.0.lock().unwrap().get(&pid).copied();
        seen.unwrap_or_else(|| panic!("process {pid} was never seen alive by a checkpoint"))
    }
}

impl procgate::hooks::ProcgateHooks for Checkpoints {
    fn on_spawn(&self, plan: &procgate::policy::SpawnPlan) -> Result<(), String> {
        match plan.args.as_slice() {
            [first, what, pid] if first == "procgate-checkpoint" => Err(self.check(what, pid)),
            _ => Ok(()),
        }
    }
}

/// Every pid in `/proc` now.
fn pids() -> Vec<u32> {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    dir.flatten()
        .filter_map(|e| e.file_name().to_str().and_then(|s| s.parse::<u32>().ok()))
        .collect()
}

/// The pids of the processes (of anyone) with `arg` among their arguments.
pub fn processes_with_arg(arg: &str) -> Vec<u32> {
    pids()
        .into_iter()
        .filter(|pid| {
            let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
            cmdline.split(|&b| b == 0).any(|a| a == arg.as_bytes())
        })
        .collect()
}

/// The pids of this process's live children (zombies included), but for
/// the host's own watchdogs (`procgate::cgroup::watchdog_pids`), which
/// live as long as the host.
pub fn children() -> Vec<u32> {
    let me = std::process::id();
    let watchdogs = procgate::cgroup::watchdog_pids();
    let mut out = Vec::new();
    for pid in pids() {
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
            continue;
        };
        let Some((_, rest)) = stat.rsplit_once(") ") else {
            continue;
        };
        let ppid = rest.split(' ').nth(1).and_then(|s| s.parse::<u32>().ok());
        if ppid == Some(me) && !watchdogs.contains(&pid) {
            out.push(pid);
        }
    }
    out
}

/// A fresh, empty directory of the test's own under the target directory
/// (not `/tmp`, which sandboxes may treat apart), removed when dropped.
/// Each test, and each case of a corpus, takes its own: tests run in
/// parallel and must never see each other's files.
pub fn scratch(name: &str) -> tempfile::TempDir {
    let parent = root().join("target/test-scratch");
    std::fs::create_dir_all(&parent).unwrap();
    tempfile::Builder::new()
        .prefix(&format!("{name}-"))
        .tempdir_in(parent)
        .unwrap()
}

/// A scratch directory for attacks whose would-be effect is a marker
/// file that must not exist afterwards: a `tempfile::TempDir` (removed
/// when dropped) known by its canonical path, as a policy compares paths.
pub struct Markers {
    _dir: tempfile::TempDir,
    /// The directory, canonical.
    pub root: PathBuf,
}

impl Markers {
    /// A fresh, empty directory of the test's own.
    pub fn fresh() -> Markers {
        let dir = tempfile::TempDir::new().unwrap();
        let root = dir.path().canonicalize().unwrap();
        Markers { _dir: dir, root }
    }

    /// The marker `NAME.marker` in the directory.
    pub fn marker(&self, name: &str) -> PathBuf {
        self.root.join(format!("{name}.marker"))
    }

    /// Plants an executable script at `path` that creates `marker`.
    pub fn plant(&self, path: &Path, marker: &Path) {
        use std::os::unix::fs::PermissionsExt;
        std::fs::write(path, format!("#!/bin/sh\ntouch {}\n", marker.display())).unwrap();
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
}

/// Asserts that an attack did not run: `marker` does not exist (else
/// shows `outcome`, what the attack got).
pub fn assert_no_marker(marker: &Path, outcome: &impl std::fmt::Debug) {
    assert!(
        !marker.exists(),
        "the attack ran: {} exists ({outcome:#?})",
        marker.display()
    );
}

/// The two faces of the guest library, as guest programs made with
/// `procgate_test_programs::on_both_faces!` take them in `argv[1]`.
pub const FACES: [&str; 2] = ["sync", "aio"];

/// Runs a guest on each face (`run(face)`) and asserts that each exited 0
/// and printed the lines `expected`.
pub fn assert_both_faces(expected: &[&str], run: impl Fn(&str) -> Run) {
    for face in FACES {
        let run = run(face);
        run.assert_ok();
        assert_eq!(run.lines(), expected, "face {face}:\n{run}");
    }
}

/// How many descriptors this process has open.
pub fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd").unwrap().count()
}

/// Held by the tests that count this process's descriptors and by those
/// that open many at once, so that a count is not thrown off by them (the
/// tests of one binary run on parallel threads).
pub fn fd_lock() -> std::sync::MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    LOCK.lock().unwrap_or_else(|e| e.into_inner())
}

/// The Landlock ABI version the kernel offers (0 without Landlock), asked
/// of the kernel directly (`landlock_create_ruleset` with
/// `LANDLOCK_CREATE_RULESET_VERSION`), not through the code under test.
pub fn kernel_landlock_abi() -> i32 {
    const LANDLOCK_CREATE_RULESET_VERSION: libc::c_uint = 1;
    // SAFETY: a plain system call; with a null attribute and size 0 and
    // this flag the kernel only returns the ABI version.
    let abi = unsafe {
        libc::syscall(
            libc::SYS_landlock_create_ruleset,
            std::ptr::null::<libc::c_void>(),
            0usize,
            LANDLOCK_CREATE_RULESET_VERSION,
        )
    };
    abi.max(0) as i32
}

/// A cgroup v2 directory this process may create child cgroups in (and
/// kill them through `cgroup.kill`), found independently of the code under
/// test: the cgroup2 mounts in `/proc/self/mountinfo`, tried by creating
/// and removing a child. `None` if there is none.
pub fn kernel_cgroup2_dir() -> Option<PathBuf> {
    let mountinfo = std::fs::read_to_string("/proc/self/mountinfo").ok()?;
    for line in mountinfo.lines() {
        // "... mount-point options - fstype source super-options"
        let (left, right) = line.split_once(" - ")?;
        if right.split(' ').next() != Some("cgroup2") {
            continue;
        }
        let Some(mount) = left.split(' ').nth(4) else {
            continue;
        };
        // Named per call too: tests in one process probe at once.
        static CALL: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let call = CALL.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let probe = Path::new(mount).join(format!("procgate-probe-{}-{call}", std::process::id()));
        if std::fs::create_dir(&probe).is_ok() {
            let kill = probe.join("cgroup.kill").exists();
            let _ = std::fs::remove_dir(&probe);
            if kill {
                return Some(PathBuf::from(mount));
            }
        }
    }
    None
}

/// A cgroup of the test's own, `<cgroup2 mount>/pgtest-<name>-<pid>`, in
/// which the test runs a host: every host sweeps the cgroups of dead hosts
/// in the cgroup it is in, so a host started by another test could
/// otherwise end what the test looks at. Dropped, it kills what is left in
/// it and removes it with everything below.
pub struct TestCgroup(PathBuf);

impl TestCgroup {
    /// Makes it; `None` without a writable cgroup v2.
    pub fn new(name: &str) -> Option<TestCgroup> {
        let dir = kernel_cgroup2_dir()?.join(format!("pgtest-{name}-{}", std::process::id()));
        std::fs::create_dir(&dir).unwrap();
        Some(TestCgroup(dir))
    }

    /// Its directory.
    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TestCgroup {
    fn drop(&mut self) {
        fn remove(dir: &Path) {
            let _ = std::fs::write(dir.join("cgroup.kill"), "1");
            for sub in std::fs::read_dir(dir).into_iter().flatten().flatten() {
                if sub.path().is_dir() {
                    remove(&sub.path());
                }
            }
            for _ in 0..100 {
                if std::fs::remove_dir(dir).is_ok() || !dir.exists() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        }
        remove(&self.0);
    }
}

/// Whether a test that needs a kernel feature may run: `true` if
/// `present`. Otherwise it prints why the test is skipped and returns
/// `false` — or fails the test when the environment variable
/// `expect_var` is `1` (`scripts/test.sh` sets `PROCGATE_EXPECT_LANDLOCK`
/// and `PROCGATE_EXPECT_CGROUP` where it found the feature itself), so a
/// skip on a machine that has the feature is a failure, not a pass.
///
/// ```no_run
/// if !procgate_tests::kernel_feature("landlock", procgate_tests::kernel_landlock_abi() >= 6, "PROCGATE_EXPECT_LANDLOCK") {
///     return;
/// }
/// ```
pub fn kernel_feature(name: &str, present: bool, expect_var: &str) -> bool {
    if present {
        return true;
    }
    if std::env::var(expect_var).as_deref() == Ok("1") {
        panic!("{name} is missing, but {expect_var}=1 says this machine has it");
    }
    eprintln!("SKIPPED: this kernel lacks {name} (a test needing it did not run)");
    false
}

/// The cgroup v2 directory that a `/proc/PID/cgroup` text names: its
/// `0::/path` line under [`kernel_cgroup2_dir`]. Panics if there is none.
pub fn cgroup2_dir_of(proc_cgroup: &str) -> PathBuf {
    let path = proc_cgroup
        .lines()
        .find_map(|l| l.strip_prefix("0::"))
        .unwrap_or_else(|| panic!("no cgroup v2 line in {proc_cgroup:?}"));
    kernel_cgroup2_dir()
        .expect("a cgroup2 mount")
        .join(path.trim_start_matches('/'))
}

/// Whether a test needing a writable cgroup v2 may run: [`kernel_feature`]
/// on [`kernel_cgroup2_dir`], failing instead of skipping under
/// `PROCGATE_EXPECT_CGROUP=1`.
pub fn cgroup2_available() -> bool {
    kernel_feature(
        "a writable cgroup v2",
        kernel_cgroup2_dir().is_some(),
        "PROCGATE_EXPECT_CGROUP",
    )
}

/// Whether a test needing Landlock ABI `abi` may run: [`kernel_feature`]
/// on [`kernel_landlock_abi`], failing instead of skipping under
/// `PROCGATE_EXPECT_LANDLOCK=1`.
pub fn landlock_available(abi: i32) -> bool {
    kernel_feature(
        &format!("Landlock ABI {abi}"),
        kernel_landlock_abi() >= abi,
        "PROCGATE_EXPECT_LANDLOCK",
    )
}

/// Runs `cmd` to its end with stdout and stderr captured (stdin from
/// `/dev/null`), like [`Command::output`], but fails the test if it has
/// not ended within `limit` (it is killed first): a command that hangs
/// on a regression fails loudly instead of hanging the suite.
pub fn output_within(cmd: &mut Command, limit: Duration) -> std::process::Output {
    use std::io::Read;
    use std::process::Stdio;
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("starting {cmd:?}: {e}"));
    let drain = |mut r: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut bytes = Vec::new();
            let _ = r.read_to_end(&mut bytes);
            bytes
        })
    };
    let out = drain(Box::new(child.stdout.take().unwrap()));
    let err = drain(Box::new(child.stderr.take().unwrap()));
    let start = std::time::Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{cmd:?} did not end within {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    std::process::Output {
        status,
        stdout: out.join().unwrap(),
        stderr: err.join().unwrap(),
    }
}

// The guest test programs and the cases each dispatches on, as
// `tests/build.rs` found them: `guest_programs::*` (one type per program),
// `foreach_guest_program!` and `guest_case!`.
include!(concat!(env!("OUT_DIR"), "/guest_programs.rs"));
