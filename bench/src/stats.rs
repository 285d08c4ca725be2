//! From the samples of a run to the summary: medians and ranges per
//! variant, and the per-round paired ratios procgate/native and
//! procgate/asyncio (each ratio is taken within one round, where the
//! variants ran back to back, then summarised over the rounds).

use crate::measure::Measurement;
use crate::workloads::{Better, Target, Variant, Workload};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// One measurement of a run.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Sample {
    /// The round it belongs to.
    pub round: usize,
    /// The workload.
    pub workload: String,
    /// The variant's name.
    pub variant: String,
    /// The measurement.
    #[serde(flatten)]
    pub measurement: Measurement,
}

/// Median, quartiles, least and greatest of some values.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Stat {
    /// The median (the mean of the middle two for an even count).
    pub median: f64,
    /// The first quartile (linear interpolation between the closest ranks,
    /// as numpy's default and R's type 7).
    pub q1: f64,
    /// The third quartile.
    pub q3: f64,
    /// The least.
    pub min: f64,
    /// The greatest.
    pub max: f64,
    /// How many values.
    pub n: usize,
}

impl Stat {
    /// The statistics of `values`, none if it is empty.
    pub fn of(values: &[f64]) -> Option<Stat> {
        if values.is_empty() {
            return None;
        }
        let mut v = values.to_vec();
        v.sort_by(f64::total_cmp);
        let n = v.len();
        let quantile = |q: f64| {
            let rank = q * (n - 1) as f64;
            let (lo, hi) = (rank.floor() as usize, rank.ceil() as usize);
            v[lo] + (v[hi] - v[lo]) * (rank - lo as f64)
        };
        Some(Stat {
            median: quantile(0.5),
            q1: quantile(0.25),
            q3: quantile(0.75),
            min: v[0],
            max: v[n - 1],
            n,
        })
    }

    /// The same statistics of the reciprocals (a throughput ratio as a
    /// cost ratio).
    pub fn recip(self) -> Stat {
        Stat {
            median: 1.0 / self.median,
            q1: 1.0 / self.q3,
            q3: 1.0 / self.q1,
            min: 1.0 / self.max,
            max: 1.0 / self.min,
            n: self.n,
        }
    }
}

/// Whether a target is met, missed, or not set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Verdict {
    /// The median is on the right side of the target.
    Met,
    /// It is not.
    Missed,
    /// No target, or nothing to judge it by.
    NotApplicable,
}

/// One workload's results.
#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    /// The workload.
    #[serde(skip)]
    pub workload: &'static Workload,
    /// Its name.
    pub name: &'static str,
    /// Per variant, the statistics of its values.
    pub variants: BTreeMap<Variant, Stat>,
    /// The per-round ratios procgate/native.
    pub vs_native: Option<Stat>,
    /// The per-round ratios procgate/asyncio.
    pub vs_asyncio: Option<Stat>,
    /// The target.
    pub target: Verdict,
    /// Whether procgate beat asyncio (by the median ratio).
    pub beats_asyncio: Verdict,
    /// Measurements that failed.
    pub failures: usize,
}

/// Per round, the value of `workload` (or, for a derived row, the number
/// it reads from its source's details) for `variant`.
fn values(samples: &[Sample], workload: &Workload, variant: Variant) -> BTreeMap<usize, f64> {
    samples
        .iter()
        .filter(|s| s.workload == workload.source_of(variant) && s.variant == variant.name())
        .filter_map(|s| {
            let value = match workload.derived {
                None => Some(s.measurement.value),
                Some((_, key)) => s.measurement.extra.get(key).and_then(|v| v.as_f64()),
            };
            value.map(|v| (s.round, v))
        })
        .collect()
}

fn paired(a: &BTreeMap<usize, f64>, b: &BTreeMap<usize, f64>) -> Option<Stat> {
    let ratios: Vec<f64> = a
        .iter()
        .filter_map(|(round, x)| b.get(round).map(|y| x / y))
        .collect();
    Stat::of(&ratios)
}

