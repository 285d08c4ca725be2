//! Writing what a learn-mode run needed into a policy file: a new file, or
//! an existing one widened only as far as the run needs (its own text,
//! comments and order kept; `toml_edit`).
//!
//! A little over ~400 lines: one `add_*` function per policy section,
//! each widening the file only as far as the run needs; the forms of
//! arguments are inferred in `learn_forms.rs`.

use crate::error::LearnError;
use crate::learn::{Recorded, Recording, SpawnRecord};
use crate::learn_forms::{infer_forms, Form, Pat};
use crate::{learn_diff, programs, Policy, PolicyBuilder, PolicyFile};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use toml_edit::{Array, ArrayOfTables, DocumentMut, InlineTable, Item, Table, Value};

/// How the argument forms of one program's calls (call number, argv) are
/// inferred: learn mode's inference, or the one form a prompt answer chose.
type InferForms<'a> = dyn Fn(&[(usize, Vec<String>)]) -> Vec<Form> + 'a;

/// The policy file a learn-mode run produced.
#[derive(Debug, Clone)]
pub struct Learned {
    /// The whole new text of the file.
    pub text: String,
    /// What changed: [`learn_diff::line_diff`] of the old text and the new.
    pub diff: String,
    /// Requests the file does not allow, and why (refused even in learn
    /// mode: a program not found, a variable always refused, a cwd outside
    /// the grants, a flag the file forbids).
    pub notes: Vec<String>,
}

const HEADER: &str = "\
# procgate policy written by `procgate run --learn`: what the recorded runs did, no more.
# Comments name the calls each rule came from (numbered per run, in the order the guest
# made them). Review it, then run with `procgate run --policy FILE`.
";

/// The builder of the policy a learn-mode run decides by: the existing
/// file (if any) for its directories, environment, search path and
/// sandbox, with no limits on counts and sizes (learn mode measures them),
/// Landlock at least `best-effort`, and, for a new file, `no_new_privs`:
/// children are contained as the learned file will contain them.
///
/// ```
/// use procgate_policy::learn::{learning_builder, Recorder};
/// let recorder = std::sync::Arc::new(Recorder::default());
/// let policy = learning_builder(None, ".".as_ref(), recorder).build().unwrap();
/// assert!(policy.limits().os.no_new_privs);
/// ```
pub fn learning_builder(
    file: Option<PolicyFile>,
    base: &Path,
    recorder: std::sync::Arc<crate::learn::Recorder>,
) -> PolicyBuilder {
    let fresh = file.is_none();
    let mut file = file.unwrap_or_default();
    if file.sandbox.landlock == crate::LandlockMode::Off {
        file.sandbox.landlock = crate::LandlockMode::BestEffort;
    }
    file.into_builder(base)
        .update_limits(|l| {
            let mut os = l.os;
            os.no_new_privs |= fresh;
            *l = crate::Limits {
                os,
                kill_grace: l.kill_grace,
                ..Default::default()
            };
        })
        .learn(recorder)
}

