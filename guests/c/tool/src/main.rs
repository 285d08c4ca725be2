//! Builds procgate's C guests (`scripts/guests-other-languages.sh`):
//!
//! ```text
//! procgate-c-tool bindings WIT_DIR WORLD OUT_DIR   # as `wit-bindgen c --world WORLD --out-dir OUT_DIR WIT_DIR`
//! procgate-c-tool component CORE.wasm OUT.wasm     # as `wasm-tools component new CORE.wasm --adapt wasi_snapshot_preview1=ADAPTER -o OUT.wasm`
//! ```
//!
//! The same libraries as `wit-bindgen-cli` 0.63.0 and `wasm-tools`, with
//! the preview1 command adapter of wasmtime 48 built in: one crate to
//! compile instead of two command-line tools and an adapter download.

use anyhow::{bail, Context, Result};
use std::path::Path;
use wit_bindgen_core::wit_parser::Resolve;
use wit_bindgen_core::Files;
use wit_component::ComponentEncoder;

fn bindings(wit: &Path, world: &str, out: &Path) -> Result<()> {
    let mut resolve = Resolve::default();
    let (package, _) = resolve
        .push_path(wit)
        .with_context(|| format!("reading {}", wit.display()))?;
    let world = resolve.select_world(&[package], Some(world))?;
    let mut files = Files::default();
    let mut generator = wit_bindgen_c::Opts::default().build();
    generator.generate(&mut resolve, world, &mut files)?;
    std::fs::create_dir_all(out)?;
    for (name, contents) in files.iter() {
        std::fs::write(out.join(name), contents)?;
    }
    Ok(())
}

fn component(core: &Path, out: &Path) -> Result<()> {
    let module = std::fs::read(core).with_context(|| format!("reading {}", core.display()))?;
    let bytes = ComponentEncoder::default()
        .module(&module)?
        .adapter(
            "wasi_snapshot_preview1",
            wasi_preview1_component_adapter_provider::WASI_SNAPSHOT_PREVIEW1_COMMAND_ADAPTER,
        )?
        .validate(true)
        .encode()?;
    std::fs::write(out, bytes)?;
    Ok(())
}

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.iter().map(String::as_str).collect::<Vec<_>>()[..] {
        ["bindings", wit, world, out] => bindings(wit.as_ref(), world, out.as_ref()),
        ["component", core, out] => component(core.as_ref(), out.as_ref()),
        ["--version"] => {
            println!("procgate-c-tool {}", env!("CARGO_PKG_VERSION"));
            Ok(())
        }
        _ => bail!(
            "usage: procgate-c-tool bindings WIT_DIR WORLD OUT_DIR | component CORE.wasm OUT.wasm"
        ),
    }
}
