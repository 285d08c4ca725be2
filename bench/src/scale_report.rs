//! The guests-per-second part of the report: cost per guest against the
//! number of guests (`guests-seq-N`, `guests-par-N`), as a table, a
//! flatness verdict per series, and a plot (`guests.svg`).

use crate::stats::{Sample, Stat, Summary};
use crate::workloads::Variant;
use anyhow::Result;
use plotters::prelude::*;
use std::fmt::Write as _;
use std::path::Path;

/// How much dearer than its cheapest count a series may get at another
/// count and still be called flat.
pub const FLAT: f64 = 1.25;

/// One line of the plot: a variant in one mode, (count, stat) by count.
struct Series {
    variant: Variant,
    concurrent: bool,
    /// Wall time per guest.
    points: Vec<(u64, Stat)>,
    /// Host CPU time per guest.
    cpu: Vec<(u64, Stat)>,
}

/// The host CPU time per guest (`host_cpu_us` in the samples' details)
/// of one workload and variant, over the rounds.
fn cpu_us(samples: &[Sample], workload: &str, variant: Variant) -> Option<Stat> {
    let values: Vec<f64> = samples
        .iter()
        .filter(|s| s.workload == workload && s.variant == variant.name())
        .filter_map(|s| s.measurement.extra.get("host_cpu_us")?.as_f64())
        .collect();
    Stat::of(&values)
}

impl Series {
    fn label(&self) -> String {
        let mode = if self.concurrent {
            "at once"
        } else {
            "one after another"
        };
        format!("{}, {mode}", self.variant)
    }
}

fn series(summaries: &[Summary], samples: &[Sample]) -> Vec<Series> {
    let mut all = Vec::new();
    for concurrent in [false, true] {
        let prefix = if concurrent {
            "guests-par-"
        } else {
            "guests-seq-"
        };
        for variant in Variant::ALL {
            let mut points: Vec<(u64, Stat)> = summaries
                .iter()
                .filter_map(|s| {
                    let n = s.name.strip_prefix(prefix)?.parse().ok()?;
                    Some((n, *s.variants.get(&variant)?))
                })
                .collect();
            points.sort_by_key(|(n, _)| *n);
            let cpu = points
                .iter()
                .filter_map(|(n, _)| Some((*n, cpu_us(samples, &format!("{prefix}{n}"), variant)?)))
                .collect();
            if !points.is_empty() {
                all.push(Series {
                    variant,
                    concurrent,
                    points,
                    cpu,
                });
            }
        }
    }
    all
}

/// The Markdown section, empty if no `guests-*` workload ran.
pub fn markdown(summaries: &[Summary], samples: &[Sample]) -> String {
    let all = series(summaries, samples);
    if all.is_empty() {
        return String::new();
    }
    let mut md = String::new();
    let _ = writeln!(
        md,
        "## Guests per second\n\n\
         Each guest is instantiated from the shared `InstancePre` (the component \
         loaded once from procgate's compiled-component cache), runs one `echo` \
         through `communicate`, and exits; native and asyncio run the `echo` in a \
         task. Wall time per guest in µs (median over the rounds, min–max), guests \
         per second (1e6 / median), and the host process's own CPU time per guest \
         (user + system, its children not counted; steadier than wall time when \
         the machine is loaded):\n"
    );
    let _ = writeln!(
        md,
        "| series | count | µs/guest | guests/s | host CPU µs/guest |"
    );
    let _ = writeln!(md, "| --- | ---: | --- | ---: | ---: |");
    for s in &all {
        for (n, stat) in &s.points {
            let cpu = s
                .cpu
                .iter()
                .find(|(m, _)| m == n)
                .map_or("–".to_string(), |(_, c)| format!("{:.0}", c.median));
            let _ = writeln!(
                md,
                "| {} | {n} | {:.0} ({:.0}–{:.0}) | {:.0} | {cpu} |",
                s.label(),
                stat.median,
                stat.min,
                stat.max,
                1e6 / stat.median
            );
        }
    }
    let _ = writeln!(
        md,
        "\nFlatness: at each count, the median over the series' cheapest count's, \
         for wall time and for host CPU time; flat means ≤ {FLAT} at every count. \
         Wall time on a loaded machine moves with the load; host CPU much less.\n"
    );
    let medians = |points: &[(u64, Stat)]| -> Vec<(u64, f64)> {
        points.iter().map(|(n, st)| (*n, st.median)).collect()
    };
    for s in &all {
        let (wall, cpu) = (medians(&s.points), medians(&s.cpu));
        let _ = writeln!(
            md,
            "- {}: wall {}; host CPU {}",
            s.label(),
            flatness(&wall),
            flatness(&cpu)
        );
    }
    let _ = writeln!(
        md,
        "\n![cost per guest against the number of guests](guests.svg)\n"
    );
    md
}

