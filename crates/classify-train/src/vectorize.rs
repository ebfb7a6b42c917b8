//! Fitting a `CountVectorizer` / `TfidfVectorizer` as sklearn's `fit_transform` does, with the
//! core's own analyzer (so a trained model featurizes exactly as it was trained):
//!
//! 1. `_count_vocab`: analyze every document, give each new term a provisional id, and store the
//!    document's term counts as a CSR row; document frequency and corpus term frequency are
//!    counted on the way.
//! 2. `binary`: counts become 1 (before pruning, as sklearn does, so `max_features` ranks by df).
//! 3. `_sort_features` + `_limit_features`: terms sorted (Python compares strings by code point,
//!    which is UTF-8 byte order); terms with `df > max_df` or `df < min_df` dropped; if more than
//!    `max_features` remain, the most frequent in the corpus are kept, ties broken as numpy's
//!    quicksort argsort breaks them. Feature index = rank of the term among those kept.
//! 4. `TfidfTransformer`: `idf = ln((1 + n) / (1 + df)) + 1` (`smooth_idf`), `tf` →
//!    `1 + ln(tf)` with `sublinear_tf`, then l2 row normalization.

use std::hash::Hasher;

use hashbrown::HashTable;
use rustc_hash::FxHasher;

use crate::csr::CsrMatrix;
use crate::{numpy_sort, Progress, ProgressStep, TrainError};
use classify_core::featurize::analyzer::StripAccents;
use classify_core::featurize::Featurizer;
use classify_core::model::format::{AnalyzerKind, TfidfSpec, VectorizerKind, VectorizerSpec};
use classify_core::sparse::{Norm, SparseRow};

/// A document-frequency bound, as sklearn's `min_df`/`max_df`: an integer is a number of
/// documents, a float in [0, 1] a proportion of them.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum DocFreq {
    Count(usize),
    Proportion(f64),
}

impl DocFreq {
    fn documents(self, n_documents: usize) -> f64 {
        match self {
            DocFreq::Count(count) => count as f64,
            DocFreq::Proportion(p) => p * n_documents as f64,
        }
    }
}

impl std::str::FromStr for DocFreq {
    type Err = String;

    /// `2` is a count, `2.0`, `0.5` or `1e-3` a proportion, as Python's int/float literals.
    fn from_str(text: &str) -> Result<Self, String> {
        if text.contains(['.', 'e', 'E']) {
            let p: f64 = text.parse().map_err(|_| format!("{text:?} is not a number"))?;
            if !(0.0..=1.0).contains(&p) {
                return Err(format!(
                    "{text} is a proportion outside [0.0, 1.0]; write an integer for a number \
                     of documents"
                ));
            }
            Ok(DocFreq::Proportion(p))
        } else {
            let count: usize = text.parse().map_err(|_| {
                format!("{text:?} is neither a document count nor a proportion like 0.5")
            })?;
            Ok(DocFreq::Count(count))
        }
    }
}

/// `TfidfVectorizer`'s weighting options (norm l2, `use_idf`, `smooth_idf` as its defaults).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct TfidfOptions {
    pub sublinear_tf: bool,
}

/// The vectorizer's settings, with sklearn's names and defaults.
#[derive(Debug, Clone, PartialEq)]
pub struct VectorizerOptions {
    pub analyzer: AnalyzerKind,
    pub ngram_range: [u32; 2],
    pub lowercase: bool,
    pub strip_accents: Option<StripAccents>,
    /// Word analyzer only.
    pub stop_words: Option<Vec<String>>,
    pub binary: bool,
    pub min_df: DocFreq,
    pub max_df: DocFreq,
    pub max_features: Option<usize>,
    /// `Some` for a `TfidfVectorizer`.
    pub tfidf: Option<TfidfOptions>,
}

impl Default for VectorizerOptions {
    fn default() -> Self {
        VectorizerOptions {
            analyzer: AnalyzerKind::Word,
            ngram_range: [1, 1],
            lowercase: true,
            strip_accents: None,
            stop_words: None,
            binary: false,
            min_df: DocFreq::Count(1),
            max_df: DocFreq::Proportion(1.0),
            max_features: None,
            tfidf: None,
        }
    }
}

