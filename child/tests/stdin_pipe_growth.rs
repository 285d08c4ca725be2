//! A stdin pipe the guest fills grows once to `GROWN_PIPE`, at most
//! `GROWN_PIPES_MAX` at once in a host, and what is written through a
//! grown pipe arrives whole and in order. One test: the bound is per
//! process, and this file is its own process.

use procgate_child::pipes::{pipe, PipeWriter, GROWN_PIPE, GROWN_PIPES_MAX};
use std::io::Read;
use std::os::fd::OwnedFd;

/// Writes into `w` until it is full; returns how much it took.
fn fill(w: &PipeWriter) -> usize {
    let chunk = vec![7u8; 64 * 1024];
    let mut total = 0;
    while let Some(n) = w.try_write(&chunk).unwrap() {
        total += n;
    }
    total
}

#[tokio::test]
async fn a_filled_stdin_pipe_grows_once_within_the_hosts_bound_and_keeps_its_bytes() {
    // Kept open so the pipes stay writable.
    let mut readers: Vec<OwnedFd> = Vec::new();
    let mut writers = Vec::new();
    for i in 0..=GROWN_PIPES_MAX {
        let (r, w) = pipe().unwrap();
        let w = PipeWriter::new(w).unwrap();
        let before = w.capacity().unwrap();
        assert!(before < GROWN_PIPE, "{before}");
        let took = fill(&w);
        let after = w.capacity().unwrap();
        if i < GROWN_PIPES_MAX {
            assert_eq!(after, GROWN_PIPE, "pipe {i} did not grow");
            assert_eq!(took, GROWN_PIPE, "pipe {i} took {took}");
        } else {
            assert_eq!(after, before, "pipe {i} grew past the bound");
            assert_eq!(took, before);
        }
        readers.push(r);
        writers.push(w);
    }
    // A grown pipe dropped frees its place for the next.
    writers.remove(0);
    let (r, w) = pipe().unwrap();
    let w = PipeWriter::new(w).unwrap();
    fill(&w);
    assert_eq!(w.capacity().unwrap(), GROWN_PIPE);
    drop((r, w, writers, readers));

    // Bytes through a pipe that grows mid-stream: all of them, in order.
    let (r, w) = pipe().unwrap();
    let w = PipeWriter::new(w).unwrap();
    let reader = std::thread::spawn(move || {
        let mut got = Vec::new();
        std::fs::File::from(r).read_to_end(&mut got).unwrap();
        got
    });
    let data: Vec<u8> = (0..4 << 20).map(|i: u32| (i % 251) as u8).collect();
    for chunk in data.chunks(64 * 1024) {
        w.write_all(chunk).await.unwrap();
    }
    drop(w);
    let got = reader.join().unwrap();
    assert!(got == data, "{} bytes back of {}", got.len(), data.len());
}
