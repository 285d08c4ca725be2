//! A policy file turned into a [`PolicyBuilder`]: the top level, then the
//! profile chosen (`--profile NAME`) on top of it.
//!
//! How a profile combines with the top level (as flags combine with a
//! file): lists add (`programs.allow`, `programs.deny`, rules, `dirs`,
//! variables), `shell.allow` and `limits.no_new_privs` add; a scalar key the
//! profile sets replaces the top level's (each limit, `search_path`,
//! `shell.path`, `cwd.default`, `signals.allow`, `sandbox.read`); the
//! sandbox modes (`landlock`, `cgroup`) are the stricter of the two and
//! `sandbox.network` the profile's unless it says `"any"`. A profile never
//! takes away what the top level grants: put shared grants at the top.

use crate::args::ArgRules;
use crate::file::PolicyFile;
use crate::file_tables::LimitsTable;
use crate::sandbox::{CgroupMode, LandlockMode, Network, Sandbox as SandboxConfig};
use crate::{Policy, PolicyBuilder};
use std::path::Path;
use toml::Spanned;

/// Where the spans of a file's values point: its name and text.
pub(crate) type Source = Option<(String, String)>;

/// Whether the tables are a file's top level or a profile on top of it.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Layer<'a> {
    /// The top level.
    Top,
    /// `[profiles.NAME]`.
    Profile(&'a str),
}

impl Layer<'_> {
    /// The key path prefix of the layer's keys.
    fn key(&self, key: &str) -> String {
        match self {
            Layer::Top => key.to_string(),
            Layer::Profile(name) => format!("profiles.{name}.{key}"),
        }
    }
}

/// `file:line:column: key` of a value, for the builder's messages.
pub(crate) fn origin<T>(source: &Source, value: &Spanned<T>, key: &str) -> String {
    match source {
        Some((name, text)) => {
            let (line, col) = line_col(text, value.span().start);
            format!("{name}:{line}:{col}: {key}")
        }
        None => key.to_string(),
    }
}

/// 1-based line and column of a byte offset.
pub(crate) fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let col = before.chars().count()
        - before[..before.rfind('\n').map(|i| i + 1).unwrap_or(0)]
            .chars()
            .count()
        + 1;
    (line, col)
}

impl PolicyFile {
    /// Turns the file into a builder; relative paths (`dirs`, `sandbox`)
    /// are taken relative to `base` (the file's directory). Flags can then
    /// add to it. The file's profiles are not applied (see
    /// [`PolicyFile::into_builder_with_profile`]).
    ///
    /// ```
    /// let file = procgate_policy::PolicyFile::default();
    /// let policy = file.into_builder(".".as_ref()).allow_program("ls").build().unwrap();
    /// ```
    pub fn into_builder(self, base: &Path) -> PolicyBuilder {
        let source = self.source.clone();
        self.apply(Policy::builder(), base, &source, Layer::Top)
    }

