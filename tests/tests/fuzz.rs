//! Property tests on the stable toolchain: random sequences of host calls
//! with random arguments, straight against the host traits (no wasm in
//! between, so many sequences run per second), and random policy files.
//!
//! Over ~400 lines: the random host-call sequences (their generators,
//! the calls they make and the invariants checked) are one test, and the
//! random policy files reuse its vocabulary.
//!
//! The invariants: no call panics or traps the host (every guest mistake is
//! an error value, streams' included), no program the policy refuses runs
//! (each would create the case's marker file), and when everything is
//! dropped no child is left. Most random spawns are meant to start a
//! process (the test checks that they do), so that the sequences exercise
//! live processes, not only refusals.
//!
//! CI runs a bounded number of cases; `PROCGATE_FUZZ_CASES=5000 cargo test
//! --release -p procgate-tests --test fuzz` runs a longer campaign.

use procgate::bindings::procgate::subprocess::subprocess::Host as _;
use procgate::bindings::procgate::subprocess::types::{
    HostFutureCommunicate, HostProcess, Options, Signal, Stdio,
};
use procgate::policy::{Policy, PolicyFile};
use procgate::{Error, FutureCommunicate, Process, ProcgateCtx, ProcgateCtxView};
use proptest::prelude::*;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use wasmtime::component::{Resource, ResourceTable};
use wasmtime_wasi_io::streams::{DynInputStream, DynOutputStream, StreamError};

/// Spawn requests made, and processes they started, over the whole run;
/// sequences that started at least one process, of all sequences.
static SPAWNS: AtomicUsize = AtomicUsize::new(0);
static STARTED: AtomicUsize = AtomicUsize::new(0);
static SEQUENCES: AtomicUsize = AtomicUsize::new(0);
static SEQUENCES_STARTING: AtomicUsize = AtomicUsize::new(0);