/// Summarises the samples of `workload`; `failures` counts its failed
/// measurements.
pub fn summarise(workload: &'static Workload, samples: &[Sample], failures: usize) -> Summary {
    let procgate = values(samples, workload, Variant::Procgate);
    let native = values(samples, workload, Variant::Native);
    let asyncio = values(samples, workload, Variant::Asyncio);
    let mut variants = BTreeMap::new();
    for (variant, values) in [
        (Variant::Procgate, &procgate),
        (Variant::Native, &native),
        (Variant::Asyncio, &asyncio),
    ] {
        if let Some(stat) = Stat::of(&values.values().copied().collect::<Vec<_>>()) {
            variants.insert(variant, stat);
        }
    }
    let vs_native = paired(&procgate, &native);
    let vs_asyncio = paired(&procgate, &asyncio);
    let side = |ratio: f64, bound: f64| match workload.better {
        Better::Lower => ratio <= bound,
        Better::Higher => ratio >= bound,
    };
    let verdict = |ok: Option<bool>| match ok {
        Some(true) => Verdict::Met,
        Some(false) => Verdict::Missed,
        None => Verdict::NotApplicable,
    };
    let target = verdict(match workload.target {
        Target::Ratio(bound) => vs_native.map(|r| side(r.median, bound)),
        Target::Below(bound) => variants.get(&Variant::Procgate).map(|s| s.median <= bound),
        Target::None => None,
    });
    let beats_asyncio = verdict(vs_asyncio.map(|r| match workload.better {
        Better::Lower => r.median < 1.0,
        Better::Higher => r.median > 1.0,
    }));
    Summary {
        workload,
        name: workload.name,
        variants,
        vs_native,
        vs_asyncio,
        target,
        beats_asyncio,
        failures,
    }
}

/// A ratio as a cost ratio (above 1: procgate is slower or bigger).
pub fn cost(workload: &Workload, ratio: Stat) -> Stat {
    match workload.better {
        Better::Lower => ratio,
        Better::Higher => ratio.recip(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workloads::WORKLOADS;
    use serde_json::json;

    #[test]
    fn quartiles_interpolate_between_ranks() {
        let s = Stat::of(&[4.0, 1.0, 3.0, 2.0, 5.0]).unwrap();
        assert_eq!(
            (s.min, s.q1, s.median, s.q3, s.max),
            (1.0, 2.0, 3.0, 4.0, 5.0)
        );
        let s = Stat::of(&[1.0, 2.0, 3.0, 4.0]).unwrap();
        assert_eq!((s.q1, s.median, s.q3), (1.75, 2.5, 3.25));
        let s = Stat::of(&[7.0]).unwrap();
        assert_eq!((s.q1, s.median, s.q3), (7.0, 7.0, 7.0));
        assert!(Stat::of(&[]).is_none());
    }

    #[test]
    fn a_throughput_ratio_inverts_with_its_quartiles_swapped() {
        let r = Stat::of(&[0.5, 1.0, 2.0, 4.0, 8.0]).unwrap().recip();
        assert_eq!(
            (r.min, r.q1, r.median, r.q3, r.max),
            (0.125, 0.25, 0.5, 1.0, 2.0)
        );
    }

    fn sample(round: usize, variant: &str, value: f64, rss: f64) -> Sample {
        Sample {
            round,
            workload: "plugins-50x20".into(),
            variant: variant.into(),
            measurement: Measurement::new(value).extra(json!({ "peak_rss_mib": rss })),
        }
    }

    #[test]
    fn ratios_pair_rounds_and_derived_rows_read_the_details() {
        let samples = [
            sample(0, "procgate", 100.0, 20.0),
            sample(0, "native", 50.0, 10.0),
            sample(1, "procgate", 90.0, 30.0),
            sample(1, "native", 90.0, 10.0),
            // No native sample in round 2: no ratio from it.
            sample(2, "procgate", 1000.0, 40.0),
        ];
        let find = |name: &str| WORKLOADS.iter().find(|w| w.name == name).unwrap();
        let wall = summarise(find("plugins-50x20"), &samples, 0);
        let r = wall.vs_native.unwrap();
        assert_eq!((r.n, r.min, r.max), (2, 1.0, 2.0));
        let rss = summarise(find("plugins-50x20 RSS"), &samples, 0);
        let r = rss.vs_native.unwrap();
        assert_eq!((r.n, r.min, r.max), (2, 2.0, 3.0));
        assert_eq!(rss.variants[&Variant::Procgate].median, 30.0);
    }

    #[test]
    fn a_rerun_row_pairs_its_own_side_with_the_native_samples_it_reruns() {
        let at = |round, workload: &str, variant: &str, value| Sample {
            round,
            workload: workload.into(),
            variant: variant.into(),
            measurement: Measurement::new(value),
        };
        let samples = [
            at(0, "spawn", "procgate", 900.0),
            at(0, "spawn", "native", 1000.0),
            at(0, "spawn cgroup-off", "procgate", 800.0),
        ];
        let find = |name: &str| WORKLOADS.iter().find(|w| w.name == name).unwrap();
        let bare = summarise(find("spawn cgroup-off"), &samples, 0);
        assert_eq!(bare.variants[&Variant::Procgate].median, 800.0);
        assert_eq!(bare.variants[&Variant::Native].median, 1000.0);
        assert_eq!(bare.vs_native.unwrap().median, 0.8);
    }
}
