//! Stopping `procgate run` from outside: SIGINT, SIGTERM and SIGHUP end the
//! guest the normal way (its children get SIGTERM, the grace, SIGKILL to
//! their whole tree, and are reaped), then the CLI exits with 128 + the
//! signal's number, as a shell reports a process a signal ended.

use tokio::signal::unix::{signal, SignalKind};

/// The signals that stop the CLI.
const STOPPING: [libc::c_int; 3] = [libc::SIGINT, libc::SIGTERM, libc::SIGHUP];

/// Installs handlers for the stopping signals (from now on they no longer
/// kill the process) and returns a future that resolves to the number of
/// the first one received. Must be called inside the tokio runtime.
pub fn stopping() -> std::io::Result<impl std::future::Future<Output = libc::c_int>> {
    let mut streams = Vec::new();
    for sig in STOPPING {
        streams.push((sig, signal(SignalKind::from_raw(sig))?));
    }
    Ok(async move {
        let waits = streams.iter_mut().map(|(sig, stream)| {
            let sig = *sig;
            Box::pin(async move {
                stream.recv().await;
                sig
            })
        });
        futures::future::select_all(waits).await.0
    })
}

/// The exit code of a CLI stopped by `sig`.
pub fn exit_code(sig: libc::c_int) -> i32 {
    128 + sig
}