/// Turns a recorded run into a policy file: a new one (`existing` is
/// `None`) or `existing` widened only where the run needs it. `base` is the
/// file's directory (relative paths in it are relative to `base`);
/// `grants` are the directories (host, guest path) granted during the run.
/// The result is checked: the new policy accepts every program, argument
/// list and variable the run used.
pub fn learn_policy(
    existing: Option<&str>,
    base: &Path,
    grants: &[(PathBuf, String)],
    rec: &Recording,
) -> Result<Learned, LearnError> {
    let old_text = existing.unwrap_or_default();
    let fresh = existing.is_none();
    let mut doc: DocumentMut = match existing {
        Some(text) => text
            .parse()
            .map_err(|e| LearnError::Existing(Box::new(e)))?,
        None => DocumentMut::new(),
    };
    let old = build(old_text, base).map_err(LearnError::Existing)?;
    let mut notes = Vec::new();
    let allowed: Vec<&SpawnRecord> = rec
        .spawns
        .iter()
        .filter(|s| match &s.refused {
            None => true,
            Some(why) => {
                notes.push(format!("call #{} {}: {why}", s.call, s.command.display()));
                false
            }
        })
        .collect();
    add_programs(&mut doc, &old, &allowed, &infer_forms);
    add_shell(&mut doc, &old, &allowed);
    add_env(&mut doc, &old, &allowed);
    add_dirs(&mut doc, &old, base, grants, &allowed);
    add_signals(&mut doc, rec, fresh, &mut notes);
    add_limits(&mut doc, &old, fresh, &allowed);
    if fresh {
        let sandbox = table(&mut doc, "sandbox");
        sandbox["landlock"] = toml_edit::value("best-effort");
        sandbox
            .decor_mut()
            .set_prefix("\n# The sandbox children had during the learn run.\n");
        table(&mut doc, "limits")["no_new_privs"] = toml_edit::value(true);
    }
    let text = match fresh {
        true => format!("{HEADER}\n{}", doc.to_string().trim_start_matches('\n')),
        false => doc.to_string(),
    };
    let new = build(&text, base).map_err(LearnError::Learned)?;
    let refuses = |call: usize, why: String| LearnError::Refuses { call, why };
    for s in &allowed {
        if let Recorded::Exec { program, args } = &s.command {
            new.programs
                .accept(program, args)
                .map_err(|e| refuses(s.call, e.to_string()))?;
        }
        if let Some(name) = s.env_names.iter().find(|n| !new.env.guest_may_set(n)) {
            return Err(refuses(s.call, format!("variable {name}")));
        }
    }
    Ok(Learned {
        diff: learn_diff::line_diff(old_text, &text),
        text,
        notes,
    })
}

/// What the prompt remembers of an answer ([`remember`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Remember {
    /// Allow this exact argument list.
    Exact,
    /// Allow this form of argument list.
    Form(Form),
    /// Deny the program always (`programs.deny`).
    Deny,
}

/// Writes one remembered answer of `procgate run --prompt` into the policy
/// file `existing` (its text, comments and order kept), as learn mode
/// writes: an allowed call becomes a form on the program's rules (a new
/// `[[programs.rules]]` for the name the guest used, or a new form on the
/// rules of the same file), a denial an entry of `programs.deny`. `call`
/// numbers the question in the run (for the comment). The result is
/// checked: the new policy allows (or denies) the call.
///
/// ```
/// use procgate_policy::learn::{remember, Remember};
/// let args = vec!["hi".to_string()];
/// let learned = remember("", ".".as_ref(), 1, "echo", &args, Remember::Exact).unwrap();
/// assert!(learned.text.contains("{ match = [\"hi\"] }"), "{}", learned.text);
/// let learned = remember("", ".".as_ref(), 1, "echo", &args, Remember::Deny).unwrap();
/// assert!(learned.text.contains("deny = [\"echo\"]"), "{}", learned.text);
/// ```
pub fn remember(
    existing: &str,
    base: &Path,
    call: usize,
    program: &str,
    args: &[String],
    how: Remember,
) -> Result<Learned, LearnError> {
    let mut doc: DocumentMut = existing
        .parse()
        .map_err(|e| LearnError::PolicyFile(Box::new(e)))?;
    let old = build(existing, base).map_err(LearnError::PolicyFile)?;
    let resolved = programs::resolve(program, old.programs.search_path())
        .ok_or_else(|| LearnError::NotFound(program.to_string()))?;
    let record = SpawnRecord {
        call,
        command: Recorded::Exec {
            program: program.to_string(),
            args: args.to_vec(),
        },
        resolved: Some(resolved),
        env_names: Vec::new(),
        cwd: None,
        cwd_host: None,
        arg_bytes: 0,
        env_bytes: 0,
        usage: Default::default(),
        refused: None,
    };
    match &how {
        Remember::Exact => add_programs(&mut doc, &old, &[&record], &infer_forms),
        Remember::Form(form) => {
            let form = Form {
                calls: vec![call],
                ..form.clone()
            };
            add_programs(&mut doc, &old, &[&record], &|_| vec![form.clone()]);
        }
        Remember::Deny => {
            let programs = table(&mut doc, "programs");
            let deny = programs
                .entry("deny")
                .or_insert(toml_edit::value(Array::new()));
            if let Some(deny) = deny.as_array_mut() {
                deny.push(program);
            }
        }
    }
    let text = doc.to_string();
    let new = build(&text, base).map_err(LearnError::Remembered)?;
    let (done, what) = match how {
        Remember::Deny => {
            let req = crate::SpawnRequest::exec(program, args);
            (new.decide_spawn(&req).is_err(), "deny")
        }
        _ => (new.programs.accept(program, args).is_ok(), "allow"),
    };
    if !done {
        return Err(LearnError::NotRemembered {
            what,
            program: program.to_string(),
        });
    }
    Ok(Learned {
        diff: learn_diff::line_diff(existing, &text),
        text,
        notes: Vec::new(),
    })
}

