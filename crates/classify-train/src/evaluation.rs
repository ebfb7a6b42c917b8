//! Classification figures, as sklearn's `accuracy_score`, `precision_recall_fscore_support`
//! (a class never predicted has precision 0, `zero_division=0`), macro-F1 (the unweighted mean
//! over the labels present in the truth or the predictions) and `confusion_matrix`.

use std::fmt;

use serde_json::json;

/// Figures for one set of predictions.
#[derive(Debug, Clone, PartialEq)]
pub struct Evaluation {
    /// The labels, in order: the model's classes, then any other label found in the truth.
    pub(crate) labels: Vec<String>,
    /// `confusion[true][predicted]` counts.
    pub(crate) confusion: Vec<Vec<usize>>,
}

/// One class's figures.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct ClassFigures {
    pub(crate) precision: f64,
    pub(crate) recall: f64,
    pub(crate) f1: f64,
    pub(crate) support: usize,
}

impl Evaluation {
    /// Tallies (true, predicted) label pairs; `classes` fixes the order of the model's labels.
    pub fn new<'a>(
        classes: &[String],
        pairs: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Evaluation {
        let mut labels: Vec<String> = classes.to_vec();
        let mut confusion: Vec<Vec<usize>> = vec![vec![0; labels.len()]; labels.len()];
        let index_of = |label: &str, labels: &mut Vec<String>, confusion: &mut Vec<Vec<usize>>| {
            if let Some(i) = labels.iter().position(|l| l == label) {
                return i;
            }
            labels.push(label.to_owned());
            for row in confusion.iter_mut() {
                row.push(0);
            }
            confusion.push(vec![0; labels.len()]);
            labels.len() - 1
        };
        for (truth, predicted) in pairs {
            let t = index_of(truth, &mut labels, &mut confusion);
            let p = index_of(predicted, &mut labels, &mut confusion);
            confusion[t][p] += 1;
        }
        Evaluation { labels, confusion }
    }

    pub(crate) fn total(&self) -> usize {
        self.confusion.iter().flatten().sum()
    }

    pub fn accuracy(&self) -> f64 {
        let correct: usize = (0..self.labels.len()).map(|i| self.confusion[i][i]).sum();
        ratio(correct, self.total())
    }

    pub(crate) fn class(&self, i: usize) -> ClassFigures {
        let predicted: usize = self.confusion.iter().map(|row| row[i]).sum();
        let support: usize = self.confusion[i].iter().sum();
        let hits = self.confusion[i][i];
        let precision = ratio(hits, predicted);
        let recall = ratio(hits, support);
        let f1 = if precision + recall == 0.0 {
            0.0
        } else {
            2.0 * precision * recall / (precision + recall)
        };
        ClassFigures { precision, recall, f1, support }
    }

    /// Whether label `i` occurs in the truth or the predictions (sklearn averages over those).
    fn present(&self, i: usize) -> bool {
        self.confusion[i].iter().sum::<usize>() + self.confusion.iter().map(|r| r[i]).sum::<usize>()
            > 0
    }

    pub fn macro_f1(&self) -> f64 {
        let present: Vec<usize> = (0..self.labels.len()).filter(|&i| self.present(i)).collect();
        if present.is_empty() {
            return 0.0;
        }
        present.iter().map(|&i| self.class(i).f1).sum::<f64>() / present.len() as f64
    }

    pub fn to_json(&self) -> serde_json::Value {
        let classes: serde_json::Map<String, serde_json::Value> = (0..self.labels.len())
            .map(|i| {
                let c = self.class(i);
                let figures = json!({"precision": c.precision, "recall": c.recall, "f1": c.f1,
                                     "support": c.support});
                (self.labels[i].clone(), figures)
            })
            .collect();
        json!({
            "documents": self.total(),
            "accuracy": self.accuracy(),
            "macro_f1": self.macro_f1(),
            "classes": classes,
            "labels": self.labels,
            "confusion_matrix": self.confusion,
        })
    }
}

/// A readable report: totals, a per-class table and the confusion matrix (rows: true labels).
impl fmt::Display for Evaluation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "documents  {}", self.total())?;
        writeln!(f, "accuracy   {:.4}", self.accuracy())?;
        writeln!(f, "macro-F1   {:.4}", self.macro_f1())?;
        writeln!(f)?;
        let width = self.labels.iter().map(|l| l.chars().count()).max().unwrap_or(0).max(5);
        writeln!(f, "{:<width$}  precision  recall  f1-score  support", "class")?;
        for (i, label) in self.labels.iter().enumerate() {
            let c = self.class(i);
            writeln!(
                f,
                "{label:<width$}  {:>9.4}  {:>6.4}  {:>8.4}  {:>7}",
                c.precision, c.recall, c.f1, c.support
            )?;
        }
        writeln!(f)?;
        writeln!(f, "confusion matrix (rows: true label, columns: predicted, in the order above)")?;
        let cell = self.confusion.iter().flatten().max().map_or(1, |m| m.to_string().len()).max(2);
        write!(f, "{:<width$} ", "")?;
        for i in 0..self.labels.len() {
            write!(f, " {:>cell$}", format!("#{}", i + 1))?;
        }
        writeln!(f)?;
        for (i, row) in self.confusion.iter().enumerate() {
            write!(f, "{:<width$} ", format!("#{} {}", i + 1, self.labels[i]))?;
            for count in row {
                write!(f, " {count:>cell$}")?;
            }
            writeln!(f)?;
        }
        Ok(())
    }
}

