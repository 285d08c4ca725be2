//! Unit tests of `env.rs`.

use super::*;

fn vars(v: &[(&str, &str)]) -> Vec<(String, String)> {
    v.iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn at(patterns: &[&str]) -> Vec<At<String>> {
    patterns
        .iter()
        .map(|p| At {
            value: p.to_string(),
            at: Some("p.toml:1:1".into()),
        })
        .collect()
}

#[test]
fn patterns_pass_and_refusals() {
    std::env::set_var("PROCGATE_ENV_TEST", "from-host");
    let rules = EnvRules::new(
        &vars(&[("LANG", "C")]),
        &["PROCGATE_ENV_TEST".into(), "PROCGATE_ENV_MISSING".into()],
        &at(&["GIT_AUTHOR_*", "*"]),
        true,
    )
    .unwrap();
    let env = rules
        .build(&vars(&[("GIT_AUTHOR_NAME", "x")]), false, None)
        .unwrap();
    assert_eq!(
        env,
        vars(&[
            ("PROCGATE_ENV_TEST", "from-host"),
            ("LANG", "C"),
            ("GIT_AUTHOR_NAME", "x")
        ])
    );
    for bad in [
        "LD_PRELOAD",
        "PATH",
        "BASH_FUNC_ls%%",
        "GIT_CONFIG_KEY_0",
        "TAR_OPTIONS",
        "GIT_DIR",
        "GIT_TRACE2_EVENT",
        "XDG_CONFIG_HOME",
        "https_proxy",
        "MAKEFLAGS",
    ] {
        let err = rules.build(&vars(&[(bad, "x")]), false, None).unwrap_err();
        assert!(
            err.to_string()
                .starts_with(&format!("denied: env {bad} refused")),
            "{err}"
        );
    }
}

#[test]
fn broad_and_dead_patterns_are_refused_at_load() {
    for (pattern, why) in [
        ("*", "covers every variable"),
        ("GIT_*", "the whole GIT_* namespace"),
        ("G*", "the whole GIT_* namespace"),
        ("TAR_*", "the whole TAR_* namespace"),
        ("LD_*", "only matches variables that are always refused"),
        (
            "LD_PRELOAD",
            "only matches variables that are always refused",
        ),
        (
            "TAR_OPTIONS",
            "only matches variables that are always refused",
        ),
    ] {
        let err = EnvRules::new(&[], &[], &at(&[pattern]), false).unwrap_err();
        let err = err.to_string();
        assert!(err.starts_with("p.toml:1:1: env.guest_may_set"), "{err}");
        assert!(err.contains(why), "{pattern}: {err}");
    }
    // Narrow globs and exact names load; broad ones only when asked.
    assert!(EnvRules::new(&[], &[], &at(&["GIT_AUTHOR_*", "APP_*", "TERM"]), false).is_ok());
    assert!(EnvRules::new(&[], &[], &at(&["GIT_*"]), true).is_ok());
    assert!(EnvRules::new(&[], &[], &at(&["LD_*"]), true).is_err());
}

#[test]
fn path_only_when_named_exactly() {
    let rules = EnvRules::new(&[], &[], &at(&["PATH"]), false).unwrap();
    assert!(rules.build(&vars(&[("PATH", "/x")]), false, None).is_ok());
    assert!(rules
        .build(&vars(&[("LD_PRELOAD", "/x")]), false, None)
        .is_err());
}
