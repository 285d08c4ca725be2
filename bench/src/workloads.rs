//! The workloads: what each measures, in which unit, by which variants,
//! with which parameters, and the target the optimiser chases.
//!
//! A little over ~400 lines: half of it is the one table [`WORKLOADS`],
//! one row per workload and rerun row, which the driver, the report and
//! the docs read; splitting the table would split that one definition.

use serde::Serialize;
use std::fmt;

/// One way of running a workload.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Variant {
    /// A wasm guest through procgate (in this process's tokio runtime).
    Procgate,
    /// tokio::process in the same runtime configuration.
    Native,
    /// Python 3.11's asyncio (`/usr/bin/python3 bench/asyncio_bench.py`).
    Asyncio,
}

impl Variant {
    /// Every variant, in the order the first round runs them.
    pub const ALL: [Variant; 3] = [Variant::Procgate, Variant::Native, Variant::Asyncio];

    /// The name used on the command line and in the results.
    pub fn name(self) -> &'static str {
        match self {
            Variant::Procgate => "procgate",
            Variant::Native => "native",
            Variant::Asyncio => "asyncio",
        }
    }

    /// The variant of that name.
    pub fn parse(name: &str) -> Option<Variant> {
        Variant::ALL.into_iter().find(|v| v.name() == name)
    }
}

impl fmt::Display for Variant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Whether a bigger value is better (throughput) or worse (time, memory).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Better {
    /// Time, memory: procgate/native should be at most the target.
    Lower,
    /// Throughput: procgate/native should be at least the target.
    Higher,
}

/// What the optimiser chases for a workload.
#[derive(Clone, Copy, Debug)]
pub enum Target {
    /// The median procgate/native ratio, bounded as `Better` says.
    Ratio(f64),
    /// The median procgate value, in the workload's unit, at most this.
    Below(f64),
    /// Nothing to chase (measured for the record).
    None,
}

/// A workload.
#[derive(Clone, Copy, Debug)]
pub struct Workload {
    /// Its name, on the command line and in the report.
    pub name: &'static str,
    /// What it does, for the report.
    pub what: &'static str,
    /// The unit of its value.
    pub unit: &'static str,
    /// Which direction is better.
    pub better: Better,
    /// Whether it runs natively and with asyncio too (else procgate only).
    pub compared: bool,
    /// The target.
    pub target: Target,
    /// A second number of another workload's samples, shown as a row of
    /// its own (never run by itself): the workload and the key in its
    /// samples' details.
    pub derived: Option<(&'static str, &'static str)>,
    /// A row of its own that runs one side of another workload otherwise
    /// (a sandbox layer off or on, a native program doing procgate's
    /// extra copy), paired with that workload's native samples: the
    /// measured structural reasons of a ratio.
    pub rerun: Option<Rerun>,
}

/// Another workload's measurement, run otherwise (see [`Workload::rerun`]).
#[derive(Clone, Copy, Debug)]
pub struct Rerun {
    /// The workload run again; its native and asyncio samples are this
    /// row's.
    pub of: &'static str,
    /// How it runs.
    pub how: How,
}

/// How a [`Rerun`] row's one measured side runs.
#[derive(Clone, Copy, Debug)]
pub enum How {
    /// procgate with these sandbox modes (`PROCGATE_BENCH_CGROUP`,
    /// `PROCGATE_BENCH_LANDLOCK`).
    Sandbox {
        /// `off`, `best-effort` or `require`.
        cgroup: &'static str,
        /// `off`, `best-effort` or `require`.
        landlock: &'static str,
    },
    /// The native program, measured as the `one` workload of this name.
    Native(&'static str),
}

impl Workload {
    /// A workload every variant runs, with samples of its own; its unit,
    /// which direction is better, its target, what it does.
    const fn row(
        name: &'static str,
        unit: &'static str,
        better: Better,
        target: Target,
        what: &'static str,
    ) -> Workload {
        Workload {
            name,
            what,
            unit,
            better,
            compared: true,
            target,
            derived: None,
            rerun: None,
        }
    }

    /// The variants it runs.
    pub fn variants(&self) -> &'static [Variant] {
        if self.compared {
            &Variant::ALL
        } else {
            &Variant::ALL[..1]
        }
    }

    /// The workload of that name (one that runs, not a derived row).
    pub fn find(name: &str) -> Option<&'static Workload> {
        WORKLOADS
            .iter()
            .find(|w| w.name == name && w.derived.is_none())
    }

    /// The workloads `pattern` names: one name, or a prefix ending in `*`
    /// (`guests-*`); derived rows are never named.
    pub fn matching(pattern: &str) -> Vec<&'static Workload> {
        match pattern.strip_suffix('*') {
            Some(prefix) => WORKLOADS
                .iter()
                .filter(|w| w.derived.is_none() && w.name.starts_with(prefix))
                .collect(),
            None => Workload::find(pattern).into_iter().collect(),
        }
    }

    /// The workload whose samples this row reads: its own, or the one it
    /// is derived from.
    pub fn source(&self) -> &'static str {
        self.derived.map_or(self.name, |(from, _)| from)
    }

    /// The workload whose `variant` samples this row reads: a rerun row's
    /// own procgate column, the rest from the workload it reruns.
    pub fn source_of(&self, variant: Variant) -> &'static str {
        match self.rerun {
            Some(r) if variant != Variant::Procgate => r.of,
            _ => self.source(),
        }
    }
}

