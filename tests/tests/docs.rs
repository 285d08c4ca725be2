//! The docs cannot drift from the code. Cheap: no guest is built, nothing
//! is spawned but the CLI's `--help`.
//!
//! Over ~400 lines: each check below is one test with the small Markdown
//! readers it needs; together they are the one promise that the docs
//! match the code.
//!
//! - Every flag of every `procgate` subcommand, as `--help` prints it (with
//!   its value name), is a row of `docs/cli.md`, and every row is a flag.
//! - Every key of the policy file, as the file's own parser knows it, is a
//!   row of `docs/policy.md`, and every row is a key; every flag that page
//!   names exists.
//! - Every Markdown link in `README.md` and `docs/` stays inside the
//!   repository and reaches an existing file (and heading, for `#anchor`).
//! - Every test the docs cite as `path/to/file.rs::function` exists there.
//! - Every `procgate run ...` command in them uses real flags, and every
//!   policy key path they name (`limits.max_live`) is a key.
//! - The README stays a few screens long.

use procgate::policy::PolicyFile;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Component, Path, PathBuf};
use std::process::Command;
use std::time::SystemTime;

/// Links to files that other branches of this session add; each is
/// accepted while missing. Once one exists, the test fails until it is
/// taken off this list, so the list empties itself at merge.
const PENDING_AT_MERGE: &[&str] = &[];

fn root() -> PathBuf {
    procgate_tests::root()
}

fn read(rel: &str) -> String {
    std::fs::read_to_string(root().join(rel)).unwrap_or_else(|e| panic!("reading {rel}: {e}"))
}

/// The Markdown files the checks read: the README and everything in `docs/`.
fn markdown_files() -> Vec<String> {
    let mut files = vec!["README.md".to_string()];
    let mut docs: Vec<String> = std::fs::read_dir(root().join("docs"))
        .expect("docs/")
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.ends_with(".md"))
        .map(|n| format!("docs/{n}"))
        .collect();
    docs.sort();
    files.extend(docs);
    files
}

// ---------------------------------------------------------------- Markdown

/// The lines outside fenced code blocks, with their line numbers.
fn prose_lines(text: &str) -> Vec<(usize, &str)> {
    let mut fenced = false;
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim_start().starts_with("```") {
            fenced = !fenced;
            continue;
        }
        if !fenced {
            out.push((i + 1, line));
        }
    }
    out
}

/// The paragraphs outside fenced code blocks, each with the number of its
/// first line, their lines joined by spaces: a code span or a link may
/// continue on the next line.
fn paragraphs(text: &str) -> Vec<(usize, String)> {
    let mut out: Vec<(usize, String)> = Vec::new();
    let mut open = false;
    for (n, line) in prose_lines(text) {
        if line.trim().is_empty() {
            open = false;
        } else if open {
            let last = out.last_mut().unwrap();
            last.1.push(' ');
            last.1.push_str(line.trim());
        } else {
            out.push((n, line.trim().to_string()));
            open = true;
        }
    }
    out
}

/// The cells of a table row (`| a | b |`), or none for other lines.
fn cells(line: &str) -> Option<Vec<&str>> {
    let line = line.trim();
    let inner = line.strip_prefix('|')?.strip_suffix('|')?;
    Some(inner.split('|').map(str::trim).collect())
}

/// The `code spans` of a piece of Markdown.
fn code_spans(text: &str) -> Vec<&str> {
    text.split('`').skip(1).step_by(2).collect()
}

/// The rows of every table whose header's first cell is `header`
/// (compared without case), as (line number, cells), with the header.
fn table_rows<'a>(text: &'a str, header: &str) -> Vec<(usize, Vec<&'a str>, Vec<&'a str>)> {
    let mut rows = Vec::new();
    let mut current: Option<Vec<&str>> = None;
    for (n, line) in prose_lines(text) {
        match cells(line) {
            None => current = None,
            Some(c) if current.is_none() => {
                if c[0].eq_ignore_ascii_case(header) {
                    current = Some(c);
                } else {
                    current = Some(Vec::new());
                }
            }
            Some(c) if c.iter().all(|x| x.chars().all(|ch| ch == '-' || ch == ':')) => {}
            Some(c) => {
                if let Some(h) = current.as_ref().filter(|h| !h.is_empty()) {
                    rows.push((n, h.clone(), c));
                }
            }
        }
    }
    rows
}

