//! Declared capabilities (`procgate_guest::declare!`): the section is found
//! in a Rust guest's embedded core module, and a declaration grants
//! nothing: a declared program the host's policy does not allow is denied
//! as if nothing were declared.

host_tests_for!(declares);

use procgate::declare;
use procgate_tests::{allow, guest_path, run_guest};

#[test]
fn a_rust_guest_declaration_is_read_from_its_core_module() {
    let bytes = std::fs::read(guest_path("declares")).unwrap();
    let file = declare::read(&bytes).unwrap();
    let text = file
        .declaration
        .clone()
        .expect("the declares guest has a declaration");
    assert!(text.contains("allow = [\"echo\"]"), "{text}");
    assert!(file.is_command(), "{:?}", file.exports);
    let declared = file.parsed("declares.wasm").unwrap().unwrap();
    assert_eq!(declared.text(), text);
}

#[test]
fn a_declaration_grants_nothing() {
    let run = run_guest(
        "declares",
        &["echo", "tar"],
        allow(&["echo"]).build().unwrap(),
    );
    assert_eq!(
        run.assert_ok().lines(),
        [
            "echo: exit 0",
            "tar: denied by policy: program \"tar\" not in allow list"
        ]
    );
}
