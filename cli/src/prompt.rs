//! `procgate run --prompt`: the CLI's answer to the policy's ask tier. For
//! each request the ask tier matched (with `--prompt`, every program no
//! entry lists is asked), show what would run and the sandbox it would
//! get, and ask on the controlling terminal (never the guest's stdin):
//! allow once, allow this exact command, allow this form, deny, deny
//! always. Remembered answers hold for the rest of the run, are written to
//! the `--policy` file as learn mode writes
//! ([`procgate::policy::learn::remember`]) and are named in the audit
//! event (`answered_by: "prompt"`, `remembered`).

use crate::exit::{fail, Failure, USAGE};
use procgate::hooks::{Answer, Consult, HookFuture, ProcgateHooks};
use procgate::policy::learn::{open_form, remember, Form, Pat, Remember};
use procgate::policy::{ArgForm, SpawnPlan};
use std::io::{BufRead, IsTerminal, Write};
use std::path::{Path, PathBuf};

/// The prompt's state: the policy file answers are written to, the
/// variables every child gets, and what was answered to remember.
pub struct Prompt {
    policy_file: Option<PathBuf>,
    default_env: Vec<String>,
    state: tokio::sync::Mutex<State>,
}

/// Answers remembered for the rest of the run.
#[derive(Default)]
struct State {
    questions: usize,
    exact: Vec<(PathBuf, Vec<String>)>,
    forms: Vec<(PathBuf, ArgForm)>,
    never: Vec<PathBuf>,
}

/// The keys of the answers, as the question lists them.
const CHOICES: &str =
    "[o] allow once  [e] allow this exact command  [f] allow this form  [d] deny  [n] deny always";

impl Prompt {
    /// The prompt of a run, if the terminal allows one: stdin and stderr
    /// must be terminals and `CI` unset (else a usage error, exit 2).
    /// `policy_file`: where remembered answers are written.
    pub fn start(policy_file: Option<&Path>) -> Result<Prompt, Failure> {
        let why = if std::env::var_os("CI").is_some() {
            Some("CI is set")
        } else if !std::io::stdin().is_terminal() {
            Some("stdin is not a terminal")
        } else if !std::io::stderr().is_terminal() {
            Some("stderr is not a terminal")
        } else {
            None
        };
        if let Some(why) = why {
            return Err(fail(
                USAGE,
                format!("--prompt needs someone at a terminal, but {why}"),
            ));
        }
        Ok(Prompt {
            policy_file: policy_file.map(Path::to_path_buf),
            default_env: Vec::new(),
            state: tokio::sync::Mutex::default(),
        })
    }

    /// Sets the names of the variables every child gets (shown apart from
    /// what a request adds).
    pub fn default_env(mut self, names: Vec<String>) -> Prompt {
        self.default_env = names;
        self
    }

    /// The question about `plan`, `form` being its open form.
    fn question(&self, plan: &SpawnPlan, form: &Form) -> String {
        let argv: Vec<&str> = std::iter::once(plan.arg0.as_str())
            .chain(plan.args.iter().map(String::as_str))
            .collect();
        let added: Vec<&str> = plan
            .env
            .iter()
            .map(|(k, _)| k.as_str())
            .filter(|k| !self.default_env.iter().any(|d| d == k))
            .collect();
        let env = if added.is_empty() {
            "nothing beyond the default".to_string()
        } else {
            format!("adds {added:?}")
        };
        format!(
            "\nprocgate: the guest asks to run a program no rule allows ({})\n  \
             program  {:?}\n  argv     {argv:?}\n  cwd      {:?}\n  env      {env}\n  \
             sandbox  {}\n  form     {}\n{CHOICES}\n? ",
            plan.rule,
            plan.program,
            plan.cwd,
            sandbox(plan),
            show_form(form),
        )
    }