/// A heading's anchor as GitHub makes it: lower case, punctuation but `-`
/// and `_` dropped, spaces to `-`.
fn slug(heading: &str) -> String {
    heading
        .trim()
        .to_lowercase()
        .chars()
        .filter_map(|c| match c {
            ' ' => Some('-'),
            c if c.is_alphanumeric() || c == '-' || c == '_' => Some(c),
            _ => None,
        })
        .collect()
}

/// The anchors of a Markdown file's headings (repeated ones numbered).
fn anchors(text: &str) -> BTreeSet<String> {
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    let mut out = BTreeSet::new();
    for (_, line) in prose_lines(text) {
        let Some(heading) = line.strip_prefix('#') else {
            continue;
        };
        let s = slug(heading.trim_start_matches('#'));
        let n = seen.entry(s.clone()).or_insert(0);
        out.insert(if *n == 0 {
            s.clone()
        } else {
            format!("{s}-{n}")
        });
        *n += 1;
    }
    out
}

/// The targets of the inline links `[text](target)` outside code.
fn links(line: &str) -> Vec<String> {
    // Code spans hold examples, not links.
    let prose: String = line.split('`').step_by(2).collect::<Vec<_>>().join(" ");
    let mut out = Vec::new();
    let mut rest = prose.as_str();
    while let Some(i) = rest.find("](") {
        rest = &rest[i + 2..];
        let end = rest.find(')').unwrap_or(rest.len());
        out.push(rest[..end].trim().to_string());
        rest = &rest[end..];
    }
    out
}

/// `path` with `.` and `..` taken out, or none if `..` climbs above its start.
fn normalize(path: &Path) -> Option<PathBuf> {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                if !out.pop() {
                    return None;
                }
            }
            Component::Normal(p) => out.push(p),
            Component::RootDir | Component::Prefix(_) => return None,
        }
    }
    Some(out)
}

#[test]
fn every_link_in_the_readme_and_docs_stays_in_the_repository_and_resolves() {
    let mut wrong = Vec::new();
    let mut pending_present = Vec::new();
    for file in markdown_files() {
        let text = read(&file);
        let dir = Path::new(&file).parent().unwrap_or(Path::new(""));
        for (n, line) in paragraphs(&text) {
            for target in links(&line) {
                if target.starts_with("http://")
                    || target.starts_with("https://")
                    || target.starts_with("mailto:")
                {
                    continue;
                }
                let (path, anchor) = match target.split_once('#') {
                    Some((p, a)) => (p, Some(a)),
                    None => (target.as_str(), None),
                };
                let rel = if path.is_empty() {
                    Some(PathBuf::from(&file))
                } else if path.starts_with('/') {
                    None
                } else {
                    normalize(&dir.join(path))
                };
                let Some(rel) = rel else {
                    wrong.push(format!(
                        "{file}:{n}: ({target}) points outside the repository"
                    ));
                    continue;
                };
                let rel_str = rel.to_string_lossy().to_string();
                let full = root().join(&rel);
                if !full.exists() {
                    if !PENDING_AT_MERGE.contains(&rel_str.as_str()) {
                        wrong.push(format!("{file}:{n}: ({target}): no file {rel_str}"));
                    }
                    continue;
                }
                if PENDING_AT_MERGE.contains(&rel_str.as_str()) {
                    pending_present.push(rel_str.clone());
                }
                if let Some(anchor) = anchor.filter(|_| rel_str.ends_with(".md")) {
                    let text = std::fs::read_to_string(&full).unwrap();
                    if !anchors(&text).contains(anchor) {
                        wrong.push(format!(
                            "{file}:{n}: ({target}): {rel_str} has no heading #{anchor}"
                        ));
                    }
                }
            }
        }
    }
    assert!(wrong.is_empty(), "broken links:\n{}", wrong.join("\n"));
    pending_present.sort();
    pending_present.dedup();
    assert!(
        pending_present.is_empty(),
        "{pending_present:?} exist now: take them off PENDING_AT_MERGE in tests/tests/docs.rs"
    );
}

#[test]
fn every_test_the_docs_cite_exists() {
    let mut wrong = Vec::new();
    let mut cited = 0;
    for file in markdown_files() {
        let text = read(&file);
        for (n, line) in paragraphs(&text) {
            for span in code_spans(&line) {
                let Some((path, function)) = span.split_once(".rs::") else {
                    continue;
                };
                let path = format!("{path}.rs");
                cited += 1;
                match std::fs::read_to_string(root().join(&path)) {
                    Err(_) => wrong.push(format!("{file}:{n}: `{span}`: no file {path}")),
                    Ok(source) if !source.contains(&format!("fn {function}(")) => {
                        wrong.push(format!("{file}:{n}: `{span}`: no fn {function} in {path}"))
                    }
                    Ok(_) => {}
                }
            }
        }
    }
    assert!(cited > 0, "the docs cite no test as `path.rs::function`");
    assert!(
        wrong.is_empty(),
        "cited tests missing:\n{}",
        wrong.join("\n")
    );
}

