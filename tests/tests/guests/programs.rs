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
        // Run through `run_guest("name", ...)` or `GuestRun::new("name", ...)`,
        // however rustfmt wrapped the call.
        let used = ["run_guest(", "GuestRun::new("].iter().any(|call| {
            tests.match_indices(call).any(|(i, _)| {
                tests[i + call.len()..]
                    .trim_start()
                    .starts_with(&format!("\"{name}\""))
            })
        });
        assert!(used, "test program {name} has no test");
    }
}
