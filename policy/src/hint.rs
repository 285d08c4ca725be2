//! How to allow what a denial refused, said once in the audit log beside
//! the rule.

/// How to allow what a denial refused: the CLI flag and the policy key
/// (as Deno and WasmEdge say it), for the text of an [`crate::Error::Denied`]
/// (without the `denied: ` prefix). `None` when the policy cannot allow it
/// (a refused variable, a relative path, a hook's no). The guest gets the
/// rule; this is for the audit log, to say once beside the rule.
///
/// ```
/// use procgate_policy::how_to_allow;
/// assert_eq!(
///     how_to_allow("program \"tar\" not in allow list").as_deref(),
///     Some("allow it with --allow tar or programs.allow")
/// );
/// assert_eq!(how_to_allow("env LD_PRELOAD refused"), None);
/// ```
pub fn how_to_allow(denial: &str) -> Option<String> {
    let quoted = |s: &str| s.split('"').nth(1).map(str::to_string);
    if denial.starts_with("program ") && denial.ends_with("\" not in allow list") {
        return quoted(denial).map(|program| allow_program(&program));
    }
    if denial.starts_with("program ") && denial.contains(": argument") {
        let program = quoted(denial)?;
        return Some(format!("see the [[programs.rules]] of {program:?}"));
    }
    if denial.starts_with("shell not granted") {
        return Some("grant it with --allow-shell or shell.allow = true".into());
    }
    if let Some(rest) = denial.strip_prefix("env ") {
        let name = rest.split(' ').next()?;
        return rest
            .contains(" not in guest-settable variables")
            .then(|| format!("allow it with --allow-env {name} or env.guest_may_set"));
    }
    if denial.starts_with("cwd ") && denial.ends_with("is not inside a granted directory") {
        return Some("grant a directory with --dir or [[dirs]]".into());
    }
    if let Some(rest) = denial.strip_prefix("signal ") {
        let name = rest.split(' ').next()?;
        return Some(format!("add \"{name}\" to signals.allow"));
    }
    if denial.starts_with("sandbox.landlock is \"require\"") {
        return Some("use sandbox.landlock = \"best-effort\" (--landlock best-effort)".into());
    }
    None
}

/// How to allow a program no entry lists: the one wording of the audit
/// log's hint ([`how_to_allow`]) and of an unanswered ask's denial
/// (`ask.rs`).
pub(crate) fn allow_program(program: &str) -> String {
    format!("allow it with --allow {program} or programs.allow")
}