// --------------------------------------------------------------- CLI flags

/// The CLI binary beside this test's directory (`target/release`), built
/// by the same `cargo test --release` (the workspace builds it); refused if
/// its sources are newer, since its `--help` would then be stale.
fn cli() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let bin = exe.parent().unwrap().parent().unwrap().join("procgate");
    let hint = "build it first (`cargo build --release --bin procgate`; \
                `cargo test --release` of the workspace does)";
    let built = std::fs::metadata(&bin)
        .and_then(|m| m.modified())
        .unwrap_or_else(|e| panic!("no CLI at {}: {e}; {hint}", bin.display()));
    let mut newest = (SystemTime::UNIX_EPOCH, PathBuf::new());
    for dir in ["host/src/bin", "cli/src"] {
        newest_rs(&root().join(dir), &mut newest);
    }
    assert!(
        newest.0 <= built,
        "the CLI at {} is older than {}; {hint}",
        bin.display(),
        newest.1.display()
    );
    bin
}

fn newest_rs(dir: &Path, newest: &mut (SystemTime, PathBuf)) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries {
        let path = e.unwrap().path();
        if path.is_dir() {
            newest_rs(&path, newest);
        } else if path.extension().is_some_and(|x| x == "rs") {
            let t = std::fs::metadata(&path).unwrap().modified().unwrap();
            if t > newest.0 {
                *newest = (t, path);
            }
        }
    }
}

fn help(args: &[&str]) -> String {
    let out = Command::new(cli())
        .args(args)
        .arg("--help")
        .output()
        .expect("running procgate --help");
    assert!(out.status.success(), "procgate {args:?} --help failed");
    String::from_utf8(out.stdout).unwrap()
}

/// The lines of one `Title:` section of clap's help.
fn help_section<'a>(help: &'a str, title: &str) -> Vec<&'a str> {
    help.lines()
        .skip_while(|l| *l != title)
        .skip(1)
        .take_while(|l| !l.trim().is_empty())
        .collect()
}

/// The flag lines of every section of clap's help that lists options:
/// "Options:" and the help headings (`Policy:`, `Limits:`, ...), not
/// Arguments, Commands, or the examples and exit codes after them.
fn option_lines(help: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut in_options = false;
    for line in help.lines() {
        if !line.starts_with(' ') && line.ends_with(':') {
            in_options = !matches!(
                line,
                "Arguments:" | "Commands:" | "Example:" | "Examples:" | "Exit status:"
            );
        } else if in_options && line.trim_start().starts_with('-') {
            out.push(line);
        }
    }
    out
}

/// `-v`, `--verbose`, `--policy FILE`: one item per spelling, with its
/// value name.
fn flag_items(spec: &str) -> Vec<String> {
    let spec = spec.replace(['<', '>'], "");
    let mut items = Vec::new();
    for part in spec.split(", ") {
        let part = part.trim();
        if part.starts_with('-') {
            items.push(part.split_whitespace().collect::<Vec<_>>().join(" "));
        }
    }
    items
}

/// The subcommands and their flags, from `procgate --help`.
fn flags_in_help() -> BTreeMap<String, BTreeSet<String>> {
    let top = help(&[]);
    let mut out = BTreeMap::new();
    for line in help_section(&top, "Commands:") {
        let name = line.split_whitespace().next().unwrap();
        if name == "help" {
            continue;
        }
        let sub = help(&[name]);
        let flags = option_lines(&sub)
            .into_iter()
            .flat_map(|l| flag_items(l.trim_start().split("  ").next().unwrap()))
            .collect();
        out.insert(name.to_string(), flags);
    }
    out
}

/// The subcommands and their flags, from the `flag` tables of
/// `docs/cli.md` under each "## `procgate NAME`" heading.
fn flags_in_docs(text: &str) -> BTreeMap<String, BTreeSet<String>> {
    let mut out: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut sections: Vec<(String, String)> = Vec::new();
    for line in text.lines() {
        if let Some(h) = line.strip_prefix("## ") {
            let name = code_spans(h)
                .first()
                .and_then(|s| s.strip_prefix("procgate "))
                .map(str::to_string);
            sections.push((name.unwrap_or_default(), String::new()));
        } else if let Some((_, body)) = sections.last_mut() {
            body.push_str(line);
            body.push('\n');
        }
    }
    for (name, body) in sections.into_iter().filter(|(n, _)| !n.is_empty()) {
        let flags = out.entry(name).or_default();
        for (_, _, row) in table_rows(&body, "flag") {
            for span in code_spans(row[0]) {
                flags.extend(flag_items(span));
            }
        }
    }
    out
}