/// A fitted vectorizer (its model-file sections) and the training matrix it produced.
#[derive(Debug)]
pub(crate) struct Fitted {
    pub(crate) spec: VectorizerSpec,
    pub(crate) tfidf: Option<TfidfSpec>,
    pub(crate) matrix: CsrMatrix,
}

/// sklearn's `fit_transform` on `texts`, counting on up to `threads` threads (the result is
/// the same for any number).
pub(crate) fn fit_transform(
    texts: &[&str],
    options: &VectorizerOptions,
    threads: usize,
    progress: &dyn Progress,
) -> Result<Fitted, TrainError> {
    let mut spec = spec_without_vocabulary(options)?;
    // The analyzer alone: a count featurizer with an empty vocabulary.
    spec.vocabulary = Some(Vec::new());
    let analyzer = Featurizer::from_spec(&spec, None).map_err(|error| {
        TrainError::option("vectorizer options", format!("not supported: {error}"))
    })?;

    // 1. Count: provisional ids in order of first appearance, one slice of the documents per
    // thread, then the slices' terms and rows merged in document order.
    let step = progress.step("vectorizing", texts.len() as u64);
    let slice_len = texts.len().div_ceil(threads.max(1)).max(1);
    let mut slices: Vec<Counted> = if texts.len() <= slice_len {
        vec![Counted::count(texts, &analyzer, options.binary, &*step)]
    } else {
        std::thread::scope(|scope| {
            let counting: Vec<_> = texts
                .chunks(slice_len)
                .map(|slice| {
                    let (analyzer, step) = (&analyzer, &*step);
                    scope.spawn(move || Counted::count(slice, analyzer, options.binary, step))
                })
                .collect();
            counting
                .into_iter()
                .map(|thread| {
                    thread.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic))
                })
                .collect()
        })
    };
    drop(step);
    let mut counted = slices.remove(0);
    for slice in slices {
        counted.append(slice);
    }
    let Counted { terms, df, tf, mut matrix } = counted;
    if terms.is_empty() {
        return Err(TrainError::Unfit(
            "empty vocabulary: the documents contain no terms (only stop words, or texts too \
             short for the analyzer?)"
                .to_owned(),
        ));
    }

    // 2-3. Sort, prune by document frequency, limit to the most frequent.
    let n_documents = texts.len();
    let high = options.max_df.documents(n_documents);
    let low = options.min_df.documents(n_documents);
    if high < low {
        return Err(TrainError::option(
            "--max-df",
            "corresponds to fewer documents than --min-df; raise --max-df or lower --min-df",
        ));
    }
    let mut sorted: Vec<u32> = (0..terms.len() as u32).collect();
    sorted.sort_unstable_by(|&a, &b| terms.term(a).cmp(terms.term(b)));
    let mut kept: Vec<u32> = sorted
        .into_iter()
        .filter(|&id| (df[id as usize] as f64) <= high && (df[id as usize] as f64) >= low)
        .collect();
    if let Some(limit) = options.max_features {
        if kept.len() > limit {
            let keys: Vec<i64> = kept.iter().map(|&id| -tf[id as usize]).collect();
            let mut chosen = numpy_sort::argsort_quicksort(&keys);
            chosen.truncate(limit);
            chosen.sort_unstable();
            kept = chosen.into_iter().map(|position| kept[position]).collect();
        }
    }
    if kept.is_empty() {
        return Err(TrainError::Unfit(
            "after pruning, no terms remain; try a lower --min-df or a higher --max-df".to_owned(),
        ));
    }
    let mut new_index = vec![u32::MAX; terms.len()];
    for (rank, &id) in kept.iter().enumerate() {
        new_index[id as usize] = rank as u32;
    }
    matrix.remap_columns(
        |id| Some(new_index[id as usize]).filter(|&index| index != u32::MAX),
        kept.len(),
    );
    let kept_df: Vec<u32> = kept.iter().map(|&id| df[id as usize]).collect();
    spec.vocabulary = Some(kept.iter().map(|&id| terms.term(id).to_owned()).collect());
    spec.n_features = Some(kept.len());
    drop((terms, df, tf, new_index));

    // 4. Tf-idf weighting, as the featurizer applies it at prediction time.
    let tfidf = options.tfidf.map(|tfidf| {
        let n = n_documents as f64;
        let idf: Vec<f64> =
            kept_df.iter().map(|&df| ((1.0 + n) / (1.0 + f64::from(df))).ln() + 1.0).collect();
        matrix.for_each_row_mut(|indices, values| {
            for (value, &j) in values.iter_mut().zip(indices) {
                if tfidf.sublinear_tf {
                    *value = value.ln() + 1.0;
                }
                *value *= idf[j as usize];
            }
            let norm = values.iter().map(|v| v * v).sum::<f64>().sqrt();
            if norm != 0.0 {
                values.iter_mut().for_each(|v| *v /= norm);
            }
        });
        TfidfSpec {
            norm: Some(Norm::L2),
            use_idf: true,
            smooth_idf: true,
            sublinear_tf: tfidf.sublinear_tf,
            idf: Some(idf),
        }
    });
    Ok(Fitted { spec, tfidf, matrix })
}

