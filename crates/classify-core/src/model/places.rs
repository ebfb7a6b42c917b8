//! Where an explanation's n-grams are in the text, so that a page can draw them on it.

use crate::model::Model;

/// One explained feature's places in the text: character ranges (Unicode scalar values), start
/// inclusive, end exclusive, in the order the n-grams occur.
pub type Places = Vec<(usize, usize)>;

impl Model {
    /// For each of `features` (names as [`Model::explain`] gives them), the characters of `text`
    /// each occurrence was read from. `None` when the model cannot say: character n-gram models,
    /// unions (whose feature names carry a branch), and texts whose preprocessing did not keep
    /// characters one for one.
    pub fn feature_places(&self, text: &str, features: &[&str]) -> Option<Vec<Places>> {
        if self.chain.branch_name(0).is_some() {
            return None;
        }
        let grams = self.featurizer.word_ngram_places(text)?;
        Some(
            features
                .iter()
                .map(|feature| {
                    grams
                        .iter()
                        .filter(|(gram, _, _)| gram == feature)
                        .map(|&(_, start, end)| (start, end))
                        .collect()
                })
                .collect(),
        )
    }
}

#[cfg(test)]
mod tests {
    use crate::Model;

    fn tiny() -> Model {
        let json = include_str!("../../testdata/tiny.model.json");
        Model::from_json(json.as_bytes()).expect("tiny model")
    }

    #[test]
    fn word_ngrams_are_found_where_they_were_read() {
        let model = tiny();
        // Lowercasing keeps characters one for one, even outside ASCII ("É" → "é").
        let text = "Good  phone, GOOD phone. Émile";
        let places = model.feature_places(text, &["good", "good phone", "bad"]).unwrap();
        assert_eq!(places[0], vec![(0, 4), (13, 17)]);
        // The bigram spans both words and whatever separated them.
        assert_eq!(places[1], vec![(0, 11), (13, 23)]);
        assert!(places[2].is_empty());
        let chars: Vec<char> = text.chars().collect();
        assert_eq!(chars[13..23].iter().collect::<String>(), "GOOD phone");
    }

    #[test]
    fn places_are_unknown_when_preprocessing_changes_the_characters() {
        // "İ" lowercases to two characters ("i̇"): later offsets would shift.
        assert_eq!(tiny().feature_places("İ good phone", &["good"]), None);
    }
}
