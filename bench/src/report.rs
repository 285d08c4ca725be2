//! The report of a run: a Markdown table (`REPORT.md`), a plot of the cost
//! ratios (`ratios.svg`) and every sample (`results.json`), in one folder.

use crate::stats::{cost, Stat, Summary, Verdict};
use crate::workloads::{Better, Target, Variant};
use anyhow::Result;
use plotters::coord::combinators::BindKeyPoints;
use plotters::prelude::*;
use serde::{Deserialize, Serialize};
use std::fmt::Write as _;
use std::path::Path;

/// What the run was, and on what.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RunInfo {
    /// When it started (UTC).
    pub date: String,
    /// `uname -r`.
    pub kernel: String,
    /// The CPU model.
    pub cpu: String,
    /// Cores available.
    pub cores: usize,
    /// `/proc/loadavg` before and after.
    pub load_before: String,
    /// See `load_before`.
    pub load_after: String,
    /// The commit measured, `+dirty` with uncommitted changes.
    pub commit: String,
    /// The Python of the asyncio variant.
    pub python: String,
    /// Rounds run.
    pub rounds: usize,
    /// Bytes per stream transfer.
    pub bytes: u64,
    /// Bytes per `communicate` transfer.
    pub communicate_bytes: u64,
    /// The guest's stream loops.
    pub stream_mode: String,
    /// The guest face of `spawn`, `echo`, `stdout-communicate`.
    pub face: String,
    /// How long the run took, seconds.
    pub duration_s: f64,
    /// The CPUs every measurement was confined to (`--cpus`), if any.
    #[serde(default)]
    pub cpus: Option<String>,
    /// The containment of procgate's children (cgroup, Landlock, ...).
    #[serde(default)]
    pub containment: String,
    /// A `--quick` smoke run.
    #[serde(default)]
    pub quick: bool,
}

fn num(x: f64) -> String {
    if x >= 100.0 {
        format!("{x:.0}")
    } else if x >= 10.0 {
        format!("{x:.1}")
    } else if x >= 1.0 {
        format!("{x:.2}")
    } else {
        format!("{x:.3}")
    }
}

fn stat(s: Option<&Stat>) -> String {
    match s {
        Some(s) if s.n > 1 => format!("{} ({}–{})", num(s.median), num(s.min), num(s.max)),
        Some(s) => num(s.median),
        None => "–".into(),
    }
}

fn ratio(s: Option<Stat>) -> String {
    match s {
        Some(s) if s.n > 1 => format!(
            "**{:.2}** [{:.2}–{:.2}] ({:.2}–{:.2})",
            s.median, s.q1, s.q3, s.min, s.max
        ),
        Some(s) => format!("**{:.2}**", s.median),
        None => "–".into(),
    }
}

fn mark(v: Verdict) -> &'static str {
    match v {
        Verdict::Met => "✅",
        Verdict::Missed => "❌",
        Verdict::NotApplicable => "",
    }
}

fn target_text(s: &Summary) -> String {
    let w = s.workload;
    let text = match (w.target, w.better) {
        (Target::Ratio(t), Better::Lower) => format!("p/n ≤ {t}"),
        (Target::Ratio(t), Better::Higher) => format!("p/n ≥ {t}"),
        (Target::Below(x), _) => format!("< {x} {}", w.unit),
        (Target::None, _) => "–".into(),
    };
    format!("{text} {}", mark(s.target))
}