/// The row of `guests-MODE-N`: `MODE` (`seq` or `par`), how its guests
/// run, `N`.
macro_rules! guests {
    ($mode:literal, $how:literal, $n:literal) => {
        Workload::row(
            concat!("guests-", $mode, "-", $n),
            "µs/guest",
            Better::Lower,
            Target::None,
            concat!(
                $n,
                " guest(s) ",
                $how,
                ", each instantiated, one `echo` (communicate), exit; batches of ",
                $n,
                " repeated until ≥ 100 guests ran, wall time per guest (native/asyncio: \
                 a task running the `echo`)"
            ),
        )
    };
}

/// A rerun row ([`Rerun`]): `NAME`, its unit and direction, the workload
/// it reruns, how, and what it shows.
macro_rules! rerun {
    ($name:literal, $unit:literal, $better:expr, $of:literal, $how:expr, $what:literal) => {
        Workload {
            compared: false,
            rerun: Some(Rerun { of: $of, how: $how }),
            ..Workload::row($name, $unit, $better, Target::None, $what)
        }
    };
}

/// Every workload, in report order.
pub const WORKLOADS: &[Workload] = &[
    Workload::row(
        "spawn",
        "µs/op",
        Better::Lower,
        Target::Ratio(1.05),
        "spawn `/usr/bin/true` + wait, 200 in a row (after 20 warm-up)",
    ),
    Workload::row(
        "echo",
        "µs/op",
        Better::Lower,
        Target::Ratio(1.10),
        "`echo hello`, stdout piped, `communicate`, 200 in a row (after 20 warm-up)",
    ),
    Workload::row(
        "stdout-stream",
        "MB/s",
        Better::Higher,
        Target::Ratio(0.9),
        "`head -c BYTES /dev/zero` read through the stdout stream, 64 KiB reads",
    ),
    Workload::row(
        "stdout-communicate",
        "MB/s",
        Better::Higher,
        Target::Ratio(0.9),
        "`head -c BYTES /dev/zero` through `communicate` (all of it buffered)",
    ),
    Workload::row(
        "stdin-stream",
        "MB/s",
        Better::Higher,
        Target::Ratio(0.9),
        "BYTES written into `cat` (stdout `/dev/null`) through the stdin stream, 64 KiB writes",
    ),
    Workload::row(
        "pipeline",
        "MB/s",
        Better::Higher,
        Target::Ratio(0.95),
        "`head -c BYTES /dev/zero | cat > /dev/null`: procgate joins the two in the host \
               (`stdin_from`); native and asyncio run the same pipeline with `sh -c` (the \
               shell's pipeline is the reference; asyncio cannot hand a pipe to a child)",
    ),
    Workload::row(
        "concurrent-200",
        "ms",
        Better::Lower,
        Target::Ratio(1.05),
        "200 `sleep 0.2` children at once (gather / one task per child), wall time",
    ),
    Workload::row(
        "concurrent-1000",
        "ms",
        Better::Lower,
        Target::Ratio(1.05),
        "1,000 `sleep 0.2` children at once (gather / one task per child), wall time",
    ),
    Workload::row(
        "memory-1000",
        "KiB/child",
        Better::Lower,
        Target::Ratio(1.2),
        "host RSS growth per live child, 1,000 sleeping children each awaited",
    ),
    rerun!(
        "spawn cgroup-off",
        "µs/op",
        Better::Lower,
        "spawn",
        How::Sandbox {
            cgroup: "off",
            landlock: "off",
        },
        "`spawn` through procgate with no cgroup (and no Landlock): procgate's cost \
               without its containment layers; `spawn` minus this is the cgroup's cost per \
               spawn (native and asyncio columns: `spawn`'s)"
    ),
    rerun!(
        "spawn +landlock",
        "µs/op",
        Better::Lower,
        "spawn",
        How::Sandbox {
            cgroup: "best-effort",
            landlock: "best-effort",
        },
        "`spawn` through procgate with Landlock `best-effort` on top of the cgroup: this \
               minus `spawn` is Landlock's cost per spawn (native and asyncio columns: \
               `spawn`'s)"
    ),
    rerun!(
        "concurrent-1000 cgroup-off",
        "ms",
        Better::Lower,
        "concurrent-1000",
        How::Sandbox {
            cgroup: "off",
            landlock: "off",
        },
        "`concurrent-1000` through procgate with no cgroup: `concurrent-1000` minus this \
               is the cost of 1,000 leaf cgroups made, entered and emptied at once (native \
               and asyncio columns: `concurrent-1000`'s)"
    ),
    rerun!(
        "stdout-communicate floor",
        "MB/s",
        Better::Higher,
        "stdout-communicate",
        How::Native("stdout-communicate-copied"),
        "the floor of procgate's `stdout-communicate`, as a native program: the pipe \
               read into a buffer that stays (the host's), and copied on from it into the \
               buffer that grows to hold the output (the guest's): the one copy more that \
               procgate's design makes, through memory that stays warm (the procgate column \
               holds this program; native and asyncio: `stdout-communicate`'s)"
    ),
    Workload::row(
        "plugins-50x20",
        "ms",
        Better::Lower,
        Target::Ratio(1.05),
        "50 guests at once, each running 20 short commands one after another (`echo`, \
               `uname -s`, `ls /usr`, `head -c 4096 /dev/zero`), stdout and stderr captured \
               and checked; wall time (native/asyncio: 50 tasks)",
    ),
    Workload {
        derived: Some(("plugins-50x20", "peak_rss_mib")),
        ..Workload::row(
            "plugins-50x20 RSS",
            "MiB",
            Better::Lower,
            Target::None,
            "the host's peak RSS (`VmHWM`, the whole process: runtime, engine, compiled \
               guest and 50 guest instances included) during `plugins-50x20`",
        )
    },
    Workload {
        derived: Some(("plugins-50x20", "host_cpu_ms")),
        ..Workload::row(
            "plugins-50x20 CPU",
            "ms",
            Better::Lower,
            Target::None,
            "the host's own CPU time (user + system, `getrusage(RUSAGE_SELF)`, children \
               not counted) during `plugins-50x20`",
        )
    },
    guests!("seq", "one after another", 1),
    guests!("seq", "one after another", 10),
    guests!("seq", "one after another", 100),
    guests!("seq", "one after another", 1000),
    guests!("par", "all at once (one task each)", 1),
    guests!("par", "all at once (one task each)", 10),
    guests!("par", "all at once (one task each)", 100),
    guests!("par", "all at once (one task each)", 1000),
    Workload::row(
        "cli-run",
        "ms",
        Better::Lower,
        Target::Below(20.0),
        "a small program that runs `echo hello` (communicate), whole process wall time \
               (median of 5 after an untimed run that warms the page cache and any \
               compiled-component cache): `procgate run hello.wasm` / a tokio binary / \
               a `python3` asyncio script",
    ),
    Workload {
        compared: false,
        ..Workload::row(
            "start-cold",
            "ms",
            Better::Lower,
            Target::None,
            "guest start, cold: `Component::from_file` (compile) + link + instantiate",
        )
    },
    Workload {
        compared: false,
        ..Workload::row(
            "start-cached",
            "ms",
            Better::Lower,
            Target::Below(5.0),
            "guest start, cached: `Component::deserialize_file` + link + instantiate",
        )
    },
    Workload {
        compared: false,
        ..Workload::row(
            "start-warm",
            "ms",
            Better::Lower,
            Target::Below(0.1),
            "guest start, warm: new `Store` + `InstancePre` instantiate (median of 200)",
        )
    },
];

