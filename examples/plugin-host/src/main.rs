//! A plugin host: an application that embeds procgate and runs three
//! WebAssembly plugins *at once*, each under its own policy, as an editor
//! runs its extensions:
//!
//! - each plugin lives in the host's own store data ([`Plugin`]), run by
//!   `Runner::<Plugin>` so it keeps procgate's guarantees (a wall-clock
//!   deadline, a memory limit, every child ended and reaped when it ends);
//! - each plugin's output, and the output its children inherit, is
//!   captured in memory and shown per plugin when all have ended;
//! - each plugin's audit events carry its name as run id; a `tracing` layer
//!   files them by plugin, and the host shows each plugin's decisions;
//! - a hook asks "the user" before any child starts (as Zellij asks before
//!   a plugin's RunCommands).
//!
//! The plugins:
//!
//! - `clock` (the `date` example) may run `python3` with exactly one
//!   argument list, `-c` and the one script it ships (an argument form, not
//!   a forbidden flag: forbidding `-m` would leave `-c` open), and gets no
//!   shell; its children run in a Landlock sandbox where the kernel has one.
//! - `lister` (the `gather` example) gets the shell, at most 3 spawns, and
//!   a user who approves exact command lines only: its `ls /zzz` runs, its
//!   `sleep 1; echo "hello"` is refused by the hook. (Approving commands
//!   that merely start with `"ls "` would approve `ls /; anything`.)
//! - `greeter` (the `shell` example) gets the shell for one command.
//!
//! ```text
//! CARGO_TARGET_DIR=target/wasm cargo build --release --target wasm32-wasip2 -p procgate-examples
//! cargo run --release -p plugin-host [-- WASM_DIR]
//! ```

use procgate::hooks::ProcgateHooks;
use procgate::policy::{ArgForm, ArgRules, SpawnPlan};
use procgate::runner::{engine, GuestData, GuestLimits, RunEnd, Runner};
use procgate::sandbox::LandlockMode;
use procgate::wasmtime::component::{Component, ResourceTable};
use procgate::wasmtime::StoreLimits;
use procgate::wasmtime_wasi::p2::pipe::MemoryOutputPipe;
use procgate::wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};
use procgate::{
    InheritedOutput, InheritedStdio, Policy, ProcgateCtx, ProcgateCtxView, ProcgateView,
};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tracing_subscriber::prelude::*;

/// The shell command lines the user approves, exactly.
const APPROVED_COMMANDS: &[&str] = &["ls /zzz", "echo hello from greeter"];

/// Most bytes of output kept per plugin and stream.
const OUTPUT_CAP: usize = 1 << 20;

/// The host's store data for one plugin: its WASI and procgate state, the
/// resource table they share, and its store limits.
struct Plugin {
    wasi: WasiCtx,
    procgate: ProcgateCtx,
    table: ResourceTable,
    limits: StoreLimits,
}

impl WasiView for Plugin {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

impl ProcgateView for Plugin {
    fn procgate(&mut self) -> ProcgateCtxView<'_> {
        ProcgateCtxView {
            ctx: &mut self.procgate,
            table: &mut self.table,
        }
    }
}

impl GuestData for Plugin {
    fn store_limits(&mut self) -> &mut StoreLimits {
        &mut self.limits
    }
}

/// The user, as a rule: a real host would show a dialog here.
struct AskUser {
    plugin: &'static str,
    approves: fn(&SpawnPlan) -> bool,
}

impl ProcgateHooks for AskUser {
    fn on_spawn(&self, plan: &SpawnPlan) -> Result<(), String> {
        let what = match plan.shell {
            true => format!("the shell command {:?}", plan.args[1]),
            false => format!("{} {:?}", plan.program.display(), plan.args),
        };
        let yes = (self.approves)(plan);
        println!(
            "[host] {} asks to run {what} in {}: {}",
            self.plugin,
            plan.cwd.display(),
            if yes { "approved" } else { "refused" }
        );
        if yes {
            Ok(())
        } else {
            Err(format!("the user refused {what}"))
        }
    }
}

/// The audit records of every plugin, by run id: a `tracing` layer that
/// keeps the `record` field of each event on procgate's audit target.
#[derive(Clone, Default)]
struct AuditByPlugin(Arc<Mutex<BTreeMap<String, Vec<serde_json::Value>>>>);

impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for AuditByPlugin {
    fn on_event(&self, event: &tracing::Event<'_>, _: tracing_subscriber::layer::Context<'_, S>) {
        if event.metadata().target() != procgate::policy::AUDIT_TARGET {
            return;
        }
        struct Record(Option<serde_json::Value>);
        impl tracing::field::Visit for Record {
            fn record_str(&mut self, field: &tracing::field::Field, value: &str) {
                if field.name() == "record" {
                    self.0 = serde_json::from_str(value).ok();
                }
            }
            fn record_debug(&mut self, _: &tracing::field::Field, _: &dyn std::fmt::Debug) {}
        }
        let mut record = Record(None);
        event.record(&mut record);
        let Some(record) = record.0 else { return };
        let run = record["run"].as_str().unwrap_or("-").to_string();
        let mut by_run = self.0.lock().unwrap_or_else(|e| e.into_inner());
        by_run.entry(run).or_default().push(record);
    }
}

