//! What the benchmark's guest programs share: their arguments, the raw
//! procgate calls the fastest loops use, and the one JSON line each prints.
//!
//! Every guest times its own work with the WASI monotonic clock, so the
//! numbers leave out instantiation (measured on its own by the bench's
//! `start-*` workloads), exactly as the native and asyncio variants leave
//! out their runtime's start.

use procgate_guest::bindings::procgate::subprocess::subprocess as wit_subprocess;
use procgate_guest::bindings::procgate::subprocess::types as wit;
use std::time::Instant;

/// The guest's arguments after the program name.
pub fn args() -> Vec<String> {
    std::env::args().skip(1).collect()
}

/// Argument `i` as a number, or `default`.
pub fn arg_u64(i: usize, default: u64) -> u64 {
    args()
        .get(i)
        .map(|a| a.parse().expect("a numeric argument"))
        .unwrap_or(default)
}

/// Argument `i` as text, or `default`.
pub fn arg_str(i: usize, default: &str) -> String {
    args()
        .get(i)
        .cloned()
        .unwrap_or_else(|| default.to_string())
}

/// Microseconds since `start`.
pub fn micros(start: Instant) -> f64 {
    start.elapsed().as_secs_f64() * 1e6
}

/// Prints the measurement: `{"value": V, "extra": {...}}` on one line.
pub fn report(value: f64, extra: &[(&str, String)]) {
    let extra = extra
        .iter()
        .map(|(k, v)| format!("\"{k}\":{v}"))
        .collect::<Vec<_>>()
        .join(",");
    println!("{{\"value\":{value},\"extra\":{{{extra}}}}}");
}

/// JSON text for a string.
pub fn json_str(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

/// Options with every stream given.
pub fn raw_options(
    stdin: wit::Stdio<'static>,
    stdout: wit::Stdio<'static>,
) -> wit::Options<'static> {
    wit::Options {
        stdin,
        stdout,
        stderr: wit::Stdio::Inherit,
        limit: None,
        cwd: None,
        env: Vec::new(),
        start_new_session: false,
    }
}

/// `create-subprocess-exec` straight through the bindings.
pub fn raw_exec(program: &str, args: &[&str], options: &wit::Options) -> wit::Process {
    let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
    wit_subprocess::create_subprocess_exec(program, &args, options)
        .unwrap_or_else(|e| panic!("create-subprocess-exec {program}: {e:?}"))
}

/// The `main` of a per-operation latency program (`N W [sync|aio]` on the
/// command line): W untimed warm-up rounds, then N timed ones, of `sync_op`
/// or `aio_op` by the chosen face; reports microseconds per operation.
pub fn time_per_op<F: std::future::Future<Output = ()>>(sync_op: fn(), aio_op: fn() -> F) {
    let n = arg_u64(0, 200);
    let warmup = arg_u64(1, 20);
    let face = arg_str(2, "sync");
    let elapsed = match face.as_str() {
        "sync" => {
            (0..warmup).for_each(|_| sync_op());
            let start = Instant::now();
            (0..n).for_each(|_| sync_op());
            micros(start)
        }
        "aio" => procgate_guest::aio::run(async {
            for _ in 0..warmup {
                aio_op().await;
            }
            let start = Instant::now();
            for _ in 0..n {
                aio_op().await;
            }
            micros(start)
        })
        .expect("the outermost aio::run"),
        other => panic!("unknown face {other}"),
    };
    report(elapsed / n as f64, &[("face", json_str(&face))]);
}