/// Documents counted: their terms by provisional id, each term's document and term frequency,
/// and their rows in those ids.
struct Counted {
    terms: Interner,
    df: Vec<u32>,
    tf: Vec<i64>,
    matrix: CsrMatrix,
}

impl Counted {
    fn count(
        texts: &[&str],
        analyzer: &Featurizer,
        binary: bool,
        step: &dyn ProgressStep,
    ) -> Counted {
        let mut counted = Counted {
            terms: Interner::default(),
            df: Vec::new(),
            tf: Vec::new(),
            matrix: CsrMatrix::new(0),
        };
        let mut hits: Vec<u32> = Vec::new();
        for (done, text) in texts.iter().enumerate() {
            hits.clear();
            analyzer.analyze(text, |gram| hits.push(counted.id(gram)));
            hits.sort_unstable();
            let mut row = SparseRow::count_sorted(&hits).entries;
            for &(id, count) in &row {
                counted.df[id as usize] += 1;
                counted.tf[id as usize] += if binary { 1 } else { count as i64 };
            }
            if binary {
                row.iter_mut().for_each(|entry| entry.1 = 1.0);
            }
            counted.matrix.push_row(row);
            if done % 256 == 255 {
                step.advance(256);
            }
        }
        step.advance(texts.len() as u64 % 256);
        counted
    }

    /// The id of `term`, numbered on (with no documents yet) if it is new.
    fn id(&mut self, term: &str) -> u32 {
        let id = self.terms.intern(term);
        if id as usize == self.df.len() {
            self.df.push(0);
            self.tf.push(0);
        }
        id
    }

    /// Appends the documents of `later`, counted apart, after these: its terms take this
    /// count's ids (new ones numbered on), its frequencies are added, its rows renumbered.
    fn append(&mut self, later: Counted) {
        let ids: Vec<u32> = (0..later.terms.len() as u32)
            .map(|id| {
                let merged = self.id(later.terms.term(id));
                self.df[merged as usize] += later.df[id as usize];
                self.tf[merged as usize] += later.tf[id as usize];
                merged
            })
            .collect();
        let mut row: Vec<(u32, f64)> = Vec::new();
        for i in 0..later.matrix.n_rows() {
            let (indices, values) = later.matrix.row(i);
            row.clear();
            row.extend(indices.iter().zip(values).map(|(&id, &value)| (ids[id as usize], value)));
            row.sort_unstable_by_key(|&(id, _)| id);
            self.matrix.push_row(row.iter().copied());
        }
    }
}

