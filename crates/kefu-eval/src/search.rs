//! Hyper-parameter search by cross-validation: the reproducible record of how the matcher's
//! defaults were chosen.
//!
//! [`coordinate_search`] starts from a config and, one axis at a time, tries every listed value
//! of that field with the others fixed, keeping the best by cross-validated hit@1 (MRR@10 breaks
//! ties, then the earlier-listed value). It sweeps the axes until a full round changes nothing
//! (or `max_rounds`). Greedy, but every trial is a full k-fold run on the knowledge only, so
//! test questions never influence the choice. Axes name [`MatcherConfig`] fields as they appear
//! in its JSON form, so any field can be searched without code changes.

use kefu_kb::{FaqExample, MatcherConfig, MatcherError};
use serde::{Deserialize, Serialize};

use crate::cv::{CvOptions, cross_validate};

/// One field to search and the values to try.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SearchAxis {
    /// A [`MatcherConfig`] field name, e.g. `"c"`, or several joined with `+` whose values are
    /// given together as a JSON array, e.g. `"char_ngram_min+char_ngram_max"` with `[1,5]`.
    pub field: String,
    /// Values to try, as JSON.
    pub values: Vec<serde_json::Value>,
}

impl SearchAxis {
    /// Convenience constructor.
    pub fn new<V: Serialize>(field: &str, values: &[V]) -> Self {
        Self {
            field: field.to_owned(),
            values: values
                .iter()
                .filter_map(|v| serde_json::to_value(v).ok())
                .collect(),
        }
    }
}

/// One cross-validated configuration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Trial {
    /// The field changed, with its value, e.g. `c=1.0`.
    pub change: String,
    /// The full config tried.
    pub config: MatcherConfig,
    /// Out-of-fold hit@1.
    pub hit_at_1: f64,
    /// Out-of-fold MRR@10.
    pub mrr_at_10: f64,
}

/// Why a search could not run.
#[derive(Debug, thiserror::Error)]
pub enum SearchError {
    /// Training or cross-validation failed.
    #[error(transparent)]
    Matcher(#[from] MatcherError),
    /// An axis names an unknown field or gives a value of the wrong type.
    #[error("search axis `{field}`: {message}")]
    BadAxis {
        /// The axis.
        field: String,
        /// What is wrong.
        message: String,
    },
}

/// Greedy coordinate search; returns the best config and every trial in order. `on_trial` is
/// called after each cross-validation (for progress output).
///
/// # Errors
/// [`SearchError`] for a bad axis or config.
pub fn coordinate_search(
    examples: &[FaqExample],
    start: &MatcherConfig,
    axes: &[SearchAxis],
    options: &CvOptions,
    max_rounds: usize,
    on_trial: &dyn Fn(&Trial),
) -> Result<(MatcherConfig, Vec<Trial>), SearchError> {
    // Calibration does not change rankings; skipping it makes each trial cheaper.
    let options = CvOptions {
        calibrate: false,
        ..options.clone()
    };
    let run = |change: String, config: MatcherConfig| -> Result<Trial, SearchError> {
        let cv = cross_validate(examples, &config, &options, &crate::no_progress)?;
        let m = &cv.evaluation.metrics;
        let trial = Trial {
            change,
            config,
            hit_at_1: m.hit_at_1,
            mrr_at_10: m.mrr_at_10,
        };
        on_trial(&trial);
        Ok(trial)
    };
    let better = |a: &Trial, b: &Trial| {
        a.hit_at_1 > b.hit_at_1 + 1e-12
            || ((a.hit_at_1 - b.hit_at_1).abs() <= 1e-12 && a.mrr_at_10 > b.mrr_at_10 + 1e-12)
    };

    let mut trials = Vec::new();
    let mut best = run("start".to_owned(), start.clone())?;
    trials.push(best.clone());
    for _ in 0..max_rounds.max(1) {
        let mut changed = false;
        for axis in axes {
            for value in &axis.values {
                let config = with_field(&best.config, &axis.field, value)?;
                if config == best.config {
                    continue;
                }
                let trial = run(format!("{}={value}", axis.field), config)?;
                trials.push(trial.clone());
                if better(&trial, &best) {
                    best = trial;
                    changed = true;
                }
            }
        }
        if !changed {
            break;
        }
    }
    Ok((best.config, trials))
}

/// `config` with `field` (or `a+b` fields, from an array value) set to `value`.
fn with_field(
    config: &MatcherConfig,
    field: &str,
    value: &serde_json::Value,
) -> Result<MatcherConfig, SearchError> {
    let bad = |message: String| SearchError::BadAxis {
        field: field.to_owned(),
        message,
    };
    let mut json = serde_json::to_value(config).map_err(|e| bad(e.to_string()))?;
    let names: Vec<&str> = field.split('+').collect();
    let values: Vec<serde_json::Value> = if names.len() == 1 {
        vec![value.clone()]
    } else {
        value
            .as_array()
            .filter(|a| a.len() == names.len())
            .cloned()
            .ok_or_else(|| bad(format!("expected an array of {} values", names.len())))?
    };
    let object = json
        .as_object_mut()
        .ok_or_else(|| bad("config is not an object".into()))?;
    for (name, v) in names.iter().zip(values) {
        let slot = object
            .get_mut(*name)
            .ok_or_else(|| bad(format!("no field `{name}`")))?;
        *slot = v;
    }
    serde_json::from_value(json).map_err(|e| bad(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sets_single_and_joint_fields() {
        let base = MatcherConfig::default();
        let c = with_field(&base, "c", &serde_json::json!(2.0)).unwrap();
        assert_eq!(c.c, 2.0);
        let r = with_field(
            &base,
            "char_ngram_min+char_ngram_max",
            &serde_json::json!([1, 6]),
        )
        .unwrap();
        assert_eq!((r.char_ngram_min, r.char_ngram_max), (1, 6));
        assert!(with_field(&base, "nope", &serde_json::json!(1)).is_err());
        assert!(with_field(&base, "c", &serde_json::json!("high")).is_err());
    }

    #[test]
    fn search_keeps_the_best_trial() {
        let examples: Vec<FaqExample> = (0..12)
            .flat_map(|i| {
                [
                    FaqExample::new("card", format!("lost card {i}")),
                    FaqExample::new("pin", format!("change pin {i}")),
                ]
            })
            .collect();
        let options = CvOptions {
            folds: 3,
            ..CvOptions::default()
        };
        let axes = [SearchAxis::new("c", &[0.1, 1.0])];
        let (best, trials) = coordinate_search(
            &examples,
            &MatcherConfig::default(),
            &axes,
            &options,
            2,
            &|_| {},
        )
        .unwrap();
        assert!(trials.len() >= 3);
        let top = trials.iter().map(|t| t.hit_at_1).fold(0.0, f64::max);
        assert!(trials.iter().any(|t| t.config == best && t.hit_at_1 == top));
    }
}
