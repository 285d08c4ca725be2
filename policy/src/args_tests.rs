//! Unit tests of `args.rs`.

use super::*;

#[test]
fn flag_evasions_are_caught() {
    for (flag, arg) in [
        ("-c", "-c"),
        ("-c", "-xc"),
        ("-c", "-cfoo"),
        ("-exec", "-exec"),
        ("-exec", "--exec"),
        ("-exec", "-exec=x"),
        ("--exec-path", "--exec-path=/tmp"),
        ("--exec-path", "--exec-p"),
        ("--exec-path", "---exec-path"),
        ("--exec-path", "-exec-path"),
        ("--upload-pack", "--upload-pack"),
    ] {
        assert!(flag_hit(flag, arg), "{flag} in {arg}");
    }
    for (flag, arg) in [
        ("-c", "--check"),
        ("-c", "c"),
        ("-c", "-"),
        ("-exec", "-name"),
        ("-exec", "exec"),
        ("--exec-path", "--version"),
        ("--exec-path", "-e"),
        ("config", "--config"),
    ] {
        assert!(!flag_hit(flag, arg), "{flag} in {arg}");
    }
}

#[test]
fn forms_match_positions_and_rest() {
    let form = ArgForm::new([ArgPattern::exact("add"), ArgPattern::exact("--")])
        .rest(ArgPattern::glob("**/*.rs").unwrap());
    let args = |a: &[&str]| a.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    assert!(form.matches(&args(&["add", "--"])));
    assert!(form.matches(&args(&["add", "--", "a.rs", "src/b.rs"])));
    assert!(!form.matches(&args(&["add", "--", "a.txt"])));
    assert!(!form.matches(&args(&["add"])));
    // `*` stays within one path component.
    let dir = ArgPattern::glob("/srv/data/*").unwrap();
    assert!(dir.matches("/srv/data/x"));
    assert!(!dir.matches("/srv/data/../etc/passwd"));
    // ... but it matches `.` and `..` themselves: refused.
    for bad in ["/srv/data/..", "/srv/data/.", "/srv/data/./x"] {
        assert!(!dir.matches(bad), "{bad}");
    }
    let any = ArgPattern::glob("**").unwrap();
    for bad in ["..", ".", "../x", "a/../../b", "--file=../x", "x/."] {
        assert!(!any.matches(bad), "{bad}");
    }
    for good in ["...", ".hidden", "a..b", "x/.git/y", "--file=x"] {
        assert!(any.matches(good), "{good}");
    }
    assert!(ArgPattern::exact("..").matches(".."));
}
