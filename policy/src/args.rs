//! Per-program argument rules: the allowed forms of the argument list
//! (exact words, globs or regexes per position) and flags forbidden
//! anywhere in it.
//!
//! ```
//! use procgate_policy::{ArgForm, ArgPattern, ArgRules};
//!
//! let rules = ArgRules::default()
//!     .form(ArgForm::exact(["status", "--short"]))
//!     .form(ArgForm::new([ArgPattern::exact("log")]).rest(ArgPattern::glob("--*").unwrap()))
//!     .forbid_flag("-c");
//! let args = |a: &[&str]| a.iter().map(|s| s.to_string()).collect::<Vec<_>>();
//! assert!(rules.check(&args(&["status", "--short"])).is_ok());
//! assert!(rules.check(&args(&["log", "--oneline"])).is_ok());
//! assert!(rules.check(&args(&["log", "-xc", "x"])).is_err());
//! assert!(rules.check(&args(&["push"])).is_err());
//! ```

use globset::{GlobBuilder, GlobMatcher};
use regex::Regex;
use serde::de::{self, MapAccess, Visitor};
use serde::{Deserialize, Deserializer};

/// What one argument position accepts.
///
/// In a policy file: a plain string is [`ArgPattern::Exact`],
/// `{ glob = "*.txt" }` a glob, `{ regex = "[0-9]+" }` a regex (matched
/// against the whole argument).
///
/// ```
/// use procgate_policy::ArgPattern;
/// assert!(ArgPattern::glob("*.txt").unwrap().matches("notes.txt"));
/// assert!(ArgPattern::regex("[0-9]+").unwrap().matches("42"));
/// assert!(!ArgPattern::regex("[0-9]+").unwrap().matches("42x"));
/// ```
#[derive(Debug, Clone)]
pub enum ArgPattern {
    /// Exactly this word.
    Exact(String),
    /// A glob (`*`, `?`, `[a-z]`, `{a,b}`; `*` and `?` do not match `/`,
    /// `**` does).
    Glob(GlobMatcher),
    /// A regex, anchored at both ends.
    Regex(Regex),
}

/// Reads a pattern inside the value's own deserializer, so that a bad
/// glob or regex is reported at the value's line and column.
struct PatternVisitor;

impl<'de> Visitor<'de> for PatternVisitor {
    type Value = ArgPattern;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a string, { glob = \"...\" } or { regex = \"...\" }")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<ArgPattern, E> {
        Ok(ArgPattern::exact(v))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<ArgPattern, A::Error> {
        let Some(key) = map.next_key::<String>()? else {
            return Err(de::Error::custom("expected `glob` or `regex`"));
        };
        let value: String = map.next_value()?;
        let pattern = match key.as_str() {
            "glob" => ArgPattern::glob(&value),
            "regex" => ArgPattern::regex(&value),
            other => return Err(de::Error::unknown_field(other, &["glob", "regex"])),
        }
        .map_err(de::Error::custom)?;
        if let Some(extra) = map.next_key::<String>()? {
            return Err(de::Error::custom(format!(
                "unexpected `{extra}`: give one of `glob` or `regex`"
            )));
        }
        Ok(pattern)
    }
}

impl<'de> Deserialize<'de> for ArgPattern {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<ArgPattern, D::Error> {
        d.deserialize_any(PatternVisitor)
    }
}

/// A malformed glob or regex given to [`ArgPattern::glob`] or
/// [`ArgPattern::regex`].
///
/// ```
/// let err = procgate_policy::ArgPattern::glob("[").unwrap_err();
/// assert!(err.to_string().starts_with("bad glob \"[\": "));
/// ```
#[derive(Debug, thiserror::Error)]
pub enum PatternError {
    /// A malformed glob.
    #[error("bad glob {pattern:?}: {source}")]
    Glob {
        /// The pattern as given.
        pattern: String,
        /// What globset said.
        source: globset::Error,
    },
    /// A malformed regex.
    #[error("bad regex {pattern:?}: {source}")]
    Regex {
        /// The pattern as given.
        pattern: String,
        /// What the regex crate said.
        source: Box<regex::Error>,
    },
}

impl ArgPattern {
    /// Exactly `word`.
    ///
    /// ```
    /// assert!(procgate_policy::ArgPattern::exact("-n").matches("-n"));
    /// ```
    pub fn exact(word: impl Into<String>) -> ArgPattern {
        ArgPattern::Exact(word.into())
    }