/// "1: 1.00, 10: 1.08, ... (flat)" for (count, value) points.
fn flatness(points: &[(u64, f64)]) -> String {
    if points.is_empty() {
        return "–".into();
    }
    let cheapest = points.iter().map(|(_, v)| *v).fold(f64::INFINITY, f64::min);
    let steps: Vec<String> = points
        .iter()
        .map(|(n, v)| format!("{n}: {:.2}", v / cheapest))
        .collect();
    let dear: Vec<String> = points
        .iter()
        .filter(|(_, v)| v / cheapest > FLAT)
        .map(|(n, _)| n.to_string())
        .collect();
    let verdict = if dear.is_empty() {
        "flat".to_string()
    } else {
        format!("**not flat** at {}", dear.join(", "))
    };
    format!("{} ({verdict})", steps.join(", "))
}

fn color(variant: Variant) -> RGBColor {
    match variant {
        Variant::Procgate => RGBColor(0x2a, 0x9d, 0x5c),
        Variant::Native => RGBColor(0x3b, 0x75, 0xaf),
        Variant::Asyncio => RGBColor(0xef, 0x8a, 0x36),
    }
}

/// The plot: two panels, wall time and host CPU time per guest, against
/// the count (log scale), one line per variant and mode (solid: one after
/// another; dashed: at once), whiskers from min to max. Nothing is written
/// if no `guests-*` workload ran.
pub fn plot(path: &Path, summaries: &[Summary], samples: &[Sample]) -> Result<()> {
    let all = series(summaries, samples);
    if all.is_empty() {
        return Ok(());
    }
    let root = SVGBackend::new(path, (1300, 560)).into_drawing_area();
    root.fill(&WHITE)?;
    let root = root.titled(
        "cost per guest against the number of guests (median, min–max; flat is good)",
        ("sans-serif", 18),
    )?;
    let (left, right) = root.split_horizontally(650);
    panel(&left, "wall time", &all, |s| &s.points)?;
    panel(&right, "host CPU time (the process's own)", &all, |s| {
        &s.cpu
    })?;
    root.present()?;
    Ok(())
}

type Area<'a> = DrawingArea<SVGBackend<'a>, plotters::coord::Shift>;

fn panel(
    area: &Area<'_>,
    what: &str,
    all: &[Series],
    pick: fn(&Series) -> &[(u64, Stat)],
) -> Result<()> {
    let points = all.iter().flat_map(|s| pick(s).iter());
    let max_n = points.clone().map(|(n, _)| *n).max().unwrap_or(1).max(2) as f64;
    // Headroom above the data for the legend.
    let hi = points.map(|(_, st)| st.max).fold(1.0f64, f64::max) * 1.5;
    let mut chart = ChartBuilder::on(area)
        .caption(what, ("sans-serif", 15))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(60)
        .build_cartesian_2d((0.8f64..max_n * 1.25).log_scale(), 0f64..hi)?;
    chart
        .configure_mesh()
        .x_desc("guests (log scale)")
        .y_desc(format!("µs per guest, {what}"))
        .x_label_formatter(&|x| format!("{x:.0}"))
        .draw()?;
    for s in all {
        let style = color(s.variant).stroke_width(2);
        let points: Vec<(f64, f64)> = pick(s)
            .iter()
            .map(|(n, st)| (*n as f64, st.median))
            .collect();
        let drawn = if s.concurrent {
            chart.draw_series(DashedLineSeries::new(points.clone(), 8, 5, style))?
        } else {
            chart.draw_series(LineSeries::new(points.clone(), style))?
        };
        let concurrent = s.concurrent;
        drawn.label(s.label()).legend(move |(x, y)| {
            let dash = if concurrent { 6 } else { 16 };
            PathElement::new(vec![(x, y), (x + dash, y)], style)
        });
        chart.draw_series(
            points
                .iter()
                .map(|&p| Circle::new(p, 3, color(s.variant).filled())),
        )?;
        let whiskers = pick(s).iter().map(|(n, st)| {
            PathElement::new(
                vec![(*n as f64, st.min), (*n as f64, st.max)],
                color(s.variant).stroke_width(1),
            )
        });
        chart.draw_series(whiskers)?;
    }
    crate::report::legend(&mut chart, SeriesLabelPosition::UpperRight)
}
