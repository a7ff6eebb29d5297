//! Turns the criterion results of this run into the report's tables: every
//! function with its median (min–max) per call, and for every group with a
//! `sign ...` beside its `primitive: ...` baselines, the ratio to their sum.

use std::fmt::Write;
use std::path::Path;
use std::time::SystemTime;

use serde_json::Value;

use crate::Result;

struct Figure {
    group: String,
    name: String,
    /// Per-call time of each criterion sample, in nanoseconds, sorted.
    per_call_ns: Vec<f64>,
}

impl Figure {
    fn median(&self) -> f64 {
        self.per_call_ns[self.per_call_ns.len() / 2]
    }
}

fn read_json(path: &Path) -> Option<Value> {
    serde_json::from_str(&std::fs::read_to_string(path).ok()?).ok()
}

/// The benchmarks criterion wrote since `since` (older folders are from
/// earlier runs, possibly of benchmarks that no longer exist).
fn figures(criterion: &Path, since: SystemTime) -> Vec<Figure> {
    let mut out = Vec::new();
    let Ok(groups) = std::fs::read_dir(criterion) else {
        return out;
    };
    for group in groups.flatten() {
        let Ok(benches) = std::fs::read_dir(group.path()) else {
            continue;
        };
        for bench in benches.flatten() {
            let new = bench.path().join("new");
            let sample = new.join("sample.json");
            let fresh = std::fs::metadata(&sample)
                .and_then(|m| m.modified())
                .is_ok_and(|t| t >= since);
            let (Some(meta), Some(sample)) =
                (read_json(&new.join("benchmark.json")), read_json(&sample))
            else {
                continue;
            };
            if !fresh {
                continue;
            }
            let numbers = |key: &str| -> Vec<f64> {
                sample[key]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(Value::as_f64)
                    .collect()
            };
            let mut per_call_ns: Vec<f64> = numbers("times")
                .iter()
                .zip(numbers("iters"))
                .map(|(t, n)| t / n)
                .collect();
            if per_call_ns.is_empty() {
                continue;
            }
            per_call_ns.sort_by(f64::total_cmp);
            out.push(Figure {
                group: meta["group_id"].as_str().unwrap_or("?").to_string(),
                name: meta["function_id"].as_str().unwrap_or("?").to_string(),
                per_call_ns,
            });
        }
    }
    out.sort_by(|a, b| (&a.group, &a.name).cmp(&(&b.group, &b.name)));
    out
}

fn human(ns: f64) -> String {
    if ns >= 1e6 {
        format!("{:.2} ms", ns / 1e6)
    } else if ns >= 1e3 {
        format!("{:.1} µs", ns / 1e3)
    } else {
        format!("{ns:.0} ns")
    }
}

/// The markdown tables for the criterion results written since `since`.
pub(crate) fn tables(criterion: &Path, since: SystemTime) -> Result<String> {
    let figures = figures(criterion, since);
    if figures.is_empty() {
        return Err(format!("no criterion results in {}", criterion.display()));
    }
    let mut out = String::from(
        "| group | function | median per call (min–max over samples) |\n|---|---|---|\n",
    );
    for f in &figures {
        let _ = writeln!(
            out,
            "| {} | {} | {} ({}–{}) |",
            f.group,
            f.name,
            human(f.median()),
            human(f.per_call_ns[0]),
            human(f.per_call_ns[f.per_call_ns.len() - 1])
        );
    }
    out.push_str(
        "\nAgainst the physical limit (goal ≤ 2×): each signing path over the sum of the primitives it cannot avoid, same process.\n\n| group | signing path | primitives | ratio |\n|---|---|---|---|\n",
    );
    let mut groups: Vec<&str> = figures.iter().map(|f| f.group.as_str()).collect();
    groups.dedup();
    for group in groups {
        let in_group: Vec<&Figure> = figures.iter().filter(|f| f.group == group).collect();
        let primitives: Vec<&&Figure> = in_group
            .iter()
            .filter(|f| f.name.starts_with("primitive:"))
            .collect();
        if primitives.is_empty() {
            continue;
        }
        let limit: f64 = primitives.iter().map(|f| f.median()).sum();
        let names: Vec<&str> = primitives
            .iter()
            .map(|f| f.name.trim_start_matches("primitive:").trim())
            .collect();
        for sign in in_group.iter().filter(|f| f.name.starts_with("sign")) {
            let _ = writeln!(
                out,
                "| {group} | {} ({}) | {} ({}) | {:.2}× |",
                sign.name,
                human(sign.median()),
                names.join(" + "),
                human(limit),
                sign.median() / limit
            );
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn put(root: &Path, group: &str, name: &str, per_call_ns: &[f64]) {
        let new = root.join(group).join(name.replace(':', "_")).join("new");
        std::fs::create_dir_all(&new).unwrap();
        let meta = serde_json::json!({"group_id": group, "function_id": name});
        std::fs::write(new.join("benchmark.json"), meta.to_string()).unwrap();
        // Criterion stores total time per sample and the iterations in it.
        let iters: Vec<f64> = per_call_ns.iter().map(|_| 10.0).collect();
        let times: Vec<f64> = per_call_ns.iter().map(|t| t * 10.0).collect();
        let sample = serde_json::json!({"iters": iters, "times": times});
        std::fs::write(new.join("sample.json"), sample.to_string()).unwrap();
    }

    #[test]
    fn ratio_is_the_signing_median_over_the_sum_of_primitive_medians() {
        let root = std::env::temp_dir().join(format!("kms-criterion-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        let since = SystemTime::now() - std::time::Duration::from_secs(1);
        put(&root, "utxo", "sign tx", &[150_000.0, 140_000.0, 400_000.0]);
        put(
            &root,
            "utxo",
            "primitive: ecdsa",
            &[40_000.0, 30_000.0, 35_000.0],
        );
        put(&root, "utxo", "primitive: child", &[35_000.0]);
        let report = tables(&root, since).unwrap();
        assert!(
            report.contains("| utxo | sign tx | 150.0 µs (140.0 µs–400.0 µs) |"),
            "{report}"
        );
        assert!(
            report.contains("| utxo | sign tx (150.0 µs) | child + ecdsa (70.0 µs) | 2.14× |"),
            "{report}"
        );
        // Results older than this run are left out.
        let err = tables(
            &root,
            SystemTime::now() + std::time::Duration::from_secs(60),
        )
        .unwrap_err();
        assert_eq!(err, format!("no criterion results in {}", root.display()));
        let _ = std::fs::remove_dir_all(&root);
    }
}
