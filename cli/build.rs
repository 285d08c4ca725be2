//! Link flags of the `procgate` binary.

fn main() {
    // DT_RELR: the binary's ~47,000 relative relocations packed into a few
    // KB the dynamic loader applies in a tight loop, instead of a 1.1 MB
    // table of 24-byte entries read (and faulted in) at every start. Needs
    // glibc 2.36 or later at run time (the loader refuses the binary,
    // naming `GLIBC_ABI_DT_RELR`, on an older one).
    println!("cargo:rustc-link-arg-bins=-Wl,-z,pack-relative-relocs");
}