/// The table `key` of the document, made if missing; an inline table
/// (`env = { pass = [..] }`) becomes a table with the same keys.
fn table<'a>(doc: &'a mut DocumentMut, key: &str) -> &'a mut Table {
    let item = doc.entry(key).or_insert(Item::Table(Table::new()));
    if let Some(inline) = item.as_inline_table() {
        *item = Item::Table(inline.clone().into_table());
    } else if !item.is_table() {
        // Not a table: the policy file would not have loaded with it.
        *item = Item::Table(Table::new());
    }
    item.as_table_mut().expect("made a table just above")
}

/// The policy of a file's text.
fn build(text: &str, base: &Path) -> Result<Policy, Box<dyn std::error::Error + Send + Sync>> {
    let file = PolicyFile::parse(text, "policy")?;
    Ok(file.into_builder(base).build()?)
}

/// A comment line naming calls: `# calls #1, #4: ls -l /work`.
fn calls_comment(calls: &[&SpawnRecord]) -> String {
    let numbers: Vec<String> = calls.iter().map(|s| format!("#{}", s.call)).collect();
    let word = if calls.len() == 1 { "call" } else { "calls" };
    let first = calls
        .first()
        .map(|s| s.command.display())
        .unwrap_or_default();
    let more = if calls.len() > 1 { ", …" } else { "" };
    format!("# {word} {}: {first}{more}", numbers.join(", "))
}

/// Exec calls the existing policy refuses: a rule per name the guest used,
/// or new forms on the existing rules for the same file.
fn add_programs(
    doc: &mut DocumentMut,
    old: &Policy,
    allowed: &[&SpawnRecord],
    infer: &InferForms<'_>,
) {
    let mut by_file: BTreeMap<PathBuf, Vec<&SpawnRecord>> = BTreeMap::new();
    for s in allowed {
        if let (Recorded::Exec { program, args }, Some(path)) = (&s.command, &s.resolved) {
            if old.programs.accept(program, args).is_err() {
                by_file.entry(path.clone()).or_default().push(s);
            }
        }
    }
    for (path, calls) in by_file {
        let inputs: Vec<(usize, Vec<String>)> = calls
            .iter()
            .filter_map(|s| match &s.command {
                Recorded::Exec { args, .. } => Some((s.call, args.clone())),
                Recorded::Shell { .. } => None,
            })
            .collect();
        let forms = infer(&inputs);
        let programs = table(doc, "programs");
        programs.set_implicit(true);
        let rules = programs
            .entry("rules")
            .or_insert(Item::ArrayOfTables(ArrayOfTables::new()));
        let Some(rules) = rules.as_array_of_tables_mut() else {
            continue;
        };
        // Every rule of the same file is checked: widen each that has forms.
        let search_path = old.programs.search_path();
        let mut widened = false;
        for rule in rules.iter_mut() {
            let Some(name) = rule.get("program").and_then(|p| p.as_str()) else {
                continue;
            };
            if programs::resolve(name, search_path).as_deref() != Some(path.as_path()) {
                continue;
            }
            if let Some(args) = rule.get_mut("args").and_then(|a| a.as_array_mut()) {
                push_forms(args, &forms, &calls);
                widened = true;
            }
        }
        if widened {
            continue;
        }
        let mut names: Vec<&str> = Vec::new();
        for s in &calls {
            if let Recorded::Exec { program, .. } = &s.command {
                if !names.contains(&program.as_str()) {
                    names.push(program);
                }
            }
        }
        for name in names {
            let mut rule = Table::new();
            rule.decor_mut().set_prefix(format!(
                "\n# {name} (runs {}): {} call(s), first #{}\n",
                path.display(),
                calls.len(),
                calls[0].call
            ));
            rule["program"] = toml_edit::value(name);
            let mut args = Array::new();
            push_forms(&mut args, &forms, &calls);
            rule["args"] = toml_edit::value(args);
            rules.push(rule);
        }
    }
}