/// The model file's vectorizer section for these options, before fitting.
fn spec_without_vocabulary(options: &VectorizerOptions) -> Result<VectorizerSpec, TrainError> {
    let [min_n, max_n] = options.ngram_range;
    if min_n == 0 || min_n > max_n {
        return Err(TrainError::option(
            "--ngram",
            format!("{min_n},{max_n}: expected MIN,MAX with 1 <= MIN <= MAX, e.g. 1,2"),
        ));
    }
    if options.stop_words.is_some() && options.analyzer != AnalyzerKind::Word {
        return Err(TrainError::option(
            "--stop-words",
            "only applies to --analyzer word (sklearn ignores it for character n-grams)",
        ));
    }
    if let Some(0) = options.max_features {
        return Err(TrainError::option("--max-features", "must be at least 1"));
    }
    let stop_words = options.stop_words.clone().map(|mut words| {
        words.sort_unstable();
        words.dedup();
        words
    });
    Ok(VectorizerSpec {
        kind: VectorizerKind::Count,
        analyzer: options.analyzer,
        ngram_range: options.ngram_range,
        lowercase: options.lowercase,
        strip_accents: options.strip_accents,
        token_pattern: None,
        stop_words,
        binary: options.binary,
        vocabulary: None,
        n_features: None,
        alternate_sign: None,
        norm: None,
        // Trained here, on the core's own character tables, and served with them.
        unicode_version: None,
    })
}

/// Terms seen so far: their bytes end to end in one arena and a hash table of their ids, so
/// interning costs no allocation per term.
#[derive(Default)]
struct Interner {
    text: String,
    /// `ends[id]`: where term `id` ends in `text`.
    ends: Vec<usize>,
    table: HashTable<u32>,
}

impl Interner {
    fn intern(&mut self, term: &str) -> u32 {
        let hash = hash_of(term);
        let Interner { text, ends, table } = self;
        let term_of = |id: u32| {
            let start = if id == 0 { 0 } else { ends[id as usize - 1] };
            &text[start..ends[id as usize]]
        };
        if let Some(&id) = table.find(hash, |&id| term_of(id) == term) {
            return id;
        }
        let id = ends.len() as u32;
        table.insert_unique(hash, id, |&other| {
            let start = if other == 0 { 0 } else { ends[other as usize - 1] };
            hash_of(&text[start..ends[other as usize]])
        });
        text.push_str(term);
        ends.push(text.len());
        id
    }

    fn term(&self, id: u32) -> &str {
        let start = if id == 0 { 0 } else { self.ends[id as usize - 1] };
        &self.text[start..self.ends[id as usize]]
    }

    fn len(&self) -> usize {
        self.ends.len()
    }

    fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }
}

fn hash_of(term: &str) -> u64 {
    let mut hasher = FxHasher::default();
    hasher.write(term.as_bytes());
    hasher.finish()
}

#[cfg(test)]
pub(crate) mod tests {
    use std::io::Write;
    use std::process::{Command, Stdio};

    use super::*;
    use crate::stop_words::ENGLISH_STOP_WORDS;
    use crate::Quiet;

    /// Runs `script` with /usr/bin/python3 (where Debian's sklearn lives), `input` as JSON on
    /// stdin. A missing sklearn fails the test: the comparison is the test.
    pub(crate) fn python(script: &str, input: &impl serde::Serialize) -> String {
        let probe = Command::new("/usr/bin/python3")
            .args(["-c", "import sklearn, numpy"])
            .stderr(Stdio::null())
            .status();
        assert!(
            matches!(probe, Ok(status) if status.success()),
            "this test compares with sklearn: install Debian's python3-sklearn (scripts/test does)"
        );
        let mut child = Command::new("/usr/bin/python3")
            .args(["-c", script])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let input = serde_json::to_vec(input).unwrap();
        child.stdin.take().unwrap().write_all(&input).unwrap();
        let output = child.wait_with_output().unwrap();
        assert!(output.status.success(), "python failed");
        String::from_utf8(output.stdout).unwrap()
    }

    fn vocabulary(texts: &[&str], options: &VectorizerOptions) -> Vec<String> {
        fit_transform(texts, options, 1, &Quiet).unwrap().spec.vocabulary.unwrap()
    }

    #[test]
    fn counts_sorted_vocabulary_and_rows_like_sklearn() {
        let texts = ["The cat sat", "the dog sat down", "cat cat"];
        let options = VectorizerOptions { ngram_range: [1, 2], ..Default::default() };
        let fitted = fit_transform(&texts, &options, 1, &Quiet).unwrap();
        let vocabulary = fitted.spec.vocabulary.unwrap();
        assert_eq!(
            vocabulary,
            [
                "cat", "cat cat", "cat sat", "dog", "dog sat", "down", "sat", "sat down", "the",
                "the cat", "the dog"
            ]
        );
        assert_eq!(fitted.matrix.row(2), (&[0u32, 1][..], &[2.0, 1.0][..]));
    }

