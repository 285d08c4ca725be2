//! A guest that writes to a child's stdin through the raw `wasi:io` stream
//! and drops the stream without waiting for the pipe to drain (as asyncio's
//! transport close, `Popen.communicate` and JS `stdin.end()` do): the
//! child must still get every byte, then end of file.
use procgate_guest::bindings::procgate::subprocess::{subprocess as wit_sub, types as wit};

fn main() {
    let total: usize = std::env::args()
        .nth(1)
        .and_then(|n| n.parse().ok())
        .unwrap_or(100_000);
    let options = wit::Options {
        stdin: wit::Stdio::Pipe,
        stdout: wit::Stdio::Pipe,
        stderr: wit::Stdio::Inherit,
        limit: None,
        cwd: None,
        env: Vec::new(),
        start_new_session: false,
    };
    let p = wit_sub::create_subprocess_exec("cat", &[], &options).unwrap();
    let stdin = p.stdin().unwrap();
    let stdout = p.stdout().unwrap();
    let data: Vec<u8> = (0..total).map(|i| b'a' + (i % 26) as u8).collect();
    let mut sent = 0;
    while sent < total {
        // Only the stream's own permit is waited for, never the pipe.
        let permit = stdin.check_write().unwrap() as usize;
        if permit == 0 {
            stdin.subscribe().block();
            continue;
        }
        let n = permit.min(total - sent);
        stdin.write(&data[sent..sent + n]).unwrap();
        sent += n;
    }
    // No flush, no wait: the drop closes stdin.
    drop(stdin);
    let mut out = Vec::new();
    while let Ok(chunk) = stdout.blocking_read(1 << 16) {
        out.extend_from_slice(&chunk);
    }
    drop(stdout);
    let rc = p.wait().unwrap();
    println!("sent {sent} got {} same {} rc {rc}", out.len(), out == data);
}
