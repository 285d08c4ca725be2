//! CPython's own subprocess tests, run inside a Python guest against
//! procgate: `test_asyncio/test_subprocess.py` and the applicable classes of
//! `test_subprocess.py`, read from an installed CPython through a read-only
//! directory grant (nothing of CPython's tests is in this repository), by
//! the runner guest `guests/python/tests/cpython_suite.py`. Children the
//! tests start with `sys.executable` are the host's `python3`.
//!
//! The test fails when fewer tests pass than [`RECORDED_PASSES`], the count
//! in `guests/python/cpython-tests.md` (written by
//! `scripts/cpython-tests.sh`, which runs this test with
//! `PROCGATE_CPYTHON_RESULTS=FILE` to get every test's outcome).

use procgate::runner::GuestLimits;
use procgate::{InheritedOutput, InheritedStdio, ProcgateCtx};
use procgate_tests::{other_language_guests, runner_at, scratch};
use std::path::PathBuf;
use std::time::Duration;
use wasmtime_wasi::p2::pipe::MemoryOutputPipe;
use wasmtime_wasi::FsPerms;

/// Tests that pass today (`guests/python/cpython-tests.md`): fewer fails.
const RECORDED_PASSES: usize = 154;

/// The test classes run (`MODULE:CLASS`): see `guests/python/cpython-tests.md`
/// for why these and not the others.
const CLASSES: &[&str] = &[
    "test.test_asyncio.test_subprocess:SubprocessMixin",
    "test.test_asyncio.test_subprocess:SubprocessTransportTests",
    "test.test_subprocess:ProcessTestCase",
    "test.test_subprocess:RunFuncTestCase",
    "test.test_subprocess:ContextManagerTests",
    "test.test_subprocess:MiscTests",
    "test.test_subprocess:POSIXProcessTestCase",
];

/// The programs the tests start, besides `python3` (`sys.executable`).
const PROGRAMS: &[&str] = &[
    "python3", "cat", "echo", "true", "false", "sleep", "ls", "env", "sh",
];

/// CPython 3.13's `test` package: `$PROCGATE_CPYTHON_TESTS`, else pyenv's
/// 3.13 (the guest's interpreter is componentize-py 0.25.1's CPython 3.14,
/// whose tests no package installs here; see the table for what that
/// mismatch changes).
fn cpython_tests() -> PathBuf {
    if let Some(dir) = std::env::var_os("PROCGATE_CPYTHON_TESTS") {
        return dir.into();
    }
    let versions = PathBuf::from(std::env::var("HOME").unwrap()).join(".pyenv/versions");
    let mut found: Vec<PathBuf> = std::fs::read_dir(&versions)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path().join("lib/python3.13/test"))
        .filter(|p| p.join("test_asyncio/test_subprocess.py").is_file())
        .collect();
    found.sort();
    found.pop().unwrap_or_else(|| {
        panic!(
            "CPython 3.13's test package not found under {} (pyenv install 3.13, \
             or set PROCGATE_CPYTHON_TESTS to a CPython's Lib/test)",
            versions.display()
        )
    })
}

/// One test's outcome line from the guest.
struct Outcome<'a> {
    id: &'a str,
    outcome: &'a str,
    detail: &'a str,
}

fn outcomes(stdout: &str) -> Vec<Outcome<'_>> {
    stdout
        .lines()
        .filter_map(|line| {
            let mut fields = line.splitn(4, '\t');
            (fields.next()? == "cpython-test").then_some(())?;
            Some(Outcome {
                id: fields.next()?,
                outcome: fields.next()?,
                detail: fields.next().unwrap_or(""),
            })
        })
        .collect()
}

#[test]
fn cpython_subprocess_tests_pass_in_a_python_guest() {
    let tests = cpython_tests();
    let guest = other_language_guests("python").join("cpython_suite.wasm");
    let work = scratch("cpython-suite");
    // The scratch directory has the same path for the guest as for the
    // host, so paths the tests compare (cwd) mean the same on both sides.
    let work_path = work.path().to_str().unwrap().to_string();
    let policy = PROGRAMS
        .iter()
        .fold(procgate::Policy::builder(), |b, p| b.allow_program(*p))
        .search_path(["/usr/bin", "/bin"])
        .allow_shell("/bin/sh")
        // The tests' children start their own (`sys.executable` in them is
        // found on PATH).
        .set_env("PATH", "/usr/bin:/bin")
        .allow_guest_env("*")
        .allow_guest_env("PATH")
        .unsafe_env_globs(true)
        .dir(&work_path, &work_path)
        .build()
        .unwrap();

    let stdout = MemoryOutputPipe::new(64 << 20);
    let stderr = MemoryOutputPipe::new(64 << 20);
    let mut wasi = wasmtime_wasi::WasiCtx::builder();
    wasi.stdout(stdout.clone()).stderr(stderr.clone());
    // CPython's tests are at the same path for the guest as for the host:
    // the tests give children (the host's python3) paths of their files.
    let tests_path = tests.to_str().unwrap();
    wasi.arg("cpython_suite")
        .arg(tests.parent().unwrap().to_str().unwrap())
        .arg(&work_path)
        .args(CLASSES);
    wasi.preopened_dir(&tests, tests_path, FsPerms::ReadOnly)
        .unwrap();
    wasi.preopened_dir(&work_path, &work_path, FsPerms::ReadWrite)
        .unwrap();
    let ctx = ProcgateCtx::new(policy).inherit(InheritedStdio {
        stdin_from_host: false,
        stdout: InheritedOutput::Stream(Box::new(stdout.clone())),
        stderr: InheritedOutput::Stream(Box::new(stderr.clone())),
    });
    let runner = runner_at(&guest);
    let deadline = Duration::from_secs(600);
    let limits = GuestLimits {
        deadline: Some(deadline),
        max_memory: None,
    };
    let wasi = wasi.build();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let result = rt.block_on(async move {
            tokio::spawn(async move { runner.run_with(wasi, ctx, limits).await }).await
        });
        let _ = tx.send(result.map_err(|e| e.to_string()));
    });
    let result = rx
        .recv_timeout(deadline + Duration::from_secs(60))
        .expect("the CPython suite's guest did not end within its deadline");
    let out = String::from_utf8_lossy(&stdout.contents()).into_owned();
    let err = String::from_utf8_lossy(&stderr.contents()).into_owned();
    if let Some(file) = std::env::var_os("PROCGATE_CPYTHON_RESULTS") {
        std::fs::write(file, &out).unwrap();
    }
    let code = result
        .expect("guest task")
        .unwrap_or_else(|e| panic!("the suite's guest trapped: {e:?}\n{out}\n{err}"));
    assert_eq!(code, 0, "the suite's guest failed:\n{out}\n{err}");

    let all = outcomes(&out);
    let mut passed: Vec<&str> = all
        .iter()
        .filter(|o| o.outcome == "pass")
        .map(|o| o.id)
        .collect();
    passed.sort();
    passed.dedup();
    let not_passed: Vec<String> = all
        .iter()
        .filter(|o| o.outcome != "pass")
        .map(|o| format!("{} {}: {}", o.outcome, o.id, o.detail))
        .collect();
    assert!(
        passed.len() >= RECORDED_PASSES,
        "{} CPython tests passed in the guest, fewer than the {RECORDED_PASSES} recorded \
         in guests/python/cpython-tests.md; the others:\n{}",
        passed.len(),
        not_passed.join("\n")
    );
}