    /// A glob; fails with [`PatternError`] if the pattern is malformed. `*` and
    /// `?` do not match `/` (so `dir/*` does not match `dir/../x`); `**`
    /// does.
    ///
    /// ```
    /// assert!(procgate_policy::ArgPattern::glob("[").is_err());
    /// ```
    pub fn glob(pattern: &str) -> Result<ArgPattern, PatternError> {
        GlobBuilder::new(pattern)
            .literal_separator(true)
            .backslash_escape(true)
            .build()
            .map(|g| ArgPattern::Glob(g.compile_matcher()))
            .map_err(|e| PatternError::Glob {
                pattern: pattern.to_string(),
                source: e,
            })
    }

    /// A regex matched against the whole argument; fails with
    /// [`PatternError`] if the pattern is malformed.
    ///
    /// ```
    /// assert!(procgate_policy::ArgPattern::regex("(").is_err());
    /// ```
    pub fn regex(pattern: &str) -> Result<ArgPattern, PatternError> {
        Regex::new(&format!("^(?:{pattern})$"))
            .map(ArgPattern::Regex)
            .map_err(|e| PatternError::Regex {
                pattern: pattern.to_string(),
                source: Box::new(e),
            })
    }

    /// Whether `arg` matches. A glob or regex never matches an argument
    /// with a `.` or `..` path component (between `/`s, or after `=`):
    /// `/grant/*` must not accept `/grant/..`, which names the parent. Only
    /// an exact word can be `.` or `..`.
    ///
    /// ```
    /// use procgate_policy::ArgPattern;
    /// assert!(!ArgPattern::exact("a").matches("b"));
    /// let grant = ArgPattern::glob("/grant/*").unwrap();
    /// assert!(grant.matches("/grant/x"));
    /// assert!(!grant.matches("/grant/.."));
    /// assert!(!ArgPattern::regex("/grant/.*").unwrap().matches("/grant/../etc"));
    /// ```
    pub fn matches(&self, arg: &str) -> bool {
        match self {
            ArgPattern::Exact(s) => s == arg,
            _ if has_dot_component(arg) => false,
            ArgPattern::Glob(g) => g.is_match(arg),
            ArgPattern::Regex(r) => r.is_match(arg),
        }
    }
}

/// Whether `arg` has a `.` or `..` component: a part between `/`s (or
/// after the `=` of `--flag=value`) that is exactly `.` or `..`.
fn has_dot_component(arg: &str) -> bool {
    arg.split(['/', '='])
        .any(|part| part == "." || part == "..")
}

/// One allowed form of a whole argument list: one pattern per position,
/// then optionally any number of further arguments matching `rest`.
///
/// In a policy file: `{ match = ["log", { glob = "-n*" }], rest = { glob = "*" } }`.
///
/// ```
/// use procgate_policy::{ArgForm, ArgPattern};
/// let form = ArgForm::exact(["status"]);
/// assert!(form.matches(&["status".to_string()]));
/// assert!(!form.matches(&["status".to_string(), "-v".to_string()]));
/// ```
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ArgForm {
    /// The patterns of the first arguments, one per position.
    #[serde(rename = "match", default)]
    pub positions: Vec<ArgPattern>,
    /// What every further argument must match; none means no further
    /// arguments.
    #[serde(default)]
    pub rest: Option<ArgPattern>,
}

impl ArgForm {
    /// A form with these position patterns and nothing after them.
    ///
    /// ```
    /// use procgate_policy::{ArgForm, ArgPattern};
    /// let form = ArgForm::new([ArgPattern::exact("-n"), ArgPattern::regex("[0-9]+").unwrap()]);
    /// assert!(form.matches(&["-n".to_string(), "5".to_string()]));
    /// ```
    pub fn new(positions: impl IntoIterator<Item = ArgPattern>) -> ArgForm {
        ArgForm {
            positions: positions.into_iter().collect(),
            rest: None,
        }
    }

    /// Exactly this argument list.
    ///
    /// ```
    /// let form = procgate_policy::ArgForm::exact(["--version"]);
    /// assert!(form.matches(&["--version".to_string()]));
    /// ```
    pub fn exact<S: Into<String>>(args: impl IntoIterator<Item = S>) -> ArgForm {
        ArgForm::new(args.into_iter().map(ArgPattern::exact))
    }

    /// Accepts any number of further arguments matching `pattern`.
    ///
    /// ```
    /// use procgate_policy::{ArgForm, ArgPattern};
    /// let form = ArgForm::exact(["--"]).rest(ArgPattern::glob("*.rs").unwrap());
    /// assert!(form.matches(&["--".into(), "a.rs".into(), "b.rs".into()]));
    /// ```
    pub fn rest(mut self, pattern: ArgPattern) -> ArgForm {
        self.rest = Some(pattern);
        self
    }

