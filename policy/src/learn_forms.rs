//! Argument forms inferred from recorded calls of one program (learn mode).
//!
//! Each call's arguments are read as a skeleton: a flag (`-l`, `--all`)
//! and a word before the first value (a subcommand: `status` in `git
//! status`) stay exact; every other argument is a value slot, as is the
//! value of `--name=value`. Calls with the same skeleton up to their last
//! exact part share one form; a slot whose values varied becomes a pattern
//! (all digits: the regex `[0-9]+`; else the common start and end, cut at a
//! `/`, `.`, `-`, `_`, `=`, `:` or `,`, around a `*` glob, or `.*` regex when
//! the middles hold a `/`), and trailing values whose count varied become
//! the form's `rest`. A slot seen with one value stays exact. A pattern is
//! kept only if it matches every value it came from (a glob never matches
//! a `.` or `..` component): otherwise the calls of that form stay exact,
//! one form each.
//!
//! ```
//! use procgate_policy::learn::{infer_forms, Pat};
//! let calls = vec![
//!     (1, vec!["-n".to_string(), "5".to_string(), "/work/a.txt".to_string()]),
//!     (2, vec!["-n".to_string(), "10".to_string(), "/work/b.txt".to_string()]),
//! ];
//! let forms = infer_forms(&calls);
//! assert_eq!(forms[0].positions, vec![
//!     Pat::Exact("-n".into()),
//!     Pat::Regex("[0-9]+".into()),
//!     Pat::Glob("/work/*.txt".into()),
//! ]);
//! ```

use crate::args::{ArgForm, ArgPattern};
use std::collections::BTreeMap;

/// One argument pattern as a policy file writes it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Pat {
    /// Exactly this word (`"-l"`).
    Exact(String),
    /// A glob (`{ glob = "*.txt" }`).
    Glob(String),
    /// A regex (`{ regex = "[0-9]+" }`).
    Regex(String),
}

/// One inferred form: patterns per position, what further arguments may
/// be, and the calls it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Form {
    /// One pattern per leading argument.
    pub positions: Vec<Pat>,
    /// What every further argument matches; none: no further arguments.
    pub rest: Option<Pat>,
    /// The numbers of the calls it came from.
    pub calls: Vec<usize>,
}

impl Pat {
    /// The pattern as the policy checks it; `None` if it does not compile.
    pub fn to_arg_pattern(&self) -> Option<ArgPattern> {
        match self {
            Pat::Exact(s) => Some(ArgPattern::exact(s)),
            Pat::Glob(g) => ArgPattern::glob(g).ok(),
            Pat::Regex(r) => ArgPattern::regex(r).ok(),
        }
    }
}

impl Form {
    /// The form as the policy checks it; `None` if a pattern does not
    /// compile.
    pub fn to_arg_form(&self) -> Option<ArgForm> {
        let positions = self
            .positions
            .iter()
            .map(Pat::to_arg_pattern)
            .collect::<Option<Vec<_>>>()?;
        let rest = match &self.rest {
            Some(p) => Some(p.to_arg_pattern()?),
            None => None,
        };
        Some(ArgForm { positions, rest })
    }
}

/// One argument read as part of a skeleton.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Part {
    /// A flag or subcommand: kept exactly.
    Fixed(String),
    /// A value, after a fixed prefix (`--name=`, or nothing).
    Slot(String),
}

fn is_flag(arg: &str) -> bool {
    let mut chars = arg.chars();
    chars.next() == Some('-')
        && chars
            .next()
            .is_some_and(|c| !c.is_ascii_digit() && c != '.')
}

fn is_word(arg: &str) -> bool {
    let mut chars = arg.chars();
    chars.next().is_some_and(|c| c.is_ascii_lowercase())
        && arg.len() <= 32
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
}

