//! `procgate declare CAPS.toml IN.wasm -o OUT.wasm`: the build step that
//! gives a Python, JavaScript or C guest a declaration (a Rust guest
//! writes it with `procgate_guest::declare!`). The declaration is checked
//! to parse as a policy file, then appended to the guest as a top-level
//! custom section ([`procgate::declare::SECTION`]).

use crate::args::DeclareArgs;
use crate::exit::{fail, Failure, OrExit, GUEST, HOST, POLICY};
use anyhow::Context;
use procgate::declare;
use procgate::policy::Declaration;

/// Writes OUT.wasm; 0, or [`POLICY`] for a declaration that does not
/// parse, [`GUEST`] for an input that is not WebAssembly or already
/// declares, [`HOST`] when a file cannot be written.
pub fn declare(args: &DeclareArgs) -> Result<i32, Failure> {
    let caps = &args.capabilities;
    let text = std::fs::read_to_string(caps)
        .with_context(|| format!("cannot read {}", caps.display()))
        .or_exit(POLICY)?;
    Declaration::parse(&text, &caps.display().to_string()).or_exit(POLICY)?;
    let input = &args.input;
    let wasm = std::fs::read(input)
        .map_err(|e| fail(GUEST, format!("cannot read {}: {e}", input.display())))?;
    let out = declare::append(&wasm, &text)
        .with_context(|| format!("cannot declare capabilities in {}", input.display()))
        .or_exit(GUEST)?;
    std::fs::write(&args.output, out)
        .with_context(|| format!("cannot write {}", args.output.display()))
        .or_exit(HOST)?;
    Ok(0)
}
