//! `procgate inspect`, `procgate declare`, and the up-front notice of
//! `procgate run` for declared needs its policy refuses: exact text and
//! exit codes. A declaration grants nothing.

mod common;

use common::{output, procgate, text};
use procgate_tests::{guest_path, scratch};
use std::path::Path;
use std::process::Output;

/// The imports of a Rust guest built with the pinned toolchain.
const RUST_IMPORTS: &str = "\
imports (15):
  wasi:io/error@0.2.12
  wasi:io/poll@0.2.12
  wasi:io/streams@0.2.12
  procgate:subprocess/types@0.1.0
  procgate:subprocess/subprocess@0.1.0
  wasi:cli/stdout@0.2.12
  wasi:cli/stderr@0.2.12
  wasi:cli/stdin@0.2.12
  wasi:cli/environment@0.2.12
  wasi:cli/exit@0.2.12
  wasi:cli/terminal-input@0.2.12
  wasi:cli/terminal-output@0.2.12
  wasi:cli/terminal-stdin@0.2.12
  wasi:cli/terminal-stdout@0.2.12
  wasi:cli/terminal-stderr@0.2.12
exports (1):
  wasi:cli/run@0.2.0
";

fn inspect(path: &Path) -> Output {
    let mut cmd = procgate();
    cmd.arg("inspect").arg(path);
    output(cmd)
}

/// `procgate run OPTIONS GUEST ARGS` with its own cache.
fn run(cache: &Path, options: &[&str], guest: &Path, args: &[&str]) -> Output {
    let mut cmd = procgate();
    cmd.env("PROCGATE_CACHE_DIR", cache)
        .arg("run")
        .args(options)
        .arg(guest)
        .args(args);
    output(cmd)
}

/// The lines of `text` that start with `prefix`.
fn lines_with<'a>(text: &'a str, prefix: &str) -> Vec<&'a str> {
    text.lines().filter(|l| l.starts_with(prefix)).collect()
}

/// `wasm` with a custom section `procgate:capabilities` holding `text`
/// appended by hand (sizes below 128 bytes: one LEB128 byte each).
fn with_section(wasm: &[u8], text: &str) -> Vec<u8> {
    let name = b"procgate:capabilities";
    let size = 1 + name.len() + text.len();
    assert!(size < 128 && name.len() < 128);
    let mut out = wasm.to_vec();
    out.extend([0, size as u8, name.len() as u8]);
    out.extend_from_slice(name);
    out.extend_from_slice(text.as_bytes());
    out
}