/// The skeleton of one argument list, with the value of each slot.
fn skeleton(args: &[String]) -> Vec<(Part, String)> {
    let mut seen_value = false;
    args.iter()
        .map(|a| {
            if is_flag(a) {
                match a.split_once('=') {
                    Some((name, value)) if a.starts_with("--") => {
                        (Part::Slot(format!("{name}=")), value.to_string())
                    }
                    _ => (Part::Fixed(a.clone()), String::new()),
                }
            } else if !seen_value && is_word(a) {
                (Part::Fixed(a.clone()), String::new())
            } else {
                seen_value = true;
                (Part::Slot(String::new()), a.clone())
            }
        })
        .collect()
}

/// Infers the allowed forms of one program's argument lists from its
/// calls (`(call number, arguments)`); see the module documentation. Every
/// call given matches one of the forms returned.
pub fn infer_forms(calls: &[(usize, Vec<String>)]) -> Vec<Form> {
    // Group by the head: the skeleton up to its last part that is not a
    // plain value; what follows are the tail's values.
    type Call<'a> = (usize, Vec<(Part, String)>);
    let mut groups: BTreeMap<Vec<Part>, Vec<Call<'_>>> = BTreeMap::new();
    for (call, args) in calls {
        let sk = skeleton(args);
        let head_len = sk
            .iter()
            .rposition(|(p, _)| *p != Part::Slot(String::new()))
            .map_or(0, |i| i + 1);
        let head: Vec<Part> = sk[..head_len].iter().map(|(p, _)| p.clone()).collect();
        groups.entry(head).or_default().push((*call, sk));
    }
    let mut forms = Vec::new();
    for (head, members) in groups {
        let numbers: Vec<usize> = members.iter().map(|(n, _)| *n).collect();
        match group_form(&head, &members) {
            Some(form) => forms.push(Form {
                calls: numbers,
                ..form
            }),
            None => forms.extend(exact_forms(calls, &numbers)),
        }
    }
    forms
}

/// The form of one call with every value open (the prompt's "allow this
/// form"): its flags and leading words stay exact, each value becomes any
/// value that is not a flag (`{ regex = "[^-].*" }`; after `--name=`, any
/// value), the count of arguments stays as it was.
///
/// ```
/// use procgate_policy::learn::{open_form, Pat};
/// let args = ["log".to_string(), "-n".to_string(), "5".to_string()];
/// assert_eq!(open_form(&args).positions, vec![
///     Pat::Exact("log".into()),
///     Pat::Exact("-n".into()),
///     Pat::Regex("[^-].*".into()),
/// ]);
/// ```
pub fn open_form(args: &[String]) -> Form {
    let positions = skeleton(args)
        .into_iter()
        .map(|(part, _)| match part {
            Part::Fixed(word) => Pat::Exact(word),
            Part::Slot(prefix) if prefix.is_empty() => Pat::Regex("[^-].*".into()),
            Part::Slot(prefix) => Pat::Regex(format!("{}.*", regex::escape(&prefix))),
        })
        .collect();
    Form {
        positions,
        rest: None,
        calls: Vec::new(),
    }
}

/// One form for a group of calls with the same head; `None` if a pattern
/// would not match every value it came from.
fn group_form(head: &[Part], members: &[(usize, Vec<(Part, String)>)]) -> Option<Form> {
    let column =
        |i: usize| -> Vec<&str> { members.iter().map(|(_, sk)| sk[i].1.as_str()).collect() };
    let mut positions = Vec::new();
    for (i, part) in head.iter().enumerate() {
        positions.push(match part {
            Part::Fixed(word) => Pat::Exact(word.clone()),
            Part::Slot(prefix) => generalize(prefix, &column(i))?,
        });
    }
    let tail_len = |sk: &Vec<(Part, String)>| sk.len() - head.len();
    let shortest = members
        .iter()
        .map(|(_, sk)| tail_len(sk))
        .min()
        .unwrap_or(0);
    let longest = members
        .iter()
        .map(|(_, sk)| tail_len(sk))
        .max()
        .unwrap_or(0);
    for i in head.len()..head.len() + shortest {
        positions.push(generalize("", &column(i))?);
    }
    let rest = if longest > shortest {
        let extra: Vec<&str> = members
            .iter()
            .flat_map(|(_, sk)| sk[head.len() + shortest..].iter().map(|(_, v)| v.as_str()))
            .collect();
        Some(generalize("", &extra)?)
    } else {
        None
    };
    Some(Form {
        positions,
        rest,
        calls: Vec::new(),
    })
}