/// Appends forms to an `args` array, one a line, each after a comment
/// naming its calls.
fn push_forms(args: &mut Array, forms: &[Form], calls: &[&SpawnRecord]) {
    for form in forms {
        let mut table = InlineTable::new();
        let positions: Array = form.positions.iter().map(pat_value).collect();
        table.insert("match", Value::Array(positions));
        if let Some(rest) = &form.rest {
            table.insert("rest", pat_value(rest));
        }
        let from: Vec<&SpawnRecord> = calls
            .iter()
            .copied()
            .filter(|s| form.calls.contains(&s.call))
            .collect();
        let mut value = Value::InlineTable(table);
        value
            .decor_mut()
            .set_prefix(format!("\n    {}\n    ", calls_comment(&from)));
        args.push_formatted(value);
    }
    args.set_trailing("\n");
    args.set_trailing_comma(true);
}

fn pat_value(p: &Pat) -> Value {
    let keyed = |key: &str, s: &str| {
        let mut t = InlineTable::new();
        t.insert(key, Value::from(s));
        Value::InlineTable(t)
    };
    match p {
        Pat::Exact(s) => Value::from(s.as_str()),
        Pat::Glob(g) => keyed("glob", g),
        Pat::Regex(r) => keyed("regex", r),
    }
}

fn add_shell(doc: &mut DocumentMut, old: &Policy, allowed: &[&SpawnRecord]) {
    let calls: Vec<&SpawnRecord> = allowed
        .iter()
        .copied()
        .filter(|s| matches!(s.command, Recorded::Shell { .. }))
        .collect();
    if calls.is_empty() || old.shell.is_some() {
        return;
    }
    let shell = table(doc, "shell");
    shell["allow"] = toml_edit::value(true);
    let mut comment = String::from(
        "\n# The guest ran a shell: the allowlist does not apply inside it (the sandbox does).\n",
    );
    for s in calls.iter().take(8) {
        comment.push_str(&format!("{}\n", calls_comment(&[s])));
    }
    if calls.len() > 8 {
        comment.push_str(&format!("# … and {} more\n", calls.len() - 8));
    }
    shell.decor_mut().set_prefix(comment);
}

fn add_env(doc: &mut DocumentMut, old: &Policy, allowed: &[&SpawnRecord]) {
    let mut names: BTreeMap<&str, Vec<&SpawnRecord>> = BTreeMap::new();
    for s in allowed {
        for name in &s.env_names {
            if !old.env.guest_may_set(name) {
                names.entry(name).or_default().push(s);
            }
        }
    }
    if names.is_empty() {
        return;
    }
    let list = table(doc, "env")
        .entry("guest_may_set")
        .or_insert(toml_edit::value(Array::new()));
    let Some(list) = list.as_array_mut() else {
        return;
    };
    for (name, calls) in names {
        let mut value = Value::from(name);
        value
            .decor_mut()
            .set_prefix(format!("\n    {}\n    ", calls_comment(&calls)));
        list.push_formatted(value);
    }
    list.set_trailing("\n");
    list.set_trailing_comma(true);
}