/// The Markdown report.
pub fn markdown(info: &RunInfo, summaries: &[Summary], samples: &[crate::stats::Sample]) -> String {
    let mut md = String::new();
    let mib = |b: u64| b as f64 / (1u64 << 20) as f64;
    let _ = writeln!(md, "# procgate benchmark report\n");
    if info.quick {
        let _ = writeln!(
            md,
            "**A `--quick` smoke run**: one round, small sizes, some workloads left \
             out. It shows that every workload runs and checks its output; its \
             numbers are not a measurement.\n"
        );
    }
    let _ = writeln!(
        md,
        "Taken {} on {} cores ({}), Linux {}, load average {} before and {} after; \
         commit {}; {}. {} round{}, {:.1} s in all. Stream workloads move {} MiB, \
         `stdout-communicate` {} MiB; guest stream loops `{}`, guest face `{}`. \
         {}Containment of procgate's children: {}. \
         The machine is shared: other load may have disturbed the run.\n",
        info.date,
        info.cores,
        info.cpu,
        info.kernel,
        info.load_before,
        info.load_after,
        info.commit,
        info.python,
        info.rounds,
        if info.rounds == 1 { "" } else { "s" },
        info.duration_s,
        mib(info.bytes),
        mib(info.communicate_bytes),
        info.stream_mode,
        info.face,
        match &info.cpus {
            Some(cpus) => format!("Every measurement ran on CPUs {cpus} only (`--cpus`). "),
            None => String::new(),
        },
        if info.containment.is_empty() {
            "not recorded"
        } else {
            &info.containment
        },
    );
    let busy = |load: &str| {
        let one: f64 = load
            .split(' ')
            .next()
            .and_then(|l| l.parse().ok())
            .unwrap_or(0.0);
        one > info.cores as f64 / 2.0
    };
    if busy(&info.load_before) || busy(&info.load_after) {
        let _ = writeln!(
            md,
            "**The machine was busy** (a 1-minute load average above half its {} cores \
             before or after the run): wall times and throughputs are disturbed; host \
             CPU times and RSS less so.\n",
            info.cores
        );
    }
    let _ = writeln!(
        md,
        "Each cell is the median over the rounds, with min–max. Ratios are \
         procgate's value over the other's, paired within each round (the \
         variants ran back to back, each in a fresh process, in rotating \
         order): **median** [interquartile range] (min–max) of the per-round \
         ratios. For µs, ms, KiB and MiB lower is better; for MB/s higher is \
         better. \"vs asyncio\" ✅ means procgate was faster (or smaller).\n"
    );
    let _ = writeln!(
        md,
        "| workload | unit | procgate | native (tokio) | asyncio | procgate/native | procgate/asyncio | target | vs asyncio |"
    );
    let _ = writeln!(
        md,
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"
    );
    for s in summaries {
        let fails = if s.failures > 0 {
            format!(" ({} failed)", s.failures)
        } else {
            String::new()
        };
        let _ = writeln!(
            md,
            "| `{}`{} | {} | {} | {} | {} | {} | {} | {} | {} |",
            s.name,
            fails,
            s.workload.unit,
            stat(s.variants.get(&Variant::Procgate)),
            stat(s.variants.get(&Variant::Native)),
            stat(s.variants.get(&Variant::Asyncio)),
            ratio(s.vs_native),
            ratio(s.vs_asyncio),
            target_text(s),
            mark(s.beats_asyncio),
        );
    }
    let _ = writeln!(
        md,
        "\n![procgate's cost relative to native and asyncio](ratios.svg)\n"
    );
    md.push_str(&crate::scale_report::markdown(summaries, samples));
    let _ = writeln!(md, "## Workloads\n");
    for s in summaries {
        let _ = writeln!(md, "- `{}`: {}", s.name, s.workload.what);
    }
    let _ = writeln!(
        md,
        "\nEvery sample, with its details (breakdowns, RSS numbers), is in \
         [`results.json`](results.json)."
    );
    md
}