    #[test]
    fn any_number_of_threads_fits_the_same_vocabulary_and_rows() {
        // Slices that share terms and have their own, a term first seen in a later slice, and
        // an empty document: the merged provisional ids differ from one thread's, the result
        // must not.
        let texts = [
            "the cat sat",
            "dog dog cat",
            "",
            "zebra the end",
            "the cat sat again",
            "a dog sat down",
            "end of the zebra",
            "cat",
        ];
        for options in [
            VectorizerOptions { ngram_range: [1, 2], ..Default::default() },
            VectorizerOptions { binary: true, max_features: Some(5), ..Default::default() },
            VectorizerOptions {
                min_df: DocFreq::Count(2),
                tfidf: Some(TfidfOptions { sublinear_tf: true }),
                ..Default::default()
            },
        ] {
            let one = fit_transform(&texts, &options, 1, &Quiet).unwrap();
            for threads in [2, 3, 8, 20] {
                let many = fit_transform(&texts, &options, threads, &Quiet).unwrap();
                assert_eq!(many.spec.vocabulary, one.spec.vocabulary, "{threads} threads");
                assert_eq!(many.matrix, one.matrix, "{threads} threads");
                assert_eq!(
                    many.tfidf.and_then(|t| t.idf),
                    one.tfidf.as_ref().and_then(|t| t.idf.clone())
                );
            }
        }
    }

    #[test]
    fn max_features_keeps_most_frequent_then_sorts() {
        let texts = ["b b b a", "c c a", "d"];
        let options = VectorizerOptions { max_features: Some(2), ..Default::default() };
        // Single letters are not tokens by default; use longer words.
        let texts: Vec<String> = texts.iter().map(|t| t.replace(' ', "x ") + "x").collect();
        let texts: Vec<&str> = texts.iter().map(String::as_str).collect();
        assert_eq!(vocabulary(&texts, &options), ["ax", "bx"]);
    }

    #[test]
    fn tfidf_rows_match_the_featurizer_used_at_prediction() {
        let texts = ["alpha beta beta", "beta gamma", "gamma gamma delta"];
        let options = VectorizerOptions {
            tfidf: Some(TfidfOptions { sublinear_tf: true }),
            ..Default::default()
        };
        let fitted = fit_transform(&texts, &options, 1, &Quiet).unwrap();
        let featurizer = Featurizer::from_spec(&fitted.spec, fitted.tfidf.as_ref()).unwrap();
        for (i, text) in texts.iter().enumerate() {
            let row = featurizer.transform(text);
            let (indices, values) = fitted.matrix.row(i);
            let expected: Vec<(u32, f64)> =
                indices.iter().copied().zip(values.iter().copied()).collect();
            assert_eq!(row.entries, expected);
        }
    }

    #[test]
    fn bad_options_are_refused_by_name() {
        let options = VectorizerOptions { ngram_range: [2, 1], ..Default::default() };
        let error = fit_transform(&["a b"], &options, 1, &Quiet).unwrap_err().to_string();
        assert!(error.starts_with("--ngram: 2,1"), "{error}");
        let options = VectorizerOptions { min_df: DocFreq::Count(5), ..Default::default() };
        let error = fit_transform(&["abc def"], &options, 1, &Quiet).unwrap_err().to_string();
        assert!(error.contains("--max-df"), "{error}");
        assert_eq!("0.5".parse::<DocFreq>(), Ok(DocFreq::Proportion(0.5)));
        assert_eq!("3".parse::<DocFreq>(), Ok(DocFreq::Count(3)));
        assert!("1.5".parse::<DocFreq>().is_err());
    }