/// One line for an audit record.
fn summary(r: &serde_json::Value) -> String {
    let s = |key: &str| r[key].as_str().unwrap_or("").to_string();
    match r["event"].as_str().unwrap_or("") {
        "decision" => {
            let what = match s("request").as_str() {
                "exec" => format!("exec {:?} {}", s("program"), r["args"]),
                "shell" => format!("shell {:?}", s("cmd")),
                other => format!("{other} {} to {}", s("signal"), r["pid"]),
            };
            match s("decision").as_str() {
                "allow" => format!("allowed {what} ({})", s("rule")),
                _ => format!("refused {what}: {}: {}", s("error"), s("reason")),
            }
        }
        "spawn" => format!("started pid {} ({})", r["pid"], s("resolved")),
        "exit" => format!("pid {} exited with {}", r["pid"], r["returncode"]),
        other => format!("{other}: {r}"),
    }
}

/// A plugin to run: its name, its file, its policy, and the user's rule.
struct Spec {
    name: &'static str,
    wasm: &'static str,
    args: &'static [&'static str],
    policy: Policy,
    approves: fn(&SpawnPlan) -> bool,
}

/// What one plugin did: its exit code (or why it failed) and its output.
struct Report {
    name: &'static str,
    ended: anyhow::Result<i32>,
    stdout: MemoryOutputPipe,
    stderr: MemoryOutputPipe,
}

/// Runs one plugin to its end, its output captured.
async fn run_plugin(engine: procgate::wasmtime::Engine, dir: PathBuf, spec: Spec) -> Report {
    let stdout = MemoryOutputPipe::new(OUTPUT_CAP);
    let stderr = MemoryOutputPipe::new(OUTPUT_CAP);
    let mut wasi = WasiCtx::builder();
    wasi.stdout(stdout.clone()).stderr(stderr.clone());
    wasi.arg(spec.wasm).args(spec.args);
    let procgate = ProcgateCtx::new(spec.policy)
        .run_id(spec.name)
        .hooks(AskUser {
            plugin: spec.name,
            approves: spec.approves,
        })
        // Children inherit the plugin's own (captured) output.
        .inherit(InheritedStdio {
            stdin_from_host: false,
            stdout: InheritedOutput::Stream(Box::new(stdout.clone())),
            stderr: InheritedOutput::Stream(Box::new(stderr.clone())),
        });
    let plugin = Plugin {
        wasi: wasi.build(),
        procgate,
        table: procgate::resource_table(),
        limits: StoreLimits::default(),
    };
    let limits = GuestLimits {
        deadline: Some(Duration::from_secs(60)),
        max_memory: Some(256 << 20),
    };
    let ended = async {
        let component = Component::from_file(&engine, dir.join(spec.wasm))?;
        let runner = Runner::<Plugin>::link(&engine, &component)?;
        let never = std::future::pending::<std::convert::Infallible>();
        match runner.run_data_until(plugin, limits, never).await? {
            RunEnd::Exited(code) => Ok(code),
            RunEnd::Cancelled(never) => match never {},
        }
    };
    Report {
        name: spec.name,
        ended: ended.await,
        stdout,
        stderr,
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let audit = AuditByPlugin::default();
    tracing_subscriber::registry().with(audit.clone()).init();
    let dir = std::env::args()
        .nth(1)
        .map(PathBuf::from)
        .unwrap_or_else(|| "target/wasm/wasm32-wasip2/release".into());
    let engine = engine()?;

    let date_script = ["-c", "import datetime; print(datetime.datetime.now())"];
    let plugins = [
        Spec {
            name: "clock",
            wasm: "date.wasm",
            args: &[],
            policy: Policy::builder()
                .allow_program_with(
                    "python3",
                    ArgRules::default().form(ArgForm::exact(date_script)),
                )
                .search_path(["/usr/bin", "/bin"])
                .max_live(1)
                .timeout_secs(Duration::from_secs(10))
                .landlock(LandlockMode::BestEffort)
                .build()?,
            approves: |_| true,
        },
        Spec {
            name: "lister",
            wasm: "gather.wasm",
            args: &[],
            policy: Policy::builder()
                .allow_shell("/bin/sh")
                .max_spawns(3)
                .build()?,
            approves: |plan| plan.shell && APPROVED_COMMANDS.contains(&plan.args[1].as_str()),
        },
        Spec {
            name: "greeter",
            wasm: "shell.wasm",
            args: &["echo hello from greeter"],
            policy: Policy::builder()
                .allow_shell("/bin/sh")
                .max_spawns(1)
                .build()?,
            approves: |plan| plan.shell && APPROVED_COMMANDS.contains(&plan.args[1].as_str()),
        },
    ];
    println!("[host] starting {} plugins at once", plugins.len());
    let mut running = tokio::task::JoinSet::new();
    for spec in plugins {
        running.spawn(run_plugin(engine.clone(), dir.clone(), spec));
    }
    let mut reports = Vec::new();
    while let Some(report) = running.join_next().await {
        reports.push(report?);
    }
    reports.sort_by_key(|r| r.name);

    let audit = audit.0.lock().unwrap_or_else(|e| e.into_inner());
    let mut failed = false;
    for report in &reports {
        match &report.ended {
            Ok(code) => println!("\n=== {} exited with {code}", report.name),
            Err(e) => {
                failed = true;
                println!("\n=== {} failed: {e:#}", report.name);
            }
        }
        for (stream, pipe) in [("stdout", &report.stdout), ("stderr", &report.stderr)] {
            let text = String::from_utf8_lossy(&pipe.contents()).into_owned();
            if !text.is_empty() {
                println!("--- its {stream}:\n{}", text.trim_end());
            }
        }
        println!("--- its audit log:");
        for record in audit.get(report.name).into_iter().flatten() {
            println!("  {}", summary(record));
        }
    }
    if failed {
        anyhow::bail!("a plugin failed");
    }
    Ok(())
}
