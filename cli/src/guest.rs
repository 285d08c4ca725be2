//! Loading a guest file for `procgate run` and `procgate compile`: what it
//! is (a component, a core module, not WebAssembly at all), compiled or
//! taken from the cache (with a progress line while a compile takes long),
//! checked to be a command, and linked.

use crate::exit::{fail, Failure, OrExit, GUEST};
use crate::progress::Progress;
use procgate::cache::{ComponentCache, FileStamp, LoadStep};
use procgate::runner::Runner;
use procgate::wasmtime::component::Component;
use procgate::wasmtime::Engine;
use procgate::Policy;
use std::io::Read;
use std::path::Path;

/// What to build instead of a file procgate cannot run.
const BUILD_HINT: &str =
    "a procgate guest is a WASI 0.2 component: build one with `cargo build --target wasm32-wasip2`";

/// The guest file at `path`, read once for everything `procgate run`
/// needs of it (its declaration, the cache's name for it, the compile);
/// fails unless it starts like a WebAssembly component, before reading
/// more than its first 8 bytes.
pub fn read(path: &Path) -> Result<Vec<u8>, Failure> {
    let (file, _) = open(path)?;
    read_open(file, path)
}

fn cannot(path: &Path) -> impl Fn(std::io::Error) -> Failure + '_ {
    move |e| fail(GUEST, format!("cannot read {}: {e}", path.display()))
}

/// The guest file at `path`, opened, and its stamp, taken before anything
/// is read from it (so a change while it is read shows in a later stamp).
fn open(path: &Path) -> Result<(std::fs::File, FileStamp), Failure> {
    let file = std::fs::File::open(path).map_err(cannot(path))?;
    let stamp = FileStamp::of(&file.metadata().map_err(cannot(path))?);
    Ok((file, stamp))
}

/// The whole of `file` (opened from `path`), which must start like a
/// WebAssembly component.
fn read_open(mut file: std::fs::File, path: &Path) -> Result<Vec<u8>, Failure> {
    let mut head = [0u8; 8];
    let n = read_up_to(&mut file, &mut head).map_err(cannot(path))?;
    check_kind(path, &head[..n])?;
    // Sized once from the file's length (growing the buffer by doubling
    // cost a copy and a page fault per page at each step).
    let len = file.metadata().map_or(0, |m| m.len() as usize);
    let mut bytes = Vec::with_capacity(len.max(n));
    bytes.extend_from_slice(&head[..n]);
    file.read_to_end(&mut bytes).map_err(cannot(path))?;
    Ok(bytes)
}

/// The guest at `path` for `procgate run`, compiled or from `cache`, after
/// noticing on stderr what its declaration asks that `policy` refuses. An
/// unchanged file the cache has a stamp of ([`FileStamp`]) is neither read
/// nor hashed; any other is read once, and its stamp recorded.
pub fn load(
    engine: &Engine,
    path: &Path,
    cache: &ComponentCache,
    policy: &Policy,
) -> Result<Component, Failure> {
    let (file, stamp) = open(path)?;
    if let Some((component, declaration)) = cache.load_stamped(engine, &stamp) {
        crate::inspect::notice_refusals(path, declaration.as_deref(), policy);
        return Ok(component);
    }
    let bytes = read_open(file, path)?;
    let declaration = procgate::declare::read(&bytes)
        .ok()
        .and_then(|f| f.declaration);
    crate::inspect::notice_refusals(path, declaration.as_deref(), policy);
    let mut progress = Progress::new(path);
    let component = cache.load_bytes_stamped_with(
        engine,
        &bytes,
        path,
        Some((&stamp, declaration.as_deref())),
        |step| progress.step(step),
    );
    progress.finish();
    component.or_exit(GUEST)
}

/// Fails unless `head` (the first bytes of the file at `path`) starts
/// like a WebAssembly component.
fn check_kind(path: &Path, head: &[u8]) -> Result<(), Failure> {
    let shown = path.display();
    if head.len() < 8 || &head[..4] != b"\0asm" {
        return Err(fail(
            GUEST,
            format!("{shown} is not a WebAssembly file; {BUILD_HINT}"),
        ));
    }
    // The layer field: 0 for a core module, 1 for a component.
    match head[6..8] {
        [1, 0] => Ok(()),
        [0, 0] => Err(fail(
            GUEST,
            format!(
                "{shown} is a core WebAssembly module, not a component; {BUILD_HINT} \
                 (a wasm32-wasip1 module can be wrapped: \
                 `wasm-tools component new --adapt wasi_snapshot_preview1.wasm`)"
            ),
        )),
        _ => Err(fail(
            GUEST,
            format!("{shown} is WebAssembly of an unknown layer; {BUILD_HINT}"),
        )),
    }
}

fn read_up_to(file: &mut std::fs::File, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match file.read(&mut buf[n..])? {
            0 => break,
            k => n += k,
        }
    }
    Ok(n)
}

/// The compiled component `bytes` (read by [`read`] from `path`), from
/// `cache` (no directory: compiled every time), with a progress line on
/// stderr when it compiles long; `also` sees the cache's steps too.
pub fn compile_with(
    engine: &Engine,
    path: &Path,
    bytes: &[u8],
    cache: &ComponentCache,
    mut also: impl FnMut(LoadStep),
) -> Result<Component, Failure> {
    let mut progress = Progress::new(path);
    let component = cache.load_bytes_with(engine, bytes, path, |step| {
        progress.step(step);
        also(step);
    });
    progress.finish();
    component.or_exit(GUEST)
}

/// Fails unless `component` is a command (exports `wasi:cli/run`).
pub fn check_command(engine: &Engine, path: &Path, component: &Component) -> Result<(), Failure> {
    let ty = component.component_type();
    let is_command = ty
        .exports(engine)
        .any(|(name, _)| name == "wasi:cli/run" || name.starts_with("wasi:cli/run@"));
    if is_command {
        return Ok(());
    }
    Err(fail(
        GUEST,
        format!(
            "{} is a component but not a command: it exports no `wasi:cli/run`; \
             build a program with a `main` (a binary crate) with \
             `cargo build --target wasm32-wasip2`",
            path.display()
        ),
    ))
}

/// `component` (the guest at `path`) checked to be a command and linked.
pub fn runner(engine: &Engine, path: &Path, component: &Component) -> Result<Runner, Failure> {
    check_command(engine, path, component)?;
    Runner::new(engine, component).map_err(|e| link_failure(path, e))
}

/// A command that does not link: it imports what procgate does not provide.
pub fn link_failure(path: &Path, e: anyhow::Error) -> Failure {
    Failure {
        code: GUEST,
        error: e.context(format!(
            "{} needs imports procgate does not provide",
            path.display()
        )),
    }
}