    /// Writes a remembered answer to the policy file; says what was
    /// written (or why not) for the audit log.
    fn write(&self, call: usize, plan: &SpawnPlan, how: Remember) -> String {
        let Some(path) = &self.policy_file else {
            return "for this run (no --policy file to write)".into();
        };
        let base = match path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p,
            _ => Path::new("."),
        };
        let written = std::fs::read_to_string(path)
            .map_err(anyhow::Error::from)
            .and_then(|text| Ok(remember(&text, base, call, &plan.arg0, &plan.args, how)?))
            .and_then(|learned| {
                std::fs::write(path, &learned.text)?;
                Ok(learned.diff)
            });
        match written {
            Ok(diff) => {
                let added: Vec<&str> = diff
                    .lines()
                    .filter_map(|l| l.strip_prefix('+'))
                    .map(str::trim)
                    .filter(|l| !l.is_empty() && !l.starts_with('#'))
                    .collect();
                format!("{}: {}", path.display(), added.join(" "))
            }
            Err(e) => format!("for this run; not written to {}: {e:#}", path.display()),
        }
    }

    async fn answer(&self, plan: &SpawnPlan) -> Answer {
        // One question at a time, and each remembered answer seen by the next.
        let mut state = self.state.lock().await;
        if state.never.contains(&plan.program) {
            return Answer::deny("denied always at the prompt").by("prompt");
        }
        let exact = (plan.program.clone(), plan.args.clone());
        let by_form = state
            .forms
            .iter()
            .any(|(p, f)| *p == plan.program && f.matches(&plan.args));
        if state.exact.contains(&exact) || by_form {
            return Answer::allow().by("prompt");
        }
        state.questions += 1;
        let call = state.questions;
        let form = open_form(&plan.args);
        let question = self.question(plan, &form);
        let key = tokio::task::spawn_blocking(move || ask(&question))
            .await
            .unwrap_or_else(|e| Err(std::io::Error::other(e)));
        let key = match key {
            Ok(key) => key,
            Err(e) => {
                return Answer::deny(format!("no answer from the terminal: {e}")).by("prompt")
            }
        };
        match key {
            'o' => Answer::allow().by("prompt"),
            'e' => {
                state.exact.push(exact);
                let what = self.write(call, plan, Remember::Exact);
                Answer::allow().by("prompt").remembered(what)
            }
            'f' => {
                if let Some(f) = form.to_arg_form() {
                    state.forms.push((plan.program.clone(), f));
                }
                let what = self.write(call, plan, Remember::Form(form));
                Answer::allow().by("prompt").remembered(what)
            }
            'n' => {
                state.never.push(plan.program.clone());
                let what = self.write(call, plan, Remember::Deny);
                Answer::deny("denied always at the prompt")
                    .by("prompt")
                    .remembered(what)
            }
            _ => Answer::deny("denied at the prompt").by("prompt"),
        }
    }
}

impl ProcgateHooks for Prompt {
    fn on_spawn_async<'a>(&'a self, plan: &'a SpawnPlan, consult: Consult) -> HookFuture<'a> {
        Box::pin(async move {
            match consult {
                Consult::Ask => self.answer(plan).await,
                Consult::Allowed => Answer::none(),
            }
        })
    }
}

/// Asks on the controlling terminal until one of the keys is answered
/// (three tries, then `d`); end of input is `d`.
fn ask(question: &str) -> std::io::Result<char> {
    let tty = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/tty")?;
    let mut out = &tty;
    let mut lines = std::io::BufReader::new(&tty);
    out.write_all(question.as_bytes())?;
    for _ in 0..3 {
        out.flush()?;
        let mut line = String::new();
        if lines.read_line(&mut line)? == 0 {
            return Ok('d');
        }
        match line.trim() {
            key @ ("o" | "e" | "f" | "d" | "n") => return Ok(key.chars().next().unwrap_or('d')),
            _ => out.write_all(format!("{CHOICES}\n? ").as_bytes())?,
        }
    }
    Ok('d')
}

/// The sandbox of a plan, in one line.
fn sandbox(plan: &SpawnPlan) -> String {
    let mut parts = vec![plan.sandbox_note.to_string()];
    if let Some(l) = &plan.sandbox.landlock {
        parts.push(format!("reads {:?}, writes {:?}", l.read, l.write));
    }
    let os = &plan.sandbox.os;
    if os.no_new_privs {
        parts.push("no_new_privs".into());
    }
    if let Some(t) = plan.timeout {
        parts.push(format!("timeout {t:?}"));
    }
    parts.join("; ")
}

/// A form as a policy file writes it.
fn show_form(form: &Form) -> String {
    let pat = |p: &Pat| match p {
        Pat::Exact(s) => format!("{s:?}"),
        Pat::Glob(g) => format!("{{ glob = {g:?} }}"),
        Pat::Regex(r) => format!("{{ regex = {r:?} }}"),
    };
    let positions: Vec<String> = form.positions.iter().map(pat).collect();
    format!("{{ match = [{}] }}", positions.join(", "))
}