fn ratio(a: usize, b: usize) -> f64 {
    if b == 0 {
        0.0
    } else {
        a as f64 / b as f64
    }
}

/// How close a regressor's numbers are to the true ones: sklearn's `mean_absolute_error`,
/// the root of `mean_squared_error`, and `r2_score`.
#[derive(Debug, Clone, PartialEq)]
pub struct RegressionEvaluation {
    pub n: usize,
    pub mae: f64,
    pub rmse: f64,
    /// 1 − residual sum of squares / total sum of squares; NaN when every true value is equal
    /// (sklearn then answers 1.0 or 0.0 by convention: here it is reported as undefined).
    pub r2: f64,
}

impl RegressionEvaluation {
    /// From (true, predicted) pairs; `None` for no pairs.
    pub fn new(pairs: &[(f64, f64)]) -> Option<RegressionEvaluation> {
        if pairs.is_empty() {
            return None;
        }
        let n = pairs.len() as f64;
        let mean = pairs.iter().map(|(truth, _)| truth).sum::<f64>() / n;
        let residual: f64 = pairs.iter().map(|(truth, guess)| (truth - guess).powi(2)).sum();
        let total: f64 = pairs.iter().map(|(truth, _)| (truth - mean).powi(2)).sum();
        Some(RegressionEvaluation {
            n: pairs.len(),
            mae: pairs.iter().map(|(truth, guess)| (truth - guess).abs()).sum::<f64>() / n,
            rmse: (residual / n).sqrt(),
            r2: if total > 0.0 { 1.0 - residual / total } else { f64::NAN },
        })
    }

    pub fn to_json(&self) -> serde_json::Value {
        let r2 = if self.r2.is_finite() { json!(self.r2) } else { serde_json::Value::Null };
        json!({"n": self.n, "mae": self.mae, "rmse": self.rmse, "r2": r2})
    }
}

impl fmt::Display for RegressionEvaluation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "texts      {}", self.n)?;
        writeln!(f, "MAE        {:.4}", self.mae)?;
        writeln!(f, "RMSE       {:.4}", self.rmse)?;
        if self.r2.is_finite() {
            writeln!(f, "R²         {:.4}", self.r2)
        } else {
            writeln!(f, "R²         undefined (every true value is the same)")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn figures_match_sklearn() {
        // sklearn: y_true = [a a b b c], y_pred = [a b b b a]: accuracy 0.6,
        // f1 a = 0.5, b = 0.8, c = 0 (never predicted), macro = 1.3 / 3.
        let classes = ["a".to_owned(), "b".to_owned(), "c".to_owned()];
        let pairs = [("a", "a"), ("a", "b"), ("b", "b"), ("b", "b"), ("c", "a")];
        let e = Evaluation::new(&classes, pairs);
        assert_eq!(e.accuracy(), 0.6);
        assert!((e.class(0).f1 - 0.5).abs() < 1e-12);
        assert!((e.class(1).f1 - 0.8).abs() < 1e-12);
        assert_eq!(e.class(2).precision, 0.0);
        assert!((e.macro_f1() - 1.3 / 3.0).abs() < 1e-12);
        assert_eq!(e.confusion, vec![vec![1, 1, 0], vec![0, 2, 0], vec![1, 0, 0]]);
        let table = e.to_string();
        assert!(table.contains("accuracy   0.6000"), "{table}");
    }

    #[test]
    fn unknown_true_labels_are_added_and_absent_classes_not_averaged() {
        let classes = ["a".to_owned(), "b".to_owned(), "z".to_owned()];
        let e = Evaluation::new(&classes, [("a", "a"), ("new", "b")]);
        assert_eq!(e.labels, ["a", "b", "z", "new"]);
        // Present: a (f1 1), b (0), new (0); z is absent.
        assert!((e.macro_f1() - 1.0 / 3.0).abs() < 1e-12);
    }

    #[test]
    fn regression_figures_are_sklearns() {
        // sklearn: mean_absolute_error([3, -0.5, 2, 7], [2.5, 0.0, 2, 8]) = 0.5,
        // mean_squared_error = 0.375, r2_score = 0.9486081370449679.
        let pairs = [(3.0, 2.5), (-0.5, 0.0), (2.0, 2.0), (7.0, 8.0)];
        let evaluation = RegressionEvaluation::new(&pairs).unwrap();
        assert_eq!(evaluation.mae, 0.5);
        assert!((evaluation.rmse - 0.375f64.sqrt()).abs() < 1e-15);
        assert!((evaluation.r2 - 0.9486081370449679).abs() < 1e-12);
        assert!(RegressionEvaluation::new(&[]).is_none());
        assert!(RegressionEvaluation::new(&[(1.0, 2.0), (1.0, 0.0)]).unwrap().r2.is_nan());
    }
}