    /// Adds this file's (or profile's) tables to `b`; see the module doc
    /// for how a profile combines with what `b` holds.
    pub(crate) fn apply(
        self,
        mut b: PolicyBuilder,
        base: &Path,
        source: &Source,
        layer: Layer<'_>,
    ) -> PolicyBuilder {
        let at = |value: &Spanned<String>, key: String| origin(source, value, &layer.key(&key));
        for (i, p) in self.programs.allow.iter().enumerate() {
            b = b
                .origin(at(p, format!("programs.allow[{i}]")))
                .allow_program(p.get_ref());
        }
        for (i, p) in self.programs.deny.iter().enumerate() {
            b = b
                .origin(at(p, format!("programs.deny[{i}]")))
                .deny_program(p.get_ref());
        }
        for (i, p) in self.programs.ask.iter().enumerate() {
            b = b
                .origin(at(p, format!("programs.ask[{i}]")))
                .ask_program(p.get_ref());
        }
        if let Some(default) = self.programs.default {
            b = b.default_ask(default == crate::ask::ProgramDefault::Ask);
        }
        for (i, rule) in self.programs.rules.iter().enumerate() {
            let rules = ArgRules {
                forms: rule.args.clone(),
                forbid_flags: rule.forbid_flags.clone(),
            };
            b = b
                .origin(at(&rule.program, format!("programs.rules[{i}].program")))
                .allow_program_with(rule.program.get_ref(), rules);
            let limits = crate::RuleLimits {
                timeout: rule.timeout_secs,
                cpu_secs: rule.cpu_secs,
                address_space: rule.address_space_bytes,
                open_files: rule.open_files,
                communicate_bytes: rule.communicate_bytes,
                cwd: rule.cwd.clone(),
                env: rule.env.clone().into_iter().collect(),
                pass_env: rule.pass_env.clone(),
            };
            if limits != crate::RuleLimits::default() {
                b = b.program_limits(rule.program.get_ref(), limits);
            }
        }
        if let Some(sp) = &self.programs.search_path {
            b = b
                .origin(origin(source, sp, &layer.key("programs.search_path")))
                .search_path(sp.get_ref().clone());
        }
        if self.shell.allow {
            b = match &self.shell.path {
                Some(path) => b
                    .origin(origin(source, path, &layer.key("shell.path")))
                    .allow_shell(path.get_ref()),
                None => b.origin(layer.key("shell.allow")).allow_shell("/bin/sh"),
            };
        }
        for (k, v) in &self.env.set {
            b = b.set_env(k, v);
        }
        for k in &self.env.pass {
            b = b.pass_env(k);
        }
        for (i, k) in self.env.guest_may_set.iter().enumerate() {
            b = b
                .origin(at(k, format!("env.guest_may_set[{i}]")))
                .allow_guest_env(k.get_ref());
        }
        for k in &self.env.secret {
            b = b.secret_env(k);
        }
        if self.env.unsafe_env_globs {
            b = b.unsafe_env_globs(true);
        }
        for (i, d) in self.dirs.iter().enumerate() {
            let host = d.host.get_ref();
            let guest = d
                .guest
                .clone()
                .unwrap_or_else(|| host.display().to_string());
            b = b.origin(origin(
                source,
                &d.host,
                &layer.key(&format!("dirs[{i}].host")),
            ));
            b = match d.read_only {
                true => b.dir_read_only(base.join(host), guest),
                false => b.dir(base.join(host), guest),
            };
        }
        let mut b = b.origin("");
        if let Some(default) = self.cwd.default {
            b = b.default_cwd(default);
        }
        if let Some(signals) = self.signals.allow {
            b = b.allow_signals(signals);
        }
        let b = b.update_limits(|l| merge_limits(l, &self.limits));
        let sb = self.sandbox;
        let sandbox = SandboxConfig {
            landlock: sb.landlock,
            read: sb
                .read
                .map(|r| r.into_iter().map(|p| base.join(p)).collect()),
            write: sb.write.into_iter().map(|p| base.join(p)).collect(),
            cgroup: sb.cgroup,
            network: sb.network,
        };
        match layer {
            Layer::Top => b.sandbox(sandbox),
            Layer::Profile(_) => b.update_sandbox(|old| merge_sandbox(old, sandbox)),
        }
    }
}

/// Each limit the table sets replaces the one in `l`.
fn merge_limits(l: &mut crate::Limits, t: &LimitsTable) {
    l.max_live = t.max_live.or(l.max_live);
    l.max_held = t.max_held.or(l.max_held);
    l.max_spawns = t.max_spawns.or(l.max_spawns);
    l.timeout = t.timeout_secs.or(l.timeout);
    l.kill_grace = t.kill_grace_secs.or(l.kill_grace);
    l.communicate_bytes = t.communicate_bytes.or(l.communicate_bytes);
    l.buffered_bytes = t.buffered_bytes.or(l.buffered_bytes);
    l.max_arg_bytes = t.max_arg_bytes.or(l.max_arg_bytes);
    l.max_env_bytes = t.max_env_bytes.or(l.max_env_bytes);
    let os = &mut l.os;
    os.cpu_secs = t.cpu_secs.or(os.cpu_secs);
    os.address_space = t.address_space_bytes.or(os.address_space);
    os.open_files = t.open_files.or(os.open_files);
    os.processes = t.processes.or(os.processes);
    os.no_new_privs |= t.no_new_privs;
}

/// A profile's sandbox over the top level's: the stricter mode, the
/// profile's read list and network if it sets them, both write lists.
fn merge_sandbox(old: &mut SandboxConfig, new: SandboxConfig) {
    let landlock = |m: LandlockMode| match m {
        LandlockMode::Off => 0,
        LandlockMode::BestEffort => 1,
        LandlockMode::Require => 2,
    };
    let cgroup = |m: CgroupMode| match m {
        CgroupMode::Off => 0,
        CgroupMode::BestEffort => 1,
        CgroupMode::Require => 2,
    };
    if landlock(new.landlock) > landlock(old.landlock) {
        old.landlock = new.landlock;
    }
    if cgroup(new.cgroup) > cgroup(old.cgroup) {
        old.cgroup = new.cgroup;
    }
    if new.read.is_some() {
        old.read = new.read;
    }
    old.write.extend(new.write);
    if new.network != Network::Any {
        old.network = new.network;
    }
}
