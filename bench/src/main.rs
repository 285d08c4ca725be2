//! `procgate-bench`: each workload from a wasm guest through procgate,
//! natively with tokio::process, and with Python asyncio, interleaved, each
//! measurement in a fresh process; then a report (Markdown table, SVG plot,
//! raw samples). Run it with `bash scripts/bench.sh`; see `--help`.
//!
//! A little over ~400 lines: the driver's one flow (usage and options,
//! build, measure interleaved, report), in the order it runs; each
//! measurement, workload and report is a module of its own.
//!
//! The driver re-executes this binary as `procgate-bench one WORKLOAD
//! VARIANT ...` for each procgate or native measurement (and runs
//! `python3 bench/asyncio_bench.py WORKLOAD ...` for asyncio's), reading the
//! one JSON line each prints.

mod cli_run;
mod guest;
mod info;
mod measure;
mod native;
mod report;
mod scale;
mod scale_report;
mod start;
mod stats;
mod workloads;

use anyhow::{bail, Context, Result};
use measure::{Measurement, Paths, PYTHON};
use stats::Sample;
use std::collections::HashMap;
use std::io::Read;
use std::path::PathBuf;
use std::process::{Command, ExitCode, Stdio};
use std::time::{Duration, Instant};
use workloads::{How, Params, Variant, Workload, WORKLOADS};

