//! Issue 17.2: the guest's files and descriptors as a child's stdin, stdout
//! and stderr in a Python guest (`guests/python/tests/files.py`), written
//! as CPython code writes them. The child gets a pipe and the guest library
//! moves the bytes to or from the file (`guests/python/procgate/_pump.py`):
//! the bytes must end up in the file, or come from it, exactly; what cannot
//! be offered raises a clear error. CPython's own tests of the same
//! (`test_stdout_fileobj`, `test_stdin_filedes`, ...) run in
//! `cpython_suite.rs`.

use procgate::runner::GuestLimits;
use procgate_tests::{other_language_guests, scratch, GuestRun};
use std::time::Duration;

#[test]
fn python_files_as_child_stdio() {
    let dir = scratch("python-files");
    let guest = other_language_guests("python").join("files.wasm");
    let at = dir.path().to_str().unwrap();
    let policy = procgate_tests::allow(&["cat", "echo", "tr", "sh"])
        .search_path(["/usr/bin", "/bin"])
        .build()
        .unwrap();
    let run = GuestRun::component(&guest, &[at], policy)
        .dir(dir.path())
        // A pump that stops moving bytes deadlocks the guest: it fails here.
        .limits(GuestLimits {
            deadline: Some(Duration::from_secs(60)),
            max_memory: None,
        })
        .run()
        .unwrap_or_else(|(e, run)| panic!("guest trapped: {e:?}\n{run}"));
    assert_eq!(run.code, 0, "{run}");
    assert_eq!(
        run.lines(),
        [
            "run stdin=file stdout=file: 0 b'PEAR\\n'",
            "check_output stdin=file: b'pear\\n'",
            "text file, offset kept: b'before\\nappended\\n'",
            "stdout=fd stderr=STDOUT: 0",
            "  b'out\\nerr\\n'",
            "stdout and stderr the same file: b'abc'",
            "stderr=fd: b'to-stderr\\n'",
            "2 MiB through cat: 0 2097152 same=True",
            "stdin=file, reading stdout: 2097152 0",
            "poll until done: 0 b'polled\\n'",
            "closed descriptor: [Errno 8] stdout=4321: not an open descriptor of this guest \
             (a guest's descriptors are its own, not the host's: the child gets a pipe to or \
             from the guest's file)",
            "BytesIO: UnsupportedOperation fileno",
            "file closed before the child was done: [Errno 8] the file given as the child's \
             stdout was closed before the child was done with it; returncode 0",
            "fileno: UnsupportedOperation fileno: a procgate child's pipe is a wasi:io stream",
            "fileno: UnsupportedOperation fileno: a procgate child's pipe is a wasi:io stream",
            "asyncio stdout=file: 0",
            "  b'from asyncio\\n'",
            "asyncio stdin=file: b'pear\\n' 0",
        ],
        "{run}"
    );
}
