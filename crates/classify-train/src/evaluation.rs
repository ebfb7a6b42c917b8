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
pub struct ClassFigures {
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
    pub support: usize,
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

    /// Every label in order: the model's classes, then any other found in the truth.
    pub fn labels(&self) -> &[String] {
        &self.labels
    }

    /// `confusion()[true][predicted]` counts, indexed as `labels()`.
    pub fn confusion(&self) -> &[Vec<usize>] {
        &self.confusion
    }

    pub fn total(&self) -> usize {
        self.confusion.iter().flatten().sum()
    }

    pub fn accuracy(&self) -> f64 {
        let correct: usize = (0..self.labels.len()).map(|i| self.confusion[i][i]).sum();
        ratio(correct, self.total())
    }

    pub fn class(&self, i: usize) -> ClassFigures {
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

/// A multi-label model's figures over label sets, as sklearn computes them on indicator
/// matrices: `f1_score(average="samples")` and `average="macro"` (both with `zero_division=0`, so
/// a text with no true and no predicted label scores 0, and a label never predicted has
/// precision 0), `hamming_loss`, and `accuracy_score` (the share of texts whose set is exact).
#[derive(Debug, Clone, PartialEq)]
pub struct MultiLabelEvaluation {
    /// The labels: the model's, then any other found in the truth.
    pub(crate) labels: Vec<String>,
    /// Per label: texts that have it and got it, got it without having it, had it but did not
    /// get it.
    pub(crate) true_positives: Vec<usize>,
    pub(crate) false_positives: Vec<usize>,
    pub(crate) false_negatives: Vec<usize>,
    pub(crate) texts: usize,
    exact: usize,
    sample_f1_sum: f64,
}

impl MultiLabelEvaluation {
    /// Tallies (true labels, predicted labels) per text; `classes` fixes the order of the
    /// model's labels. A label repeated within one set counts once.
    pub fn new<'a>(
        classes: &[String],
        sets: impl IntoIterator<Item = (Vec<&'a str>, Vec<&'a str>)>,
    ) -> MultiLabelEvaluation {
        let mut evaluation = MultiLabelEvaluation {
            labels: classes.to_vec(),
            true_positives: vec![0; classes.len()],
            false_positives: vec![0; classes.len()],
            false_negatives: vec![0; classes.len()],
            texts: 0,
            exact: 0,
            sample_f1_sum: 0.0,
        };
        for (truth, predicted) in sets {
            let truth = evaluation.indices(&truth);
            let predicted = evaluation.indices(&predicted);
            let common = truth.iter().filter(|t| predicted.contains(t)).count();
            for &label in &predicted {
                if truth.contains(&label) {
                    evaluation.true_positives[label] += 1;
                } else {
                    evaluation.false_positives[label] += 1;
                }
            }
            for &label in truth.iter().filter(|t| !predicted.contains(t)) {
                evaluation.false_negatives[label] += 1;
            }
            let size = truth.len() + predicted.len();
            if size > 0 {
                evaluation.sample_f1_sum += 2.0 * common as f64 / size as f64;
            }
            evaluation.exact += usize::from(common == truth.len() && common == predicted.len());
            evaluation.texts += 1;
        }
        evaluation
    }

    /// The distinct label indices of a set, adding labels not seen before.
    fn indices(&mut self, set: &[&str]) -> Vec<usize> {
        let mut indices = Vec::with_capacity(set.len());
        for label in set {
            let index = match self.labels.iter().position(|l| l == label) {
                Some(index) => index,
                None => {
                    self.labels.push((*label).to_owned());
                    self.true_positives.push(0);
                    self.false_positives.push(0);
                    self.false_negatives.push(0);
                    self.labels.len() - 1
                }
            };
            if !indices.contains(&index) {
                indices.push(index);
            }
        }
        indices
    }

    /// The mean over texts of each text's F1 between its true and predicted sets.
    pub fn sample_f1(&self) -> f64 {
        if self.texts == 0 {
            0.0
        } else {
            self.sample_f1_sum / self.texts as f64
        }
    }

    /// One label's F1 (0 when it was neither true nor predicted anywhere).
    pub(crate) fn label_f1(&self, label: usize) -> f64 {
        let hits = 2 * self.true_positives[label];
        ratio(hits, hits + self.false_positives[label] + self.false_negatives[label])
    }

    /// The unweighted mean of every label's F1.
    pub fn macro_f1(&self) -> f64 {
        let sum: f64 = (0..self.labels.len()).map(|label| self.label_f1(label)).sum();
        if self.labels.is_empty() {
            0.0
        } else {
            sum / self.labels.len() as f64
        }
    }

    /// The share of (text, label) decisions that are wrong.
    pub fn hamming_loss(&self) -> f64 {
        let wrong: usize = self.false_positives.iter().chain(&self.false_negatives).sum();
        ratio(wrong, self.texts * self.labels.len())
    }

    /// The share of texts whose predicted set is exactly the true one.
    pub fn subset_accuracy(&self) -> f64 {
        ratio(self.exact, self.texts)
    }

    pub fn to_json(&self) -> serde_json::Value {
        let per_label: serde_json::Map<String, serde_json::Value> = self
            .labels
            .iter()
            .enumerate()
            .map(|(i, label)| {
                let support = self.true_positives[i] + self.false_negatives[i];
                (label.clone(), json!({"f1": self.label_f1(i), "support": support}))
            })
            .collect();
        json!({
            "texts": self.texts,
            "sample_f1": self.sample_f1(),
            "macro_f1": self.macro_f1(),
            "hamming_loss": self.hamming_loss(),
            "subset_accuracy": self.subset_accuracy(),
            "labels": per_label,
        })
    }
}

impl fmt::Display for MultiLabelEvaluation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "texts            {}", self.texts)?;
        writeln!(f, "sample F1        {:.4}", self.sample_f1())?;
        writeln!(f, "macro F1         {:.4}", self.macro_f1())?;
        writeln!(f, "Hamming loss     {:.4}", self.hamming_loss())?;
        writeln!(f, "exact sets       {:.4}", self.subset_accuracy())?;
        let width = self.labels.iter().map(|l| l.chars().count()).max().unwrap_or(5).max(5);
        writeln!(f, "{:width$}  {:>6}  {:>7}", "label", "F1", "support")?;
        for (i, label) in self.labels.iter().enumerate() {
            let support = self.true_positives[i] + self.false_negatives[i];
            writeln!(f, "{label:width$}  {:>6.4}  {support:>7}", self.label_f1(i))?;
        }
        Ok(())
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

    #[test]
    fn multi_label_figures_match_sklearn() {
        // sklearn, labels [a b c]: y_true = [[a,b], [c], [], [a]], y_pred = [[a], [b,c], [], [a,c]]
        //   f1_score(average="samples", zero_division=0) = (2/3 + 2/3 + 0 + 2/3) / 4 = 0.5
        //   f1_score(average="macro") = (a: 1, b: 0, c: 2/3) / 3 = 0.5555555555555555
        //   hamming_loss = 3 / 12 = 0.25, accuracy_score = 0.25.
        let classes = ["a".to_owned(), "b".to_owned(), "c".to_owned()];
        let sets = [
            (vec!["a", "b"], vec!["a"]),
            (vec!["c"], vec!["b", "c"]),
            (vec![], vec![]),
            (vec!["a"], vec!["a", "c"]),
        ];
        let e = MultiLabelEvaluation::new(&classes, sets);
        assert!((e.sample_f1() - 0.5).abs() < 1e-12);
        assert!((e.macro_f1() - 0.5555555555555555).abs() < 1e-12);
        assert_eq!(e.hamming_loss(), 0.25);
        assert_eq!(e.subset_accuracy(), 0.25);
        assert!(e.to_string().contains("Hamming loss     0.2500"), "{e}");
        let unseen = MultiLabelEvaluation::new(&classes, [(vec!["new"], vec!["a"])]);
        assert_eq!(unseen.labels, ["a", "b", "c", "new"]);
        assert_eq!(unseen.hamming_loss(), 0.5);
    }
}