const USAGE: &str = "\
usage: procgate-bench [--rounds N] [--quick] [--bytes N] [--communicate-bytes N]
                      [--only W1,W2,...] [--stream-mode raw|sync|aio] [--face sync|aio]
                      [--out DIR] [--no-build] [--cpus LIST]
       procgate-bench list
       procgate-bench report [DIR]     (rewrite DIR's REPORT.md and ratios.svg from its results.json)

  --rounds N              rounds of every workload × variant (default 10)
  --quick                 a smoke run: 1 round, 16 MiB transfers, the 1,000-child and
                          1,000-guest workloads left out, report in target/bench-quick
                          (unless given); asserts nothing about speed, fails if a
                          measurement fails
  --bytes N               bytes per stream transfer (default 1G; suffixes K, M, G)
  --communicate-bytes N   bytes per communicate transfer (default: --bytes)
  --only LIST             only these workloads (see `list`); `guests-*` names all
                          that start with `guests-`
  --stream-mode M         the guest's stream loops: raw (default, the fastest), sync, aio
  --face F                the guest face of spawn, echo, stdout-communicate (default sync)
  --out DIR               where the report goes (default bench/report)
  --no-build              do not build the guest programs first
  --cpus LIST             run every measurement on these CPUs (taskset -c LIST): `--cpus 0`
                          puts both ends of every pipe on one core, for steadier stream numbers
";

/// A measurement may take at most this long before it is killed.
const MEASUREMENT_TIMEOUT: Duration = Duration::from_secs(300);

struct Options {
    rounds: usize,
    params: Params,
    only: Option<Vec<String>>,
    out: PathBuf,
    build: bool,
    cpus: Option<String>,
    quick: bool,
}

/// Workloads `--quick` leaves out (unless named with `--only`): the
/// 1,000-child and 1,000-guest sizes, whose smaller siblings run.
const NOT_QUICK: &[&str] = &[
    "concurrent-1000",
    "memory-1000",
    "guests-seq-1000",
    "guests-par-1000",
    "concurrent-1000 cgroup-off",
];

fn parse_size(s: &str) -> Result<u64> {
    let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (digits, unit) = s.split_at(split);
    let shift = match unit.to_ascii_uppercase().as_str() {
        "" => 0,
        "K" | "KIB" => 10,
        "M" | "MIB" => 20,
        "G" | "GIB" => 30,
        _ => bail!("{s:?}: unknown unit"),
    };
    Ok(digits.parse::<u64>().context(s.to_string())? << shift)
}

/// Parses the measurement parameters (shared with `one`) and the driver's
/// options.
fn parse(args: &[String]) -> Result<Options> {
    let mut rounds = None;
    let mut quick = false;
    let mut bytes = None;
    let mut communicate_bytes = None;
    let mut stream_mode = "raw".to_string();
    let mut face = "sync".to_string();
    let mut only = None;
    let mut out = Paths::new().root.join("bench/report");
    let mut build = true;
    let mut cpus = None;
    let mut out_given = false;
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        let mut value = || it.next().with_context(|| format!("{arg} needs a value"));
        match arg.as_str() {
            "--rounds" => rounds = Some(value()?.parse()?),
            "--quick" => quick = true,
            "--bytes" => bytes = Some(parse_size(value()?)?),
            "--communicate-bytes" => communicate_bytes = Some(parse_size(value()?)?),
            "--stream-mode" => stream_mode = value()?.clone(),
            "--face" => face = value()?.clone(),
            "--only" => only = Some(value()?.split(',').map(String::from).collect()),
            "--out" => {
                out = PathBuf::from(value()?);
                out_given = true;
            }
            "--no-build" => build = false,
            "--cpus" => cpus = Some(value()?.clone()),
            other => bail!("unknown argument {other:?}\n{USAGE}"),
        }
    }
    let bytes = bytes.unwrap_or(if quick { 16 << 20 } else { 1 << 30 });
    if quick && !out_given {
        out = Paths::new().root.join("target/bench-quick");
    }
    Ok(Options {
        rounds: rounds.unwrap_or(if quick { 1 } else { 10 }),
        params: Params {
            bytes,
            communicate_bytes: communicate_bytes.unwrap_or(bytes),
            stream_mode,
            face,
        },
        only,
        out,
        build,
        cpus,
        quick,
    })
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("one") if args.len() >= 3 => match Variant::parse(&args[2]) {
            Some(variant) => {
                parse(&args[3..]).and_then(|o| measure::one(&args[1], variant, &o.params))
            }
            None => Err(anyhow::anyhow!("unknown variant {}", args[2])),
        },
        Some("native-hello") => native::hello(),
        Some("report") => {
            let dir = args.get(1).map(PathBuf::from);
            rerender(dir.unwrap_or_else(|| Paths::new().root.join("bench/report")))
        }
        Some("list") => {
            for w in WORKLOADS.iter().filter(|w| w.derived.is_none()) {
                println!("{:20} {}", w.name, w.what);
            }
            Ok(())
        }
        Some("-h" | "--help" | "help") => {
            print!("{USAGE}");
            Ok(())
        }
        _ => parse(&args).and_then(drive),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("procgate-bench: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// Builds the guest programs, as the tests do (their own target dir).
fn build_guests(paths: &Paths) -> Result<()> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let status = Command::new(cargo)
        .current_dir(&paths.root)
        .args(["build", "--release", "--target", "wasm32-wasip2"])
        .args(["-p", "procgate-bench-guests"])
        .env("CARGO_TARGET_DIR", paths.root.join("target/wasm"))
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .status()
        .context("running cargo to build the guest programs")?;
    if !status.success() {
        bail!("building the guest programs failed");
    }
    Ok(())
}

/// Runs a command to its end (killed after [`MEASUREMENT_TIMEOUT`]),
/// returning its stdout.
fn run_captured(mut cmd: Command) -> Result<String> {
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .with_context(|| format!("starting {cmd:?}"))?;
    let readers = [
        child
            .stdout
            .take()
            .map(|r| Box::new(r) as Box<dyn Read + Send>),
        child
            .stderr
            .take()
            .map(|r| Box::new(r) as Box<dyn Read + Send>),
    ]
    .map(|r| {
        std::thread::spawn(move || {
            let mut text = String::new();
            if let Some(mut r) = r {
                let _ = r.read_to_string(&mut text);
            }
            text
        })
    });
    let deadline = Instant::now() + MEASUREMENT_TIMEOUT;
    let status = loop {
        if let Some(status) = child.try_wait()? {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            bail!("{cmd:?} took longer than {MEASUREMENT_TIMEOUT:?}");
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    let [stdout, stderr] = readers.map(|t| t.join().unwrap_or_default());
    if !status.success() {
        bail!("{cmd:?}: {status}\n{stdout}{stderr}");
    }
    Ok(stdout)
}

/// One measurement of one variant, in a fresh process.
fn measure_once(
    paths: &Paths,
    workload: &Workload,
    variant: Variant,
    opts: &Options,
) -> Result<Measurement> {
    let mut argv: Vec<std::ffi::OsString> = Vec::new();
    if let Some(cpus) = &opts.cpus {
        argv.extend(["taskset".into(), "-c".into(), cpus.into()]);
    }
    if variant == Variant::Asyncio && workload.name != "cli-run" {
        argv.extend([
            PYTHON.into(),
            paths.asyncio_script().into(),
            workload.name.into(),
        ]);
    } else {
        argv.push(std::env::current_exe()?.into());
        // A rerun row measures another workload's procgate side with other
        // sandbox modes, or a native program of its own.
        let (name, variant) = match workload.rerun.map(|r| (r.of, r.how)) {
            Some((of, How::Sandbox { .. })) => (of, variant),
            Some((_, How::Native(name))) => (name, Variant::Native),
            None => (workload.name, variant),
        };
        argv.extend(["one", name, variant.name()].map(Into::into));
    }
    argv.extend(opts.params.to_args().into_iter().map(Into::into));
    let mut cmd = Command::new(&argv[0]);
    cmd.args(&argv[1..]);
    if let Some(How::Sandbox { cgroup, landlock }) = workload.rerun.map(|r| r.how) {
        cmd.env("PROCGATE_BENCH_CGROUP", cgroup)
            .env("PROCGATE_BENCH_LANDLOCK", landlock);
    }
    let stdout = run_captured(cmd)?;
    let line = stdout
        .lines()
        .last()
        .context("the measurement printed nothing")?;
    serde_json::from_str(line).with_context(|| format!("the measurement printed {line:?}"))
}

/// The driver: rounds × workloads × variants, interleaved, then the report.
fn drive(opts: Options) -> Result<()> {
    let paths = Paths::new();
    if opts.build {
        build_guests(&paths)?;
    }
    guest::precompile(&paths)?;
    scale::warm_cache(&paths)?;
    let mut selected: Vec<&'static Workload> = match &opts.only {
        None => WORKLOADS
            .iter()
            .filter(|w| w.derived.is_none())
            .filter(|w| !(opts.quick && NOT_QUICK.contains(&w.name)))
            .collect(),
        Some(names) => {
            let mut chosen = Vec::new();
            for name in names {
                let matched = Workload::matching(name);
                if matched.is_empty() {
                    bail!("no workload {name} (see `list`)");
                }
                chosen.extend(matched);
            }
            chosen
        }
    };
    if !paths.cli().exists() {
        eprintln!(
            "warning: no {}: cli-run skipped (cargo build --release -p procgate-cli)",
            paths.cli().display()
        );
        selected.retain(|w| w.name != "cli-run");
    }
    let mut info = info::run_info(
        &paths,
        opts.rounds,
        &opts.params,
        opts.cpus.clone(),
        opts.quick,
    );
    let started = Instant::now();
    let mut samples = Vec::new();
    let mut failures: HashMap<&str, usize> = HashMap::new();
    for round in 0..opts.rounds {
        for (i, workload) in selected.iter().enumerate() {
            let variants = workload.variants();
            for j in 0..variants.len() {
                // Rotate the order from round to round and workload to workload.
                let variant = variants[(round + i + j) % variants.len()];
                match measure_once(&paths, workload, variant, &opts) {
                    Ok(measurement) => {
                        eprintln!(
                            "[round {}/{}] {:18} {:8} {:>10} {}",
                            round + 1,
                            opts.rounds,
                            workload.name,
                            variant.name(),
                            format!("{:.3}", measurement.value),
                            workload.unit
                        );
                        samples.push(Sample {
                            round,
                            workload: workload.name.to_string(),
                            variant: variant.name().to_string(),
                            measurement,
                        });
                    }
                    Err(e) => {
                        eprintln!(
                            "[round {}/{}] {} {} FAILED: {e:#}",
                            round + 1,
                            opts.rounds,
                            workload.name,
                            variant.name()
                        );
                        *failures.entry(workload.name).or_default() += 1;
                    }
                }
            }
        }
    }
    info.duration_s = started.elapsed().as_secs_f64();
    info.load_after = info::loadavg();
    let failures: HashMap<String, usize> = failures
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
    finish(
        &opts.out,
        &info,
        &with_derived(&selected),
        &samples,
        &failures,
    )?;
    let failed: usize = failures.values().sum();
    if failed > 0 {
        bail!("{failed} measurement(s) failed (see above and the report)");
    }
    Ok(())
}

/// The rows of a report on `ran`: each workload, followed by the rows
/// derived from it and the rows that rerun it.
fn with_derived(ran: &[&'static Workload]) -> Vec<&'static Workload> {
    let mut rows: Vec<&'static Workload> = WORKLOADS
        .iter()
        .filter(|w| ran.iter().any(|r| r.name == w.source()))
        .collect();
    // A rerun row right below the workload it reruns.
    let at = |name: &str| WORKLOADS.iter().position(|w| w.name == name);
    rows.sort_by_key(|w| at(w.rerun.map_or(w.source(), |r| r.of)));
    rows
}

/// Summarises, writes the report into `out`, and prints the table.
fn finish(
    out: &std::path::Path,
    info: &report::RunInfo,
    workloads: &[&'static Workload],
    samples: &[Sample],
    failures: &HashMap<String, usize>,
) -> Result<()> {
    let summaries: Vec<_> = workloads
        .iter()
        .map(|w| {
            let failed = failures.get(w.name).copied().unwrap_or(0);
            stats::summarise(w, samples, failed)
        })
        .collect();
    report::write(out, info, &summaries, samples, failures)?;
    print!("{}", report::markdown(info, &summaries, samples));
    eprintln!("report written to {}", out.join("REPORT.md").display());
    Ok(())
}

/// `report [DIR]`: the report again from DIR's `results.json`.
fn rerender(dir: PathBuf) -> Result<()> {
    #[derive(serde::Deserialize)]
    struct Saved {
        info: report::RunInfo,
        samples: Vec<Sample>,
        #[serde(default)]
        failures: HashMap<String, usize>,
    }
    let path = dir.join("results.json");
    let text = std::fs::read_to_string(&path).with_context(|| format!("{}", path.display()))?;
    let saved: Saved = serde_json::from_str(&text)?;
    let ran: Vec<&'static Workload> = WORKLOADS
        .iter()
        .filter(|w| {
            saved.samples.iter().any(|s| s.workload == w.name)
                || saved.failures.contains_key(w.name)
        })
        .collect();
    let workloads = with_derived(&ran);
    finish(
        &dir,
        &saved.info,
        &workloads,
        &saved.samples,
        &saved.failures,
    )
}