    /// Up to `n` texts of the shared development corpus (../shared/data from the repository).
    fn shared_sample(n: usize) -> Option<Vec<String>> {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data/debian-sections.tsv");
        let Ok(data) = std::fs::read_to_string(path) else {
            eprintln!("note: {path} not found; using the built-in sample only");
            return None;
        };
        // Every 25th line: a spread over the (sorted by package) file.
        let texts = data
            .lines()
            .step_by(25)
            .take(n)
            .filter_map(|line| line.split_once('\t').map(|(_, text)| text.to_owned()))
            .collect();
        Some(texts)
    }

    #[test]
    fn vocabulary_equals_sklearn_count_vectorizer() {
        let mut texts: Vec<String> = [
            "Héllo Wörld, the naïve café!",
            "ΣΊΣΥΦΟΣ and the final sigma: ΟΔΥΣΣΕΥΣ",
            "tabs\tand  double  spaces, x_y z9 ٣٤ ⅷ",
            "The THE the; it's isn't",
        ]
        .map(str::to_owned)
        .to_vec();
        texts.extend(shared_sample(400).unwrap_or_default());
        let texts_ref: Vec<&str> = texts.iter().map(String::as_str).collect();
        let english: Vec<String> = ENGLISH_STOP_WORDS.iter().map(|w| w.to_string()).collect();
        let cases: Vec<(serde_json::Value, VectorizerOptions)> = vec![
            (
                serde_json::json!({"ngram_range": [1, 2]}),
                VectorizerOptions { ngram_range: [1, 2], ..Default::default() },
            ),
            (
                serde_json::json!({"ngram_range": [1, 2], "min_df": 2, "max_df": 0.5,
                                   "max_features": 500}),
                VectorizerOptions {
                    ngram_range: [1, 2],
                    min_df: DocFreq::Count(2),
                    max_df: DocFreq::Proportion(0.5),
                    max_features: Some(500),
                    ..Default::default()
                },
            ),
            (
                serde_json::json!({"stop_words": "english", "strip_accents": "unicode",
                                   "lowercase": false, "max_features": 300, "binary": true}),
                VectorizerOptions {
                    stop_words: Some(english),
                    strip_accents: Some(StripAccents::Unicode),
                    lowercase: false,
                    max_features: Some(300),
                    binary: true,
                    ..Default::default()
                },
            ),
            (
                serde_json::json!({"analyzer": "char_wb", "ngram_range": [2, 4],
                                   "strip_accents": "ascii", "min_df": 0.01}),
                VectorizerOptions {
                    analyzer: AnalyzerKind::CharWb,
                    ngram_range: [2, 4],
                    strip_accents: Some(StripAccents::Ascii),
                    min_df: DocFreq::Proportion(0.01),
                    ..Default::default()
                },
            ),
            (
                serde_json::json!({"analyzer": "char", "ngram_range": [1, 3],
                                   "max_features": 1000}),
                VectorizerOptions {
                    analyzer: AnalyzerKind::Char,
                    ngram_range: [1, 3],
                    max_features: Some(1000),
                    ..Default::default()
                },
            ),
        ];
        let script = "import sys, json\n\
            from sklearn.feature_extraction.text import CountVectorizer\n\
            texts, cases = json.load(sys.stdin)\n\
            out = []\n\
            for kw in cases:\n\
            \x20   if 'ngram_range' in kw: kw['ngram_range'] = tuple(kw['ngram_range'])\n\
            \x20   v = CountVectorizer(**kw).fit(texts)\n\
            \x20   out.append(sorted(v.vocabulary_, key=v.vocabulary_.get))\n\
            print(json.dumps(out))";
        let kwargs: Vec<&serde_json::Value> = cases.iter().map(|(kw, _)| kw).collect();
        let expected = python(script, &(&texts, &kwargs));
        let expected: Vec<Vec<String>> = serde_json::from_str(&expected).unwrap();
        for ((kw, options), expected) in cases.iter().zip(expected) {
            let ours = vocabulary(&texts_ref, options);
            assert_eq!(ours.len(), expected.len(), "{kw}");
            assert!(ours == expected, "{kw}: first difference at {:?}", {
                let i = ours.iter().zip(&expected).position(|(a, b)| a != b);
                i.map(|i| (&ours[i], &expected[i]))
            });
        }
    }
}
