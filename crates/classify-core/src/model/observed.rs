//! A prediction together with what the server watches for drift: how much of the text the
//! vocabulary knew.

use crate::featurize::NgramCounts;
use crate::model::steps::Features;
use crate::model::{Model, Prediction};

impl Model {
    /// `predict`, and how many of the text's n-grams the (primary) vectorizer's vocabulary knows;
    /// `None` for hashing vectorizers. Costs a few additions more than `predict`.
    pub fn predict_counted(&self, text: &str) -> (Prediction, Option<NgramCounts>) {
        let (row, counts) = self.featurizer.transform_counted(text);
        let features = if self.chain.is_empty() {
            Features::Sparse(row)
        } else {
            self.chain.features(text, row)
        };
        (self.classifier.predict(&features), counts)
    }

    /// The predicted class's probability, for single-label models that have probabilities (what
    /// the server's confidence histogram counts).
    pub fn confidence(&self, prediction: &Prediction) -> Option<f64> {
        if self.task() != crate::model::Task::Classification {
            return None;
        }
        prediction.probabilities.as_ref()?.get(prediction.class_index).copied()
    }
}

#[cfg(test)]
mod tests {
    use crate::Model;

    #[test]
    fn counts_say_how_much_of_the_text_is_known() {
        let json = include_str!("../../testdata/tiny.model.json");
        let model = Model::from_json(json.as_bytes()).expect("tiny model");
        // Unigrams good, phone, zzz and bigrams "good phone", "phone zzz": 3 of 5 known.
        let (prediction, counts) = model.predict_counted("good phone zzz");
        assert_eq!(prediction, model.predict("good phone zzz"));
        let counts = counts.expect("a vocabulary");
        assert_eq!((counts.total, counts.known), (5, 3));
        assert_eq!(counts.oov_ratio(), Some(0.4));
        assert_eq!(model.predict_counted("").1.and_then(|c| c.oov_ratio()), None);
    }
}
