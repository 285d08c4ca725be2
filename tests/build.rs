//! Lists the guest test programs (`tests/guests/src/bin/*.rs`) for the
//! host tests, as wasmtime's `crates/test-programs/artifacts/build.rs`
//! does for its own: one type per program and a `foreach_guest_program!`
//! macro, with which `tests/tests/guests/programs.rs` checks at compile
//! time that each program has a host test. Also the case names each
//! program dispatches on (the string literals of its `match` arms), for
//! `guest_case!`, so that a host test naming a case its guest does not know
//! fails to compile.
//!
//! Only names are read here: the programs themselves are compiled to
//! `wasm32-wasip2` by the test harness when a test first runs one
//! (`procgate_tests::guest_path`).

use std::collections::BTreeMap;
use std::fmt::Write;
use std::path::Path;

fn main() {
    let bin = Path::new("guests/src/bin");
    println!("cargo:rerun-if-changed={}", bin.display());
    let mut programs = BTreeMap::new();
    for entry in std::fs::read_dir(bin).expect("reading tests/guests/src/bin") {
        let path = entry.unwrap().path();
        if path.extension().and_then(|e| e.to_str()) != Some("rs") {
            continue;
        }
        let name = path.file_stem().unwrap().to_str().unwrap().to_owned();
        assert!(
            !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'),
            "guest program {path:?}: name it with letters, digits and `_` (it becomes an identifier)"
        );
        let source = std::fs::read_to_string(&path).unwrap();
        programs.insert(name, match_arms(&source));
    }
    let out = Path::new(&std::env::var_os("OUT_DIR").unwrap()).join("guest_programs.rs");
    std::fs::write(out, generate(&programs)).unwrap();
}

/// The string literals a source matches on: each `"case"` followed by `=>`
/// or by a single `|` (one of several patterns of an arm).
fn match_arms(source: &str) -> Vec<String> {
    let mut arms = Vec::new();
    let mut rest = source;
    while let Some(start) = rest.find('"') {
        let after = &rest[start + 1..];
        let Some(end) = after.find('"') else { break };
        let literal = &after[..end];
        let next = after[end + 1..].trim_start();
        let is_arm = next.starts_with("=>") || (next.starts_with('|') && !next.starts_with("||"));
        let plain = !literal.is_empty()
            && literal
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
        if is_arm && plain && !arms.iter().any(|a| a == literal) {
            arms.push(literal.to_owned());
        }
        // A non-plain literal may hold an escaped quote: resume after it
        // only when it is plain, else just after its opening quote.
        rest = if plain { &after[end + 1..] } else { after };
    }
    arms
}

fn generate(programs: &BTreeMap<String, Vec<String>>) -> String {
    let mut code = String::from(
        "/// The guest test programs, `tests/guests/src/bin/*.rs`: one type each\n\
         /// (named like the program), found by `tests/build.rs`.\n\
         pub mod guest_programs {\n",
    );
    for name in programs.keys() {
        writeln!(
            code,
            "    /// `tests/guests/src/bin/{name}.rs`.\n    \
             #[allow(non_camel_case_types)]\n    pub enum {name} {{}}"
        )
        .unwrap();
    }
    let names: Vec<String> = programs.keys().map(|n| format!("{n:?}")).collect();
    writeln!(
        code,
        "    /// The names of all of them.\n    pub const ALL: &[&str] = &[{}];\n}}\n",
        names.join(", ")
    )
    .unwrap();

    code += "/// `$mac!(program)` for each guest test program (as wasmtime's\n\
             /// `foreach_p2!`): `tests/tests/guests/programs.rs` checks with it that\n\
             /// each has a host test.\n\
             #[macro_export]\n\
             macro_rules! foreach_guest_program {\n    ($mac:ident) => {\n";
    for name in programs.keys() {
        writeln!(code, "        $mac!({name});").unwrap();
    }
    code += "    };\n}\n\n";

    code += "/// `guest_case!(program, \"case\")` is `\"case\"` when guest program\n\
             /// `program` dispatches on that case (a string literal of a `match` arm\n\
             /// in its source); any other pair does not compile.\n\
             #[macro_export]\n\
             macro_rules! guest_case {\n";
    for (name, arms) in programs {
        for arm in arms {
            writeln!(code, "    ({name}, {arm:?}) => {{ {arm:?} }};").unwrap();
        }
    }
    code += "    ($program:ident, $case:literal) => {\n        \
             compile_error!(concat!(\"guest program `\", stringify!($program), \
             \"` (tests/guests/src/bin) has no case \", stringify!($case)))\n    };\n}\n";
    code
}