#[test]
fn inspect_shows_a_rust_guests_declaration_imports_and_exports() {
    let path = guest_path("declares");
    let out = inspect(&path);
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let want = format!(
        "{}: a WebAssembly component
command: yes (exports wasi:cli/run)
declared capabilities (procgate:capabilities):
  [programs]
  allow = [\"echo\"]

  [[programs.rules]]
  program = \"tar\"
  args = [{{ match = [\"--version\"] }}]

  [env]
  guest_may_set = [\"LANG\"]

  [signals]
  allow = [\"term\"]

  [limits]
  max_live = 2
{RUST_IMPORTS}",
        path.display()
    );
    assert_eq!(stdout, want);
    assert_eq!(stderr, "");
}

#[test]
fn inspect_says_when_a_guest_declares_nothing() {
    let path = guest_path("learn_probe");
    let out = inspect(&path);
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let want = format!(
        "{}: a WebAssembly component
command: yes (exports wasi:cli/run)
declared capabilities: none (the host's policy alone decides)
{RUST_IMPORTS}",
        path.display()
    );
    assert_eq!(stdout, want);
}

#[test]
fn inspect_refuses_a_core_module_and_a_file_that_is_not_webassembly() {
    let dir = scratch("inspect-kinds");
    let module = dir.path().join("module.wasm");
    std::fs::write(&module, b"\0asm\x01\0\0\0").unwrap();
    let out = inspect(&module);
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(4), "{stderr}");
    assert_eq!(stdout, "");
    assert_eq!(
        stderr,
        format!(
            "procgate: {} is a core WebAssembly module, not a component; a procgate guest is a \
             WASI 0.2 component: build one with `cargo build --target wasm32-wasip2` (a \
             wasm32-wasip1 module can be wrapped: `wasm-tools component new --adapt \
             wasi_snapshot_preview1.wasm`)\n",
            module.display()
        )
    );

    let notes = dir.path().join("notes.txt");
    std::fs::write(&notes, "hello, not wasm\n").unwrap();
    let out = inspect(&notes);
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(4), "{stderr}");
    assert_eq!(
        stderr,
        format!(
            "procgate: {} is not a WebAssembly file; a procgate guest is a WASI 0.2 component: \
             build one with `cargo build --target wasm32-wasip2`\n",
            notes.display()
        )
    );
}

#[test]
fn run_says_up_front_what_it_will_refuse_and_the_declaration_grants_nothing() {
    let cache = tempfile::tempdir().unwrap();
    let guest = guest_path("declares");
    let out = run(cache.path(), &["--allow", "echo"], &guest, &["echo", "tar"]);
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert_eq!(
        lines_with(&stderr, "procgate: declared but refused: "),
        [
            "procgate: declared but refused: program \"tar\" not in allow list; allow it with \
             --allow tar or programs.allow",
            "procgate: declared but refused: env LANG not in guest-settable variables []; allow \
             it with --allow-env LANG or env.guest_may_set",
        ]
    );
    // Declared, refused up front, and still denied when asked for.
    assert_eq!(
        stdout,
        "echo: exit 0\ntar: denied by policy: program \"tar\" not in allow list\n"
    );

    // A policy that grants what is declared: no notice.
    let out = run(
        cache.path(),
        &["--allow", "echo", "--allow", "tar", "--allow-env", "LANG"],
        &guest,
        &["echo"],
    );
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert_eq!(stdout, "echo: exit 0\n");
    assert!(!stderr.contains("declared"), "{stderr}");
}

#[test]
fn a_guest_without_a_declaration_runs_as_before() {
    let cache = tempfile::tempdir().unwrap();
    let guest = guest_path("learn_probe");
    let out = run(cache.path(), &[], &guest, &["echo", "hi"]);
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert_eq!(
        stdout,
        "echo: denied: denied by policy: program \"echo\" not in allow list\n"
    );
    assert!(!stderr.contains("declar"), "{stderr}");
}

#[test]
fn declare_writes_a_top_level_section_that_inspect_and_run_read() {
    let dir = scratch("declare");
    let caps = dir.path().join("caps.toml");
    std::fs::write(
        &caps,
        "[programs]\nallow = [\"tar\"]\n[[dirs]]\nhost = \"/work\"\n",
    )
    .unwrap();
    let declared = dir.path().join("declared.wasm");
    let mut cmd = procgate();
    cmd.arg("declare")
        .arg(&caps)
        .arg(guest_path("learn_probe"))
        .arg("-o")
        .arg(&declared);
    let out = output(cmd);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out).1);

    let (stdout, _) = text(&inspect(&declared));
    assert!(
        stdout.contains(
            "declared capabilities (procgate:capabilities):\n  [programs]\n  allow = [\"tar\"]\n  \
             [[dirs]]\n  host = \"/work\"\nimports (15):"
        ),
        "{stdout}"
    );
    let cache = tempfile::tempdir().unwrap();
    let out = run(cache.path(), &[], &declared, &[]);
    let (_, stderr) = text(&out);
    assert_eq!(
        lines_with(&stderr, "procgate: declared but refused: "),
        [
            "procgate: declared but refused: program \"tar\" not in allow list; allow it with \
             --allow tar or programs.allow",
            "procgate: declared but refused: cwd \"/work\" is not inside a granted directory; \
             grant a directory with --dir or [[dirs]]",
        ]
    );

    // Once only: a second declaration is refused, as is one that does not parse.
    let mut cmd = procgate();
    cmd.arg("declare")
        .arg(&caps)
        .arg(&declared)
        .arg("-o")
        .arg(&declared);
    let out = output(cmd);
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(4), "{stderr}");
    assert!(
        stderr.contains("it already has a procgate:capabilities section"),
        "{stderr}"
    );
    std::fs::write(&caps, "[programs]\nalow = [\"tar\"]\n").unwrap();
    let mut cmd = procgate();
    cmd.arg("declare")
        .arg(&caps)
        .arg(guest_path("learn_probe"))
        .arg("-o")
        .arg(&declared);
    let out = output(cmd);
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert!(
        stderr.contains("caps.toml:2:1: programs.alow: unknown field"),
        "{stderr}"
    );
}

#[test]
fn a_declaration_that_does_not_parse_is_reported_and_ignored() {
    let dir = scratch("declare-broken");
    let wasm = std::fs::read(guest_path("learn_probe")).unwrap();
    let broken = dir.path().join("broken.wasm");
    // Not a policy file, with an escape sequence a terminal would obey.
    std::fs::write(
        &broken,
        with_section(&wasm, "[shell]\nallow = \"\x1b[2J\"\n"),
    )
    .unwrap();

    let out = inspect(&broken);
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(4), "{stderr}");
    assert!(stdout.contains("  allow = \"\\u{1b}[2J\"\n"), "{stdout}");
    assert!(
        !stdout.contains('\x1b') && !stderr.contains('\x1b'),
        "{stderr}"
    );
    assert!(
        stderr.starts_with("procgate: its declaration does not parse: "),
        "{stderr}"
    );

    let cache = tempfile::tempdir().unwrap();
    let out = run(cache.path(), &["--allow", "echo"], &broken, &["echo", "hi"]);
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert_eq!(stdout, "echo: exit 0\n");
    assert_eq!(
        lines_with(&stderr, "procgate: ignoring the guest's declaration: ").len(),
        1,
        "{stderr}"
    );
}