fn cases() -> u32 {
    std::env::var("PROCGATE_FUZZ_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(200)
}

/// The programs a spawn picks from: first those the policy allows, then
/// those it refuses (`"MARKER"` stands for the case's marker file, which
/// the refused `touch`es would create if they ran).
const PROGRAMS: &[(&str, &[&str])] = &[
    ("true", &[]),
    ("cat", &[]),
    ("sh", &["-c", "echo out; echo err >&2; exit 3"]),
    ("head", &["-c", "300000", "/dev/zero"]),
    ("sleep", &["0.05"]),
    ("sleep", &["1000"]),
    // Refused.
    ("touch", &["MARKER"]),
    ("/usr/bin/touch", &["MARKER"]),
    ("no-such-program", &[]),
    ("true", &["a\0b"]),
    ("../../bin/true", &[]),
];

/// How many of [`PROGRAMS`] the policy allows (the first ones).
const ALLOWED: usize = 6;

#[derive(Debug, Clone)]
enum Op {
    Spawn {
        program: usize,
        stdio: [u8; 3],
        limit: Option<u32>,
        cwd: u8,
        env: u8,
        session: bool,
    },
    Shell {
        stdio: [u8; 3],
    },
    Pid(usize),
    Returncode(usize),
    Wait(usize),
    Subscribe(usize),
    Communicate(usize, Option<Vec<u8>>),
    StartCommunicate(usize, Option<Vec<u8>>),
    Get(usize),
    DropFuture(usize),
    Signal(usize, u8),
    Terminate(usize),
    Kill(usize),
    TakeStdin(usize),
    TakeStdout(usize),
    TakeStderr(usize),
    Write(usize, Vec<u8>),
    Read(usize, usize),
    DropInput(usize),
    DropOutput(usize),
    DropProcess(usize),
}

/// The stdio mode for stdin or stdout: one in 16 is `stdout`, which only
/// stderr may take (an invalid-argument error).
fn stdio(n: u8) -> Stdio {
    match n % 16 {
        15 => Stdio::Stdout,
        n => stderr_stdio(n % 3),
    }
}

/// The stdio mode for stderr: any.
fn stderr_stdio(n: u8) -> Stdio {
    match n % 4 {
        0 => Stdio::Inherit,
        1 => Stdio::Pipe,
        2 => Stdio::Devnull,
        _ => Stdio::Stdout,
    }
}

fn signal(n: u8) -> Signal {
    // A handful of signals that end or do not bother the children.
    [
        Signal::Term,
        Signal::Kill,
        Signal::Hup,
        Signal::Usr1,
        Signal::Cont,
        Signal::Int,
    ][n as usize % 6]
}

/// A spawn request: `valid` ones start a process, the others pick any
/// program, stdio, limit, cwd and env.
fn spawn(valid: bool) -> impl Strategy<Value = Op> {
    let (programs, cwds, envs, limits) = if valid {
        (0..ALLOWED, 0u8..2, 0u8..2, 1u32..4)
    } else {
        (0..PROGRAMS.len(), 0u8..5, 0u8..3, 0u32..4)
    };
    let stdio = any::<[u8; 3]>().prop_map(move |mut s| {
        if valid {
            // Never `stdout` for stdin or stdout (see `stdio`).
            s[0] %= 15;
            s[1] %= 15;
        }
        s
    });
    (
        programs,
        stdio,
        proptest::option::of(limits),
        cwds,
        envs,
        any::<bool>(),
    )
        .prop_map(|(program, stdio, limit, cwd, env, session)| Op::Spawn {
            program,
            stdio,
            limit,
            cwd,
            env,
            session,
        })
}

fn op() -> impl Strategy<Value = Op> {
    let i = 0usize..6;
    let bytes = proptest::collection::vec(any::<u8>(), 0..2048);
    prop_oneof![
        // Three in four spawns are valid requests (an allowed program,
        // valid stdio, limit, cwd and env) and start a process; the rest
        // pick anything, refusals included.
        2 => spawn(true),
        1 => spawn(false),
        1 => any::<[u8; 3]>().prop_map(|stdio| Op::Shell { stdio }),
        1 => i.clone().prop_map(Op::Pid),
        1 => i.clone().prop_map(Op::Returncode),
        1 => i.clone().prop_map(Op::Wait),
        1 => i.clone().prop_map(Op::Subscribe),
        1 => (i.clone(), proptest::option::of(bytes.clone())).prop_map(|(i, b)| Op::Communicate(i, b)),
        1 => (i.clone(), proptest::option::of(bytes.clone())).prop_map(|(i, b)| Op::StartCommunicate(i, b)),
        1 => i.clone().prop_map(Op::Get),
        1 => i.clone().prop_map(Op::DropFuture),
        1 => (i.clone(), any::<u8>()).prop_map(|(i, s)| Op::Signal(i, s)),
        1 => i.clone().prop_map(Op::Terminate),
        1 => i.clone().prop_map(Op::Kill),
        1 => i.clone().prop_map(Op::TakeStdin),
        1 => i.clone().prop_map(Op::TakeStdout),
        1 => i.clone().prop_map(Op::TakeStderr),
        1 => (i.clone(), bytes).prop_map(|(i, b)| Op::Write(i, b)),
        1 => (i.clone(), 0usize..100_000).prop_map(|(i, n)| Op::Read(i, n)),
        1 => i.clone().prop_map(Op::DropInput),
        1 => i.clone().prop_map(Op::DropOutput),
        1 => i.prop_map(Op::DropProcess),
    ]
}

/// The handles the sequence holds, by slot.
#[derive(Default)]
struct Handles {
    processes: Vec<Option<Resource<Process>>>,
    futures: Vec<Option<Resource<FutureCommunicate>>>,
    inputs: Vec<Option<Resource<DynOutputStream>>>,
    outputs: Vec<Option<Resource<DynInputStream>>>,
    pids: Vec<u32>,
}

fn pick<T: 'static>(slots: &[Option<Resource<T>>], i: usize) -> Option<Resource<T>> {
    let live: Vec<u32> = slots.iter().flatten().map(|r| r.rep()).collect();
    (!live.is_empty()).then(|| Resource::new_borrow(live[i % live.len()]))
}