#[test]
fn docs_cli_lists_every_flag_of_the_cli_and_no_other() {
    let code = flags_in_help();
    let docs = flags_in_docs(&read("docs/cli.md"));
    assert!(code.contains_key("run"), "{code:?}");
    let mut wrong = Vec::new();
    let names: BTreeSet<&String> = code.keys().chain(docs.keys()).collect();
    for name in names {
        let empty = BTreeSet::new();
        let in_code = code.get(name).unwrap_or(&empty);
        let in_docs = docs.get(name).unwrap_or(&empty);
        if !code.contains_key(name) {
            wrong.push(format!(
                "docs/cli.md documents `procgate {name}`, which the CLI lacks"
            ));
        }
        if !docs.contains_key(name) {
            wrong.push(format!(
                "docs/cli.md has no section \"## `procgate {name}`\""
            ));
        }
        for f in in_code.difference(in_docs) {
            wrong.push(format!("`procgate {name} {f}` is not in docs/cli.md"));
        }
        for f in in_docs.difference(in_code) {
            wrong.push(format!(
                "docs/cli.md documents `procgate {name} {f}`, which `--help` does not list"
            ));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

// ------------------------------------------------------------- policy keys

/// Whether a key path ends in a table (`[a]`) or an array of tables (`[[a]]`).
#[derive(Clone, Copy, Debug)]
enum Shape {
    Table,
    Array,
}

const PROBE: &str = "__procgate_docs_probe";

/// The keys the parser accepts in the table at `path`, read from the
/// unknown-field error it gives for a key of ours there; none if the value
/// at `path` is not a table with known fields.
fn probe(path: &[(String, Shape)]) -> Option<Vec<String>> {
    let mut value = format!("{{ {PROBE} = \"x\" }}");
    for (i, (key, shape)) in path.iter().enumerate().rev() {
        let inner = match shape {
            Shape::Table => value,
            Shape::Array => format!("[{value}]"),
        };
        value = if i == 0 {
            format!("{key} = {inner}")
        } else {
            format!("{{ {key} = {inner} }}")
        };
    }
    if path.is_empty() {
        value = format!("{PROBE} = \"x\"");
    }
    let err = PolicyFile::parse(&value, "probe.toml").err()?.to_string();
    let marker = format!("unknown field `{PROBE}`");
    let after = &err[err.find(&marker)? + marker.len()..];
    Some(code_spans(after).into_iter().map(str::to_string).collect())
}

/// Every key path of the policy file (`limits.max_live`,
/// `programs.rules.args.match.glob`), tables included.
fn keys_of(path: &mut Vec<(String, Shape)>, out: &mut BTreeSet<String>) {
    assert!(path.len() < 8, "policy keys nest too deep: {path:?}");
    let fields = probe(path).expect("a table");
    for field in fields {
        let mut dotted: Vec<&str> = path.iter().map(|(k, _)| k.as_str()).collect();
        dotted.push(&field);
        out.insert(dotted.join("."));
        for shape in [Shape::Table, Shape::Array] {
            path.push((field.clone(), shape));
            let nested = probe(path).is_some();
            if nested {
                keys_of(path, out);
            }
            path.pop();
            if nested {
                break;
            }
        }
    }
}

fn keys_in_code() -> BTreeSet<String> {
    let mut keys = BTreeSet::new();
    keys_of(&mut Vec::new(), &mut keys);
    keys
}

#[test]
fn the_key_probe_sees_nested_keys() {
    // The probe itself must be able to fail: a known nested key is found,
    // and a made-up one is not.
    let keys = keys_in_code();
    for k in [
        "limits.max_live",
        "programs.rules.forbid_flags",
        "dirs.host",
    ] {
        assert!(keys.contains(k), "{k} not found in {keys:?}");
    }
    assert!(!keys.contains("limits.no_such_key"));
}

#[test]
fn docs_policy_lists_every_key_of_the_policy_file_and_no_other() {
    let text = read("docs/policy.md");
    let rows = table_rows(&text, "key");
    let mut documented = BTreeSet::new();
    let mut wrong = Vec::new();
    let run_flags = flags_in_help().remove("run").unwrap_or_default();
    let run_flag_names: BTreeSet<String> = run_flags
        .iter()
        .map(|f| f.split(' ').next().unwrap().to_string())
        .collect();
    for (n, header, row) in &rows {
        for span in code_spans(row[0]) {
            if !documented.insert(span.to_string()) {
                wrong.push(format!("docs/policy.md:{n}: `{span}` documented twice"));
            }
        }
        // The flag column names only flags `procgate run` has.
        if let Some(col) = header.iter().position(|h| h.eq_ignore_ascii_case("flag")) {
            for span in code_spans(row.get(col).copied().unwrap_or("")) {
                let flag = span.split([' ', '=']).next().unwrap();
                if flag.starts_with('-') && !run_flag_names.contains(flag) {
                    wrong.push(format!(
                        "docs/policy.md:{n}: flag `{flag}` is not a flag of `procgate run`"
                    ));
                }
            }
        }
    }
    let code = keys_in_code();
    for k in code.difference(&documented) {
        wrong.push(format!("policy key `{k}` is not in docs/policy.md"));
    }
    for k in documented.difference(&code) {
        wrong.push(format!(
            "docs/policy.md documents `{k}`, which the policy file does not accept"
        ));
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

/// The pieces of code in a Markdown file: whole lines of fenced blocks and
/// the code spans of the other lines.
fn code_pieces(text: &str) -> Vec<(usize, String)> {
    let mut fenced = false;
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim_start().starts_with("```") {
            fenced = !fenced;
        } else if fenced {
            out.push((i + 1, line.to_string()));
        }
    }
    for (n, paragraph) in paragraphs(text) {
        out.extend(
            code_spans(&paragraph)
                .into_iter()
                .map(|s| (n, s.to_string())),
        );
    }
    out
}

#[test]
fn every_procgate_run_command_in_the_docs_uses_real_flags() {
    let flags: BTreeSet<String> = flags_in_help()
        .remove("run")
        .unwrap_or_default()
        .iter()
        .map(|f| f.split(' ').next().unwrap().to_string())
        .collect();
    let mut wrong = Vec::new();
    let mut commands = 0;
    for file in markdown_files() {
        for (n, code) in code_pieces(&read(&file)) {
            let Some((_, rest)) = code.split_once("procgate run") else {
                continue;
            };
            commands += 1;
            for token in rest.split_whitespace() {
                // procgate's options end at the guest file (or `--`).
                if token == "--" || token.ends_with(".wasm") {
                    break;
                }
                // (A flag quoted in output: "`procgate run --learn`: ...".)
                let flag = token
                    .split('=')
                    .next()
                    .unwrap()
                    .trim_end_matches(['`', ':', ',']);
                if flag.starts_with('-') && !flags.contains(flag) {
                    wrong.push(format!(
                        "{file}:{n}: `{flag}` is not a flag of `procgate run`"
                    ));
                }
            }
        }
    }
    assert!(commands > 0, "no `procgate run` command found in the docs");
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

/// The policy file's top-level tables, which start every key path.
const SECTIONS: &[&str] = &[
    "programs", "shell", "env", "dirs", "cwd", "signals", "limits", "sandbox",
];

#[test]
fn every_policy_key_the_docs_name_exists() {
    let keys = keys_in_code();
    for section in SECTIONS {
        assert!(keys.contains(*section), "no policy table {section}");
    }
    let mut wrong = Vec::new();
    for file in markdown_files() {
        for (n, line) in paragraphs(&read(&file)) {
            for span in code_spans(&line) {
                // `limits.timeout_secs`, `sandbox.network = "none"`.
                let path = span.split([' ', '=']).next().unwrap();
                let Some((first, _)) = path.split_once('.') else {
                    continue;
                };
                let is_key_like = path
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c == '_' || c == '.');
                let is_file = [".rs", ".toml", ".md", ".py", ".js", ".c", ".wasm"]
                    .iter()
                    .any(|ext| path.ends_with(ext));
                if SECTIONS.contains(&first) && is_key_like && !is_file && !keys.contains(path) {
                    wrong.push(format!("{file}:{n}: `{path}` is not a policy key"));
                }
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn the_readme_stays_a_few_screens() {
    // The manual lives in docs/; the README says what procgate is, how to
    // start, and where to read on (it had grown to 73 KB).
    let readme = read("README.md");
    let lines = readme.lines().count();
    assert!(
        readme.len() <= 12 * 1024 && lines <= 220,
        "README.md is {} bytes, {lines} lines: move details to docs/",
        readme.len()
    );
}