/// One exact form per distinct argument list among `numbers`.
fn exact_forms(calls: &[(usize, Vec<String>)], numbers: &[usize]) -> Vec<Form> {
    let mut forms: Vec<Form> = Vec::new();
    for (n, args) in calls.iter().filter(|(n, _)| numbers.contains(n)) {
        let positions: Vec<Pat> = args.iter().map(|a| Pat::Exact(a.clone())).collect();
        match forms.iter_mut().find(|f| f.positions == positions) {
            Some(f) => f.calls.push(*n),
            None => forms.push(Form {
                positions,
                rest: None,
                calls: vec![*n],
            }),
        }
    }
    forms
}

/// Where a common start or end is cut, so that `file1` and `file2` give
/// `*`, not `file*`.
const BOUNDARIES: &[char] = &['/', '.', '-', '_', '=', ':', ','];

/// The pattern of one slot's values after `prefix`; `None` if no pattern
/// matches them all.
fn generalize(prefix: &str, values: &[&str]) -> Option<Pat> {
    let mut distinct: Vec<&str> = values.to_vec();
    distinct.sort_unstable();
    distinct.dedup();
    if let [only] = distinct[..] {
        return Some(Pat::Exact(format!("{prefix}{only}")));
    }
    let pat = if distinct
        .iter()
        .all(|v| !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()))
    {
        Pat::Regex(format!("{}[0-9]+", regex::escape(prefix)))
    } else {
        let start = common_start(&distinct);
        let ends: Vec<&str> = distinct.iter().map(|v| &v[start.len()..]).collect();
        let end = common_end(&ends);
        let middles_slash = ends.iter().any(|v| v[..v.len() - end.len()].contains('/'));
        if middles_slash {
            Pat::Regex(format!(
                "{}.*{}",
                regex::escape(&format!("{prefix}{start}")),
                regex::escape(end)
            ))
        } else {
            Pat::Glob(format!(
                "{}*{}",
                glob_escape(&format!("{prefix}{start}")),
                glob_escape(end)
            ))
        }
    };
    let compiled = pat.to_arg_pattern()?;
    values
        .iter()
        .all(|v| compiled.matches(&format!("{prefix}{v}")))
        .then_some(pat)
}

/// The longest common start of `values`, cut just after a boundary.
fn common_start<'a>(values: &[&'a str]) -> &'a str {
    let first = values[0];
    let mut len = first.len();
    for v in &values[1..] {
        len = first
            .char_indices()
            .zip(v.chars())
            .take_while(|((_, a), b)| a == b)
            .map(|((i, a), _)| i + a.len_utf8())
            .last()
            .unwrap_or(0)
            .min(len);
    }
    let start = &first[..len];
    start.rfind(BOUNDARIES).map_or("", |i| &start[..=i])
}

/// The longest common end of `values`, cut just before a boundary.
fn common_end<'a>(values: &[&'a str]) -> &'a str {
    let first = values[0];
    let mut len = first.len();
    for v in &values[1..] {
        let common = first
            .chars()
            .rev()
            .zip(v.chars().rev())
            .take_while(|(a, b)| a == b)
            .map(|(a, _)| a.len_utf8())
            .sum::<usize>();
        len = len.min(common);
    }
    let end = &first[first.len() - len..];
    end.find(BOUNDARIES).map_or("", |i| &end[i..])
}

/// `s` with the glob's special characters escaped.
fn glob_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if "*?[]{}\\".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}