    /// Whether the whole argument list has this form.
    ///
    /// ```
    /// assert!(procgate_policy::ArgForm::default().matches(&[]));
    /// ```
    pub fn matches(&self, args: &[String]) -> bool {
        if args.len() < self.positions.len() {
            return false;
        }
        let (head, tail) = args.split_at(self.positions.len());
        if !self.positions.iter().zip(head).all(|(p, a)| p.matches(a)) {
            return false;
        }
        match &self.rest {
            None => tail.is_empty(),
            Some(p) => tail.iter().all(|a| p.matches(a)),
        }
    }
}

/// The argument rules of one program: forbidden flags (checked in every
/// argument) and the allowed forms (the list must match one; no forms
/// means any list).
///
/// ```
/// let rules = procgate_policy::ArgRules::default().forbid_flag("-exec");
/// assert!(rules.check(&[".".into(), "-exec".into()]).is_err());
/// ```
#[derive(Debug, Clone, Default)]
pub struct ArgRules {
    /// The allowed forms of the argument list; empty means any.
    pub forms: Vec<ArgForm>,
    /// Flags refused anywhere in the argument list.
    pub forbid_flags: Vec<String>,
}

impl ArgRules {
    /// Adds an allowed form.
    ///
    /// ```
    /// let rules = procgate_policy::ArgRules::default()
    ///     .form(procgate_policy::ArgForm::exact(["-l"]));
    /// assert!(rules.check(&["-a".into()]).is_err());
    /// ```
    pub fn form(mut self, form: ArgForm) -> ArgRules {
        self.forms.push(form);
        self
    }

    /// Forbids a flag anywhere in the arguments. Also caught: `--flag=value`,
    /// unambiguous prefixes of long flags (`--exec-p` for `--exec-path`),
    /// any number of leading dashes, and a short flag (`-c`) inside a
    /// cluster of short flags (`-xc`, `-cfoo`).
    ///
    /// ```
    /// let rules = procgate_policy::ArgRules::default().forbid_flag("--upload-pack");
    /// assert!(rules.check(&["--upload-pack=evil".into()]).is_err());
    /// assert!(rules.check(&["--upload-pa".into(), "evil".into()]).is_err());
    /// ```
    pub fn forbid_flag(mut self, flag: impl Into<String>) -> ArgRules {
        self.forbid_flags.push(flag.into());
        self
    }

    /// Checks an argument list; the error names the rule that refused it.
    ///
    /// ```
    /// let rules = procgate_policy::ArgRules::default().forbid_flag("-c");
    /// assert_eq!(
    ///     rules.check(&["-xc".into()]).unwrap_err(),
    ///     "argument \"-xc\" carries forbidden flag \"-c\""
    /// );
    /// ```
    pub fn check(&self, args: &[String]) -> Result<(), String> {
        for arg in args {
            if let Some(flag) = self.forbid_flags.iter().find(|f| flag_hit(f, arg)) {
                return Err(format!("argument {arg:?} carries forbidden flag {flag:?}"));
            }
        }
        if !self.forms.is_empty() && !self.forms.iter().any(|f| f.matches(args)) {
            return Err(format!(
                "arguments {args:?} match none of the {} allowed forms",
                self.forms.len()
            ));
        }
        Ok(())
    }
}

/// Whether `arg` is, or carries, the forbidden `flag`. Deliberately
/// broad: a false alarm denies a request, a miss would let a flag through.
fn flag_hit(flag: &str, arg: &str) -> bool {
    if arg == flag {
        return true;
    }
    let Some(body) = flag.strip_prefix('-') else {
        // Not a flag (a word such as a subcommand): exact match only.
        return false;
    };
    if !arg.starts_with('-') || arg == "-" {
        return false;
    }
    let mut chars = body.chars();
    if let (Some(short), None) = (chars.next(), chars.next()) {
        if short != '-' {
            // `-c`: anywhere in a cluster of short flags (`-xc`, `-cfoo`).
            return !arg.starts_with("--") && arg[1..].contains(short);
        }
    }
    // A long flag (`--exec-path`, or `-exec` as find spells them): the
    // name without dashes, before any `=value`.
    let name = body.trim_start_matches('-');
    let arg_name = arg.trim_start_matches('-');
    let arg_name = arg_name.split('=').next().unwrap_or_default();
    if arg_name == name {
        return true;
    }
    // getopt_long accepts unambiguous prefixes: `--exec-p` is `--exec-path`.
    let long = arg.starts_with("--") || arg_name.chars().count() >= 2;
    long && !arg_name.is_empty() && name.starts_with(arg_name)
}

#[cfg(test)]
#[path = "args_tests.rs"]
mod tests;
