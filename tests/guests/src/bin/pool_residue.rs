//! A guest that looks for what a previous guest left in its memory, for the
//! pooled engine (`procgate::runner::guest_pool`), whose memory slots are
//! reused from one guest to the next.
//!
//! - `write PAGES`: sets its initialised data ([`MARK`]) to `0xA5`, grows
//!   its memory by PAGES pages (64 KiB each) and fills them with `0xA5`.
//! - `read PAGES`: grows its memory by PAGES pages without writing them and
//!   prints `nonzero N` (the bytes of the grown pages that are not zero:
//!   0 by wasm's rules) and `mark N` (the bytes of [`MARK`] that are not
//!   their initial 7).
//! - `hold`: prints `holding`, starts `sleep 30` and waits for it (a guest
//!   that stays alive until its host stops it).

use core::arch::wasm32::{memory_grow, memory_size};
use procgate_guest::sync::create_subprocess_exec;
use procgate_guest::Options;

/// Initialised data: its initial value comes from the component's image.
static mut MARK: [u8; 4096] = [7; 4096];

/// Grows memory 0 by `pages`, returning the grown region's start and
/// length in bytes.
fn grow(pages: usize) -> (*mut u8, usize) {
    let before = memory_grow(0, pages);
    assert_ne!(before, usize::MAX, "memory.grow of {pages} pages failed");
    assert_eq!(memory_size(0), before + pages);
    ((before * 65536) as *mut u8, pages * 65536)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let pages = || -> usize { args[2].parse().unwrap() };
    match args[1].as_str() {
        "write" => {
            // SAFETY: this single-threaded guest is the only user of MARK.
            unsafe { (*core::ptr::addr_of_mut!(MARK)).fill(0xA5) };
            let (start, len) = grow(pages());
            // SAFETY: the region was just grown and belongs to no allocation.
            unsafe { core::ptr::write_bytes(start, 0xA5, len) };
        }
        "read" => {
            let (start, len) = grow(pages());
            // SAFETY: the region was just grown; it is read, never written.
            let grown = unsafe { core::slice::from_raw_parts(start, len) };
            let nonzero = grown.iter().filter(|b| **b != 0).count();
            let mark_start = core::ptr::addr_of!(MARK).cast::<u8>();
            let mut mark = 0;
            for i in 0..4096 {
                // SAFETY: within MARK, read only; volatile, so the compiler
                // does not assume its initial value.
                let byte = unsafe { core::ptr::read_volatile(mark_start.add(i)) };
                mark += usize::from(byte != 7);
            }
            println!("nonzero {nonzero}");
            println!("mark {mark}");
        }
        "hold" => {
            println!("holding");
            let p = create_subprocess_exec("sleep", ["30"], Options::new()).unwrap();
            p.wait().unwrap();
        }
        other => panic!("unknown case {other}"),
    }
}