fn take<T: 'static>(slots: &mut [Option<Resource<T>>], i: usize) -> Option<Resource<T>> {
    let live: Vec<usize> = (0..slots.len()).filter(|&j| slots[j].is_some()).collect();
    (!live.is_empty()).then(|| slots[live[i % live.len()]].take().unwrap())
}

/// A host call's outcome must be a value, never a trap.
fn no_trap<T>(r: Result<T, Error>) {
    if let Err(Error::Trap(e)) = r {
        panic!("host call trapped: {e:?}");
    }
}

/// A stream call's outcome must be a value or a stream error, never a
/// trap; the value, if any.
fn stream_no_trap<T>(r: Result<T, StreamError>) -> Option<T> {
    match r {
        Ok(v) => Some(v),
        Err(StreamError::Trap(e)) => panic!("stream call trapped: {e:?}"),
        Err(_) => None,
    }
}

async fn bounded<F: std::future::Future>(f: F) {
    // A wait on a child that never ends is not a bug; give up after a while.
    let _ = tokio::time::timeout(Duration::from_millis(500), f).await;
}

/// Runs one sequence with `scratch` as the guest's granted `/work`;
/// returns the pids of the children it started.
async fn run(ops: Vec<Op>, scratch: &Path) -> Vec<u32> {
    let marker = scratch.join("marker").to_str().unwrap().to_string();
    let policy = Policy::builder()
        .allow_program("true")
        .allow_program("cat")
        .allow_program("sh")
        .allow_program("head")
        .allow_program("sleep")
        .allow_program("no-such-program")
        .allow_shell("/bin/sh")
        .allow_guest_env("A")
        .dir(scratch, "/work")
        .build()
        .unwrap();
    let mut ctx = ProcgateCtx::new(policy).kill_grace(Duration::from_millis(20));
    let children = ctx.children().clone();
    let mut table = ResourceTable::new();
    let mut h = Handles::default();
    {
        let mut v = ProcgateCtxView {
            ctx: &mut ctx,
            table: &mut table,
        };
        for op in ops {
            match op {
                Op::Spawn {
                    program,
                    stdio: s,
                    limit,
                    cwd,
                    env,
                    session,
                } => {
                    let (prog, args) = PROGRAMS[program];
                    let options = Options {
                        stdin: stdio(s[0]),
                        stdout: stdio(s[1]),
                        stderr: stderr_stdio(s[2]),
                        limit,
                        cwd: [
                            None,
                            Some("/work"),
                            Some("/work/.."),
                            Some("rel"),
                            Some("/nonexistent"),
                        ][cwd as usize % 5]
                            .map(String::from),
                        env: match env % 3 {
                            0 => vec![],
                            1 => vec![("A".into(), "b".into())],
                            _ => vec![("LD_PRELOAD".into(), "/x.so".into())],
                        },
                        start_new_session: session,
                    };
                    let args = args.iter().map(|a| a.replace("MARKER", &marker)).collect();
                    SPAWNS.fetch_add(1, Ordering::Relaxed);
                    match v.create_subprocess_exec(prog.into(), args, options).await {
                        Ok(p) => {
                            STARTED.fetch_add(1, Ordering::Relaxed);
                            h.pids.push(v.table.get(&p).unwrap().pid());
                            h.processes.push(Some(p));
                        }
                        Err(e) => no_trap::<()>(Err(e)),
                    }
                }
                Op::Shell { stdio: s } => {
                    let options = Options {
                        stdin: stdio(s[0]),
                        stdout: stdio(s[1]),
                        stderr: stderr_stdio(s[2]),
                        limit: None,
                        cwd: None,
                        env: vec![],
                        start_new_session: false,
                    };
                    SPAWNS.fetch_add(1, Ordering::Relaxed);
                    match v
                        .create_subprocess_shell("echo hi; cat".into(), options)
                        .await
                    {
                        Ok(p) => {
                            STARTED.fetch_add(1, Ordering::Relaxed);
                            h.pids.push(v.table.get(&p).unwrap().pid());
                            h.processes.push(Some(p));
                        }
                        Err(e) => no_trap::<()>(Err(e)),
                    }
                }
                Op::Pid(i) => {
                    if let Some(p) = pick(&h.processes, i) {
                        v.pid(p).unwrap();
                    }
                }
                Op::Returncode(i) => {
                    if let Some(p) = pick(&h.processes, i) {
                        v.returncode(p).unwrap();
                    }
                }
                Op::Wait(i) => {
                    if let Some(p) = pick(&h.processes, i) {
                        bounded(async { no_trap(v.wait(p).await) }).await;
                    }
                }
                Op::Subscribe(i) => {
                    if let Some(p) = pick(&h.processes, i) {
                        let pollable = HostProcess::subscribe(&mut v, p).unwrap();
                        v.table.delete(pollable).unwrap();
                    }
                }
                Op::Communicate(i, input) => {
                    if let Some(p) = pick(&h.processes, i) {
                        bounded(async { no_trap(v.communicate(p, input).await) }).await;
                    }
                }
                Op::StartCommunicate(i, input) => {
                    if let Some(p) = pick(&h.processes, i) {
                        match v.start_communicate(p, input) {
                            Ok(f) => h.futures.push(Some(f)),
                            Err(e) => no_trap::<()>(Err(e)),
                        }
                    }
                }
                Op::Get(i) => {
                    if let Some(f) = pick(&h.futures, i) {
                        let _ = v.get(f).unwrap();
                    }
                }
                Op::DropFuture(i) => {
                    if let Some(f) = take(&mut h.futures, i) {
                        HostFutureCommunicate::drop(&mut v, f).unwrap();
                    }
                }
                Op::Signal(i, s) => {
                    if let Some(p) = pick(&h.processes, i) {
                        no_trap(v.send_signal(p, signal(s)));
                    }
                }
                Op::Terminate(i) => {
                    if let Some(p) = pick(&h.processes, i) {
                        no_trap(v.terminate(p));
                    }
                }
                Op::Kill(i) => {
                    if let Some(p) = pick(&h.processes, i) {
                        no_trap(v.kill(p));
                    }
                }
                Op::TakeStdin(i) => {
                    if let Some(p) = pick(&h.processes, i) {
                        match v.stdin(p) {
                            Ok(s) => h.inputs.push(Some(s)),
                            Err(e) => no_trap::<()>(Err(e)),
                        }
                    }
                }
                Op::TakeStdout(i) | Op::TakeStderr(i) => {
                    if let Some(p) = pick(&h.processes, i) {
                        let r = if matches!(op, Op::TakeStdout(_)) {
                            v.stdout(p)
                        } else {
                            v.stderr(p)
                        };
                        match r {
                            Ok(s) => h.outputs.push(Some(s)),
                            Err(e) => no_trap::<()>(Err(e)),
                        }
                    }
                }
                Op::Write(i, bytes) => {
                    if let Some(s) = pick(&h.inputs, i) {
                        let stream = v.table.get_mut(&s).unwrap();
                        if let Some(n) = stream_no_trap(stream.check_write()) {
                            let n = n.min(bytes.len());
                            stream_no_trap(
                                stream.write(bytes::Bytes::copy_from_slice(&bytes[..n])),
                            );
                            stream_no_trap(stream.flush());
                        }
                    }
                }
                Op::Read(i, n) => {
                    if let Some(s) = pick(&h.outputs, i) {
                        stream_no_trap(v.table.get_mut(&s).unwrap().read(n));
                    }
                }
                Op::DropInput(i) => {
                    if let Some(s) = take(&mut h.inputs, i) {
                        v.table.delete(s).unwrap();
                    }
                }
                Op::DropOutput(i) => {
                    if let Some(s) = take(&mut h.outputs, i) {
                        v.table.delete(s).unwrap();
                    }
                }
                Op::DropProcess(i) => {
                    if let Some(p) = take(&mut h.processes, i) {
                        procgate::bindings::procgate::subprocess::types::HostProcess::drop(
                            &mut v, p,
                        )
                        .unwrap();
                    }
                }
            }
        }
    }
    // The guest ends: everything it held goes.
    drop(table);
    drop(ctx);
    children.ended().await;
    h.pids
}