/// The plot: per compared workload (but `guests-*`, see
/// [`crate::scale_report::plot`]), procgate's cost relative to native
/// and to asyncio (time or memory ratio; throughput ratios inverted), the
/// bar from 1 to the median, whiskers from min to max, log scale.
pub fn plot(path: &Path, summaries: &[Summary]) -> Result<()> {
    let rows: Vec<(&Summary, Option<Stat>, Option<Stat>)> = summaries
        .iter()
        .filter(|s| s.vs_native.is_some() || s.vs_asyncio.is_some())
        // The guests-per-second rows have a plot of their own (guests.svg).
        .filter(|s| !s.name.starts_with("guests-"))
        .map(|s| {
            (
                s,
                s.vs_native.map(|r| cost(s.workload, r)),
                s.vs_asyncio.map(|r| cost(s.workload, r)),
            )
        })
        .collect();
    if rows.is_empty() {
        return Ok(());
    }
    let extremes = rows
        .iter()
        .flat_map(|(_, a, b)| [a, b])
        .flatten()
        .flat_map(|s| [s.min, s.max]);
    let lo = extremes.clone().fold(0.5f64, f64::min) / 1.3;
    let hi = extremes.fold(2.0f64, f64::max) * 1.3;
    let ticks: Vec<f64> = [
        0.02, 0.05, 0.1, 0.2, 0.5, 0.8, 1.0, 1.25, 2.0, 5.0, 10.0, 20.0,
    ]
    .into_iter()
    .filter(|t| (lo..hi).contains(t))
    .collect();
    // Room for each workload's name under its bars.
    let width = (130 * rows.len() as u32).max(1100);
    let root = SVGBackend::new(path, (width, 560)).into_drawing_area();
    root.fill(&WHITE)?;
    let n = rows.len();
    let names: Vec<&str> = rows.iter().map(|(s, _, _)| s.name).collect();
    let mut chart = ChartBuilder::on(&root)
        .caption(
            "procgate's cost relative to native tokio and to Python asyncio (median, min–max; > 1: procgate slower)",
            ("sans-serif", 17),
        )
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(60)
        .build_cartesian_2d(0f64..n as f64, (lo..hi).log_scale().with_key_points(ticks))?;
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(n * 2 + 1)
        .x_label_formatter(&|x| {
            let i = x.floor() as usize;
            if (x - i as f64 - 0.5).abs() < 0.01 {
                names.get(i).map(|s| s.to_string()).unwrap_or_default()
            } else {
                String::new()
            }
        })
        .y_desc("cost ratio (time or memory; throughput inverted)")
        .y_label_formatter(&|y| format!("{y:.2}"))
        .draw()?;
    let parity = chart.draw_series(std::iter::once(PathElement::new(
        vec![(0.0, 1.0), (n as f64, 1.0)],
        BLACK.stroke_width(1),
    )))?;
    parity
        .label("parity (1.0)")
        .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 12, y)], BLACK.stroke_width(1)));
    let series = [
        (0usize, RGBColor(0x3b, 0x75, 0xaf), "vs native tokio"),
        (1usize, RGBColor(0xef, 0x8a, 0x36), "vs Python asyncio"),
    ];
    for (k, color, label) in series {
        let bars = rows.iter().enumerate().filter_map(|(i, (_, a, b))| {
            let s = if k == 0 { a } else { b };
            s.map(|s| (i, s))
        });
        let mut elements = Vec::new();
        for (i, s) in bars {
            let x0 = i as f64 + 0.12 + 0.38 * k as f64;
            let x1 = x0 + 0.34;
            let xm = (x0 + x1) / 2.0;
            elements.push(
                Rectangle::new([(x0, 1.0), (x1, s.median)], color.mix(0.85).filled()).into_dyn(),
            );
            let whisker = BLACK.stroke_width(1);
            elements.push(PathElement::new(vec![(xm, s.min), (xm, s.max)], whisker).into_dyn());
            for y in [s.min, s.max] {
                elements.push(
                    PathElement::new(vec![(xm - 0.06, y), (xm + 0.06, y)], whisker).into_dyn(),
                );
            }
        }
        chart
            .draw_series(elements)?
            .label(label)
            .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 12, y + 5)], color.filled()));
    }
    // The targets against native, as red ticks.
    let ticks = rows
        .iter()
        .enumerate()
        .filter_map(|(i, (s, _, _))| match s.workload.target {
            Target::Ratio(t) => {
                let y = match s.workload.better {
                    Better::Lower => t,
                    Better::Higher => 1.0 / t,
                };
                let x0 = i as f64 + 0.08;
                Some(PathElement::new(
                    vec![(x0, y), (x0 + 0.46, y)],
                    RED.stroke_width(2),
                ))
            }
            _ => None,
        });
    chart
        .draw_series(ticks)?
        .label("target vs native")
        .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 12, y)], RED.stroke_width(2)));
    legend(&mut chart, SeriesLabelPosition::LowerLeft)?;
    root.present()?;
    Ok(())
}

/// A plot's legend at `position`, on a white box with a black border.
pub fn legend<'a, CT: plotters::coord::CoordTranslate>(
    chart: &mut ChartContext<'a, SVGBackend<'a>, CT>,
    position: SeriesLabelPosition,
) -> Result<()> {
    chart
        .configure_series_labels()
        .position(position)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .draw()?;
    Ok(())
}

/// Writes `REPORT.md`, `ratios.svg` and `results.json` into `dir`.
pub fn write(
    dir: &Path,
    info: &RunInfo,
    summaries: &[Summary],
    samples: &[crate::stats::Sample],
    failures: &std::collections::HashMap<String, usize>,
) -> Result<()> {
    std::fs::create_dir_all(dir)?;
    std::fs::write(dir.join("REPORT.md"), markdown(info, summaries, samples))?;
    plot(&dir.join("ratios.svg"), summaries)?;
    crate::scale_report::plot(&dir.join("guests.svg"), summaries, samples)?;
    let json = serde_json::json!({
        "info": info,
        "summaries": summaries,
        "samples": samples,
        "failures": failures,
    });
    std::fs::write(
        dir.join("results.json"),
        serde_json::to_string_pretty(&json)?,
    )?;
    Ok(())
}
