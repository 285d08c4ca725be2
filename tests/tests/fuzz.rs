//! Property tests on the stable toolchain: random sequences of host calls
//! with random arguments, straight against the host traits (no wasm in
//! between, so many sequences run per second), and random policy files.
//!
//! The invariants: no call panics or traps the host (every guest mistake is
//! an error value), and when everything is dropped no child is left.
//!
//! CI runs a bounded number of cases; `PROCGATE_FUZZ_CASES=5000 cargo test
//! --release -p procgate-tests --test fuzz` runs a longer campaign.

use procgate::bindings::procgate::subprocess::subprocess::Host as _;
use procgate::bindings::procgate::subprocess::types::{
    HostFutureCommunicate, HostProcess, Options, Signal, Stdio,
};
use procgate::communicate::FutureCommunicate;
use procgate::policy::{Policy, PolicyFile};
use procgate::process::Process;
use procgate::{Error, ProcgateCtx, ProcgateCtxView};
use proptest::prelude::*;
use std::time::Duration;
use wasmtime::component::{Resource, ResourceTable};
use wasmtime_wasi_io::streams::{DynInputStream, DynOutputStream};

/// The file the refused programs would create: this test process's own.
fn marker() -> String {
    format!("/tmp/procgate-fuzz-{}-must-not-exist", std::process::id())
}

fn cases() -> u32 {
    std::env::var("PROCGATE_FUZZ_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(200)
}

const PROGRAMS: &[(&str, &[&str])] = &[
    ("true", &[]),
    ("cat", &[]),
    ("sh", &["-c", "echo out; echo err >&2; exit 3"]),
    ("head", &["-c", "300000", "/dev/zero"]),
    ("sleep", &["0.05"]),
    ("sleep", &["1000"]),
    (
        "/bin/sh",
        &["-c", "touch /tmp/procgate-fuzz-should-not-exist"],
    ),
    ("no-such-program", &[]),
    ("true", &["a\0b"]),
    ("../../bin/true", &[]),
];

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

fn stdio(n: u8) -> Stdio {
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

fn op() -> impl Strategy<Value = Op> {
    let i = 0usize..6;
    let bytes = proptest::collection::vec(any::<u8>(), 0..2048);
    prop_oneof![
        3 => (0..PROGRAMS.len(), any::<[u8; 3]>(), proptest::option::of(0u32..4), any::<u8>(), any::<u8>(), any::<bool>())
            .prop_map(|(program, stdio, limit, cwd, env, session)| Op::Spawn { program, stdio, limit, cwd, env, session }),
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

async fn bounded<F: std::future::Future>(f: F) {
    // A wait on a child that never ends is not a bug; give up after a while.
    let _ = tokio::time::timeout(Duration::from_millis(500), f).await;
}

async fn run(ops: Vec<Op>) -> Vec<u32> {
    let policy = Policy::builder()
        .allow_program("true")
        .allow_program("cat")
        .allow_program("sh")
        .allow_program("head")
        .allow_program("sleep")
        .allow_program("no-such-program")
        .allow_shell("/bin/sh")
        .allow_guest_env("A")
        .dir("/tmp", "/tmp")
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
                        stderr: stdio(s[2]),
                        limit,
                        cwd: [
                            None,
                            Some("/tmp"),
                            Some("/tmp/.."),
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
                    let args = args
                        .iter()
                        .map(|a| {
                            if *a == "MARKER" {
                                marker()
                            } else {
                                a.to_string()
                            }
                        })
                        .collect();
                    match v.create_subprocess_exec(prog.into(), args, options) {
                        Ok(p) => {
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
                        stderr: stdio(s[2]),
                        limit: None,
                        cwd: None,
                        env: vec![],
                        start_new_session: false,
                    };
                    match v.create_subprocess_shell("echo hi; cat".into(), options) {
                        Ok(p) => {
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
                        if let Ok(n) = stream.check_write() {
                            let n = n.min(bytes.len());
                            let _ = stream.write(bytes::Bytes::copy_from_slice(&bytes[..n]));
                            let _ = stream.flush();
                        }
                    }
                }
                Op::Read(i, n) => {
                    if let Some(s) = pick(&h.outputs, i) {
                        let _ = v.table.get_mut(&s).unwrap().read(n);
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

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn random_host_call_sequences_never_trap_and_leave_no_child(ops in proptest::collection::vec(op(), 1..24)) {
        let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
        let pids = rt.block_on(run(ops));
        rt.shutdown_timeout(Duration::from_secs(5));
        for pid in pids {
            prop_assert!(procgate_tests::wait_gone(pid), "child {pid} left behind");
        }
        prop_assert!(!std::path::Path::new(&marker()).exists(), "a program the policy refused ran");
    }

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
