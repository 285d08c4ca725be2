//! `plugins-50x20`: one plugin of the scale workload, the shape of an
//! editor's extension or a CI runner's job: STEPS short commands one after
//! another, stdout and stderr of each captured through `communicate` and
//! checked. The host runs 50 of these at once and times them all.
//!
//! The steps cycle through the table [`step`] (the native and asyncio
//! variants use the same table: `bench/src/native.rs`,
//! `bench/asyncio_bench.py`). Each side writes the table out itself on
//! purpose: the three are independent programs, each as its own users
//! would write it (a wasm guest cannot share code with the host that
//! measures it without coupling what is compared). Prints nothing; a
//! failed check panics (a trap, which the host reports).
//!
//! Arguments: `PLUGIN STEPS`.

use procgate_bench_guests::arg_u64;
use procgate_guest::sync::create_subprocess_exec;
use procgate_guest::{Options, PIPE};

/// A check of a step's stdout.
type Check = Box<dyn Fn(&[u8]) -> bool>;

/// Step `i` of plugin `plugin`: the program, its arguments, and a check of
/// its stdout.
fn step(plugin: u64, i: u64) -> (&'static str, Vec<String>, Check) {
    match i % 4 {
        0 => {
            let want = format!("plugin-{plugin} step-{i}\n").into_bytes();
            (
                "/usr/bin/echo",
                vec![format!("plugin-{plugin}"), format!("step-{i}")],
                Box::new(move |out: &[u8]| out == want),
            )
        }
        1 => (
            "/usr/bin/uname",
            vec!["-s".into()],
            Box::new(|out: &[u8]| out == b"Linux\n"),
        ),
        2 => (
            "/usr/bin/ls",
            vec!["/usr".into()],
            Box::new(|out: &[u8]| out.split(|&b| b == b'\n').any(|l| l == b"bin")),
        ),
        _ => (
            "/usr/bin/head",
            vec!["-c".into(), "4096".into(), "/dev/zero".into()],
            Box::new(|out: &[u8]| out.len() == 4096),
        ),
    }
}

fn main() {
    let plugin = arg_u64(0, 0);
    let steps = arg_u64(1, 20);
    for i in 0..steps {
        let (program, args, check) = step(plugin, i);
        let mut proc =
            create_subprocess_exec(program, &args, Options::new().stdout(PIPE).stderr(PIPE))
                .unwrap_or_else(|e| panic!("step {i}: {program}: {e:?}"));
        let (out, err) = proc.communicate(None).unwrap();
        let (out, err) = (out.unwrap_or_default(), err.unwrap_or_default());
        assert_eq!(proc.returncode(), Some(0), "step {i}: {program}");
        assert!(check(&out), "step {i}: {program} printed {out:?}");
        assert!(
            err.is_empty(),
            "step {i}: {program} wrote {err:?} to stderr"
        );
    }
}
