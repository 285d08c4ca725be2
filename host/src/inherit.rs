//! Where the stdio a child inherits from the guest goes: the embedder says
//! ([`InheritedStdio`]); output meant for a WASI stream is copied into it
//! from a pipe by one task per stream.

use bytes::BytesMut;
use procgate_child::pipes::{PipeReader, READ_CHUNK};
use procgate_child::{Input, Output};
use std::sync::Arc;
use tokio::io::AsyncWriteExt;
use wasmtime_wasi::cli::StdoutStream;

/// Where a child's inherited stdout or stderr goes: the guest's own stream
/// as the embedder configured it.
pub enum InheritedOutput {
    /// The host process's own descriptor (what `procgate run` uses, where
    /// the guest's WASI output is the host's too).
    Host,
    /// Discarded (`/dev/null`).
    Discard,
    /// Copied into this stream, e.g. the `MemoryOutputPipe` the embedder
    /// also gave the guest as its WASI stdout.
    Stream(Box<dyn StdoutStream>),
}

impl std::fmt::Debug for InheritedOutput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            InheritedOutput::Host => "Host",
            InheritedOutput::Discard => "Discard",
            InheritedOutput::Stream(_) => "Stream",
        })
    }
}

/// The stdio of the guest that children inherit.
#[derive(Debug)]
pub struct InheritedStdio {
    /// Whether `inherit` for stdin means the host's stdin (else `/dev/null`).
    pub stdin_from_host: bool,
    /// Where inherited stdout goes.
    pub stdout: InheritedOutput,
    /// Where inherited stderr goes.
    pub stderr: InheritedOutput,
}

impl Default for InheritedStdio {
    /// Nothing from or to the host: stdin is `/dev/null`, output discarded.
    fn default() -> Self {
        InheritedStdio {
            stdin_from_host: false,
            stdout: InheritedOutput::Discard,
            stderr: InheritedOutput::Discard,
        }
    }
}

impl InheritedStdio {
    /// Where an inherited stdin comes from.
    pub(crate) fn stdin(&self) -> Input {
        if self.stdin_from_host {
            Input::Host
        } else {
            Input::Devnull
        }
    }
}

impl InheritedOutput {
    /// Where an inherited output goes, for the child launcher: a stream
    /// is fed from a pipe ([`InheritedOutput::pump`]).
    pub(crate) fn output(&self) -> Output {
        match self {
            InheritedOutput::Host => Output::Host,
            InheritedOutput::Discard => Output::Devnull,
            InheritedOutput::Stream(_) => Output::Pipe,
        }
    }

    /// Copies a child's inherited output from `reader` into the guest's
    /// stream until end of file, if this is a stream.
    pub(crate) fn pump(&self, reader: Arc<PipeReader>) -> Option<tokio::task::JoinHandle<()>> {
        let InheritedOutput::Stream(stream) = self else {
            return None;
        };
        let mut out = std::pin::Pin::from(stream.async_stream());
        Some(tokio::spawn(async move {
            let mut buf = BytesMut::with_capacity(READ_CHUNK);
            loop {
                buf.clear();
                match reader.read(&mut buf, READ_CHUNK).await {
                    Ok(0) | Err(_) => break,
                    Ok(_) => {
                        if out.write_all(&buf).await.is_err() {
                            break;
                        }
                    }
                }
            }
            let _ = out.flush().await;
        }))
    }
}
