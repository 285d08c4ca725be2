//! Every guest test program is used by a test here.

use procgate_tests::root;

#[test]
fn every_test_program_has_a_test() {
    let bins = root().join("tests/guests/src/bin");
    let mut tests = String::new();
    for entry in std::fs::read_dir(root().join("tests/tests/guests")).unwrap() {
        tests += &std::fs::read_to_string(entry.unwrap().path()).unwrap();
    }
    for entry in std::fs::read_dir(bins).unwrap() {
        let name = entry
            .unwrap()
            .path()
            .file_stem()
            .unwrap()
            .to_string_lossy()
            .into_owned();
        assert!(
            tests.contains(&format!("run_guest(\"{name}\""))
                || tests.contains(&format!("run_guest(\n        \"{name}\"")),
            "test program {name} has no test"
        );
    }
}