fn add_dirs(
    doc: &mut DocumentMut,
    old: &Policy,
    base: &Path,
    grants: &[(PathBuf, String)],
    allowed: &[&SpawnRecord],
) {
    let base = base.canonicalize().unwrap_or_else(|_| base.to_path_buf());
    for (host, guest) in grants {
        let host = host.canonicalize().unwrap_or_else(|_| host.clone());
        if old.dirs.iter().any(|d| d.host == host) {
            continue;
        }
        let used: Vec<&SpawnRecord> = allowed
            .iter()
            .copied()
            .filter(|s| s.cwd_host.as_ref().is_some_and(|c| c.starts_with(&host)))
            .collect();
        let written = match host.strip_prefix(&base) {
            Ok(rel) if rel.as_os_str().is_empty() => PathBuf::from("."),
            Ok(rel) => rel.to_path_buf(),
            Err(_) => host.clone(),
        };
        let mut dir = Table::new();
        dir.decor_mut().set_prefix(if used.is_empty() {
            "\n# Granted during the learn run; no child worked in it (remove it if no child \
             writes there).\n"
                .to_string()
        } else {
            format!("\n# Children worked here: {}\n", &calls_comment(&used)[2..])
        });
        dir["host"] = toml_edit::value(written.display().to_string());
        dir["guest"] = toml_edit::value(guest.as_str());
        let dirs = doc
            .entry("dirs")
            .or_insert(Item::ArrayOfTables(ArrayOfTables::new()));
        if let Some(dirs) = dirs.as_array_of_tables_mut() {
            dirs.push(dir);
        }
    }
}

fn add_signals(doc: &mut DocumentMut, rec: &Recording, fresh: bool, notes: &mut Vec<String>) {
    let mut sent: Vec<&str> = Vec::new();
    for s in &rec.signals {
        match &s.refused {
            None if !sent.contains(&s.signal.name()) => sent.push(s.signal.name()),
            None => {}
            Some(why) => notes.push(format!(
                "call #{} signal {}: {why}",
                s.call,
                s.signal.name()
            )),
        }
    }
    let existing = doc
        .get_mut("signals")
        .and_then(|t| t.get_mut("allow"))
        .and_then(|a| a.as_array_mut());
    match existing {
        Some(list) => {
            for name in sent {
                if !list.iter().any(|v| v.as_str() == Some(name)) {
                    list.push(name);
                }
            }
        }
        // No list in an existing file: every signal is allowed already.
        None if !fresh => {}
        None => {
            let signals = table(doc, "signals");
            signals["allow"] = toml_edit::value(sent.into_iter().collect::<Array>());
            signals
                .decor_mut()
                .set_prefix("\n# The signals the guest sent its children.\n");
        }
    }
}

/// A limit just above what was used: half as much again, at least one more.
fn headroom(used: u64) -> u64 {
    used + (used / 2).max(1)
}

fn add_limits(doc: &mut DocumentMut, old: &Policy, fresh: bool, allowed: &[&SpawnRecord]) {
    if allowed.is_empty() {
        return;
    }
    let max = |f: &dyn Fn(&SpawnRecord) -> u64| allowed.iter().map(|s| f(s)).max().unwrap_or(0);
    let l = old.limits();
    let needed: [(&str, u64, Option<u64>); 4] = [
        (
            "max_live",
            max(&|s| s.usage.live as u64 + 1),
            l.max_live.map(|v| v as u64),
        ),
        ("max_spawns", allowed.len() as u64, l.max_spawns),
        (
            "max_arg_bytes",
            max(&|s| s.arg_bytes as u64),
            l.max_arg_bytes.map(|v| v as u64),
        ),
        (
            "max_env_bytes",
            max(&|s| s.env_bytes as u64),
            l.max_env_bytes.map(|v| v as u64),
        ),
    ];
    let mut set_any = false;
    let limits = table(doc, "limits");
    for (key, need, have) in needed {
        let raise = match have {
            Some(v) => v < need,
            None => fresh,
        };
        if raise {
            let value = i64::try_from(headroom(need)).unwrap_or(i64::MAX);
            limits[key] = toml_edit::value(value);
            if let Some(v) = limits[key].as_value_mut() {
                v.decor_mut().set_suffix(format!(" # the run used {need}"));
            }
            set_any = true;
        }
    }
    if set_any && fresh {
        limits.decor_mut().set_prefix(
            "\n# Limits half as much again as the run used (max_live: children alive at once).\n",
        );
    }
}