#[test]
fn random_host_call_sequences_never_trap_and_leave_no_child() {
    let config = ProptestConfig {
        cases: cases(),
        failure_persistence: None,
        ..ProptestConfig::default()
    };
    let mut runner = proptest::test_runner::TestRunner::new(config);
    let result = runner.run(&proptest::collection::vec(op(), 1..24), |ops| {
        let scratch = procgate_tests::scratch("fuzz");
        let spawned = STARTED.load(Ordering::Relaxed);
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        // A sequence that hangs (every wait in it is bounded) fails.
        let pids = rt.block_on(async {
            tokio::time::timeout(Duration::from_secs(60), run(ops, scratch.path())).await
        });
        rt.shutdown_timeout(Duration::from_secs(5));
        let pids = pids.map_err(|_| TestCaseError::fail("the sequence hung"))?;
        SEQUENCES.fetch_add(1, Ordering::Relaxed);
        if STARTED.load(Ordering::Relaxed) > spawned {
            SEQUENCES_STARTING.fetch_add(1, Ordering::Relaxed);
        }
        for pid in pids {
            // Reaped at the guest's end (within 5 s): no longer our child,
            // running or a zombie (the pid may be another's already).
            let ours = || procgate_tests::proc_parent(pid) == Some(std::process::id());
            for _ in 0..500 {
                if !ours() {
                    break;
                }
                std::thread::sleep(Duration::from_millis(10));
            }
            prop_assert!(!ours(), "child {pid} left behind");
        }
        prop_assert!(
            !scratch.path().join("marker").exists(),
            "a program the policy refused ran"
        );
        Ok(())
    });
    let (spawns, started) = (
        SPAWNS.load(Ordering::Relaxed),
        STARTED.load(Ordering::Relaxed),
    );
    let (sequences, starting) = (
        SEQUENCES.load(Ordering::Relaxed),
        SEQUENCES_STARTING.load(Ordering::Relaxed),
    );
    eprintln!(
        "fuzz: {started} of {spawns} spawns started a process; \
         {starting} of {sequences} sequences started at least one"
    );
    if let Err(e) = result {
        panic!("{e}");
    }
    // Three in four are meant to (see `op`).
    assert!(
        started * 5 >= spawns * 3,
        "only {started} of {spawns} random spawns started a process"
    );
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn random_policy_text_is_parsed_or_refused_with_a_location(text in policy_text()) {
        match PolicyFile::parse(&text, "fuzz.toml") {
            Ok(file) => {
                // A parsed file builds or fails cleanly.
                let _ = file.into_builder(std::path::Path::new("/tmp")).build();
            }
            Err(e) => {
                let msg = e.to_string();
                prop_assert!(msg.starts_with("fuzz.toml:"), "{msg}");
            }
        }
    }
}

/// Policy-like text: valid pieces, shuffled, some corrupted.
fn policy_text() -> impl Strategy<Value = String> {
    let pieces = prop_oneof![
        Just("[programs]\n".to_string()),
        Just("allow = [\"ls\", \"/bin/true\"]\n".to_string()),
        Just("search_path = [\"/usr/bin\"]\n".to_string()),
        Just("[shell]\n".to_string()),
        Just("allow = true\n".to_string()),
        Just("path = \"/bin/sh\"\n".to_string()),
        Just("[env]\n".to_string()),
        Just("set = { A = \"b\" }\n".to_string()),
        Just("[[dirs]]\nhost = \"/tmp\"\nguest = \"/work\"\n".to_string()),
        Just("[signals]\nallow = [\"term\"]\n".to_string()),
        "[a-z_\\[\\]=\"{}, \n0-9.]{0,40}",
    ];
    proptest::collection::vec(pieces, 0..12).prop_map(|v| v.concat())
}