/// The parameters of one measurement, shared by every variant.
#[derive(Clone, Debug)]
pub struct Params {
    /// Bytes per stream transfer.
    pub bytes: u64,
    /// Bytes per `communicate` transfer.
    pub communicate_bytes: u64,
    /// How the guest reads and writes streams: `raw`, `sync` or `aio`.
    pub stream_mode: String,
    /// Which guest face runs `spawn`, `echo` and `stdout-communicate`.
    pub face: String,
}

impl Params {
    /// The arguments `one` and the asyncio script take for these params.
    pub fn to_args(&self) -> Vec<String> {
        vec![
            "--bytes".into(),
            self.bytes.to_string(),
            "--communicate-bytes".into(),
            self.communicate_bytes.to_string(),
            "--stream-mode".into(),
            self.stream_mode.clone(),
            "--face".into(),
            self.face.clone(),
        ]
    }
}

/// Operations per measurement of `spawn` and `echo`.
pub const OPS: u64 = 200;
/// Untimed warm-up operations before them.
pub const WARMUP: u64 = 20;
/// The shell pipeline the native and asyncio variants of `pipeline` run.
pub fn shell_pipeline(bytes: u64) -> String {
    format!("/usr/bin/head -c {bytes} /dev/zero | /usr/bin/cat > /dev/null")
}

/// Plugins at once in `plugins-50x20`.
pub const PLUGINS: u64 = 50;
/// Commands each plugin runs in `plugins-50x20`.
pub const STEPS: u64 = 20;

/// How long each child of `concurrent-*` sleeps.
pub const SLEEP: &str = "0.2";

/// The number in a workload name such as `concurrent-200`.
pub fn count(workload: &str) -> u64 {
    workload
        .rsplit('-')
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no count in {workload}"))
}
