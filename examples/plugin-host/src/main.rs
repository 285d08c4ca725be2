//! A plugin host: an application that embeds procgate and runs two
//! WebAssembly plugins, each under its own policy, with a hook that asks
//! "the user" before any child starts (as Zellij asks before a plugin's
//! RunCommands).
//!
//! - `clock` (the `date` example) may run `python3` with exactly one
//!   argument list, `-c` and the one script it ships (an argument form, not
//!   a forbidden flag: forbidding `-m` would leave `-c` open), and gets no
//!   shell; its children run in a Landlock sandbox where the kernel has one.
//! - `lister` (the `gather` example) gets the shell, at most 3 spawns, and
//!   a user who approves exact command lines only: its `ls /zzz` runs, its
//!   `sleep 1; echo "hello"` is refused by the hook. (Approving commands
//!   that merely start with `"ls "` would approve `ls /; anything`.)
//!
//! ```text
//! CARGO_TARGET_DIR=target/wasm cargo build --release --target wasm32-wasip2 -p procgate-examples
//! cargo run --release -p plugin-host [-- WASM_DIR]
//! ```

use procgate::hooks::ProcgateHooks;
use procgate::policy::{ArgForm, ArgRules, SpawnPlan};
use procgate::runner::{engine, Runner};
use procgate::sandbox::LandlockMode;
use procgate::{InheritedOutput, InheritedStdio, Policy, ProcgateCtx};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The shell command lines the user approves, exactly.
const APPROVED_COMMANDS: &[&str] = &["ls /zzz"];

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

/// Runs one plugin to its end with its own policy and hooks.
async fn run_plugin(
    engine: &wasmtime::Engine,
    wasm: &Path,
    policy: Policy,
    hooks: AskUser,
) -> anyhow::Result<i32> {
    println!("[host] starting {} ({})", hooks.plugin, wasm.display());
    let runner = Runner::from_file(engine, wasm)?;
    let wasi = wasmtime_wasi::WasiCtx::builder().inherit_stdio().build();
    let ctx = ProcgateCtx::new(policy)
        .hooks(hooks)
        .inherit(InheritedStdio {
            stdin_from_host: false,
            stdout: InheritedOutput::Host,
            stderr: InheritedOutput::Host,
        });
    let code = runner.run(wasi, ctx).await?;
    println!("[host] plugin exited with {code}");
    Ok(code)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let dir = std::env::args()
        .nth(1)
        .map(PathBuf::from)
        .unwrap_or_else(|| "target/wasm/wasm32-wasip2/release".into());
    let engine = engine()?;

    let date_script = ["-c", "import datetime; print(datetime.datetime.now())"];
    let clock = Policy::builder()
        .allow_program_with(
            "python3",
            ArgRules::default().form(ArgForm::exact(date_script)),
        )
        .search_path(["/usr/bin", "/bin"])
        .update_limits(|l| {
            l.max_live = Some(1);
            l.timeout = Some(Duration::from_secs(10));
        })
        .landlock(LandlockMode::BestEffort)
        .build()?;
    let approve_all = AskUser {
        plugin: "clock",
        approves: |_| true,
    };
    run_plugin(&engine, &dir.join("date.wasm"), clock, approve_all).await?;

    let lister = Policy::builder()
        .allow_shell("/bin/sh")
        .update_limits(|l| l.max_spawns = Some(3))
        .build()?;
    let ls_only = AskUser {
        plugin: "lister",
        approves: |plan| plan.shell && APPROVED_COMMANDS.contains(&plan.args[1].as_str()),
    };
    run_plugin(&engine, &dir.join("gather.wasm"), lister, ls_only).await?;
    Ok(())
}
