//! What a pipeline does between the text and its classifier beyond one vectorizer: the branches
//! of a `FeatureUnion`/`ColumnTransformer` laid side by side (each with its own later steps and
//! weight), then the steps after them. A plain vectorizer + classifier model has an empty chain
//! and pays nothing for it.

use crate::error::ModelError;
use crate::featurize::vocabulary::Vocabulary;
use crate::featurize::{Featurizer, FittedArrays};
use crate::model::format::ModelFile;
use crate::model::steps::{apply_steps, build_steps, Features, Step};
use crate::sparse::SparseRow;

/// The union's branches and the steps after them.
#[derive(Debug, Default)]
pub(crate) struct FeatureChain {
    /// Empty without a union. Branch 0 reads the model's primary featurizer.
    branches: Vec<Branch>,
    steps: Vec<Step>,
    n_features: usize,
    dense: bool,
}

#[derive(Debug)]
struct Branch {
    name: String,
    /// `None` for branch 0, whose featurizer is the model's primary one.
    featurizer: Option<Featurizer>,
    steps: Vec<Step>,
    weight: f64,
    /// The first column of this branch in the union's output, and its width.
    offset: u32,
    width: usize,
    dense: bool,
}

impl FeatureChain {
    /// Builds the chain of `file` after its primary featurizer. The other branches' vocabularies
    /// and idf weights move out of `file` into their featurizers (`restore` puts them back).
    pub(crate) fn build(file: &mut ModelFile, primary: &Featurizer) -> Result<Self, ModelError> {
        let mut chain = FeatureChain { n_features: primary.n_features(), ..Default::default() };
        if let Some(union) = file.union.as_mut() {
            if union.branches.is_empty() {
                return Err(ModelError::invalid("union.branches", "is empty"));
            }
            let mut offset = 0usize;
            for (index, branch) in union.branches.iter_mut().enumerate() {
                let field = format!("union.branches[{index}]");
                if !branch.weight.is_finite() {
                    return Err(ModelError::invalid(
                        format!("{field}.weight"),
                        format!("{} is not a finite number", branch.weight),
                    ));
                }
                let featurizer = if index == 0 {
                    None
                } else {
                    let vocabulary = branch
                        .vectorizer
                        .vocabulary
                        .take()
                        .map(|terms| Vocabulary::from_terms(terms.iter().map(String::as_str)))
                        .transpose()
                        .map_err(|e| e.renamed("vectorizer.", &format!("{field}.vectorizer.")))?;
                    let idf = branch.tfidf.as_mut().and_then(|tfidf| tfidf.idf.take());
                    let arrays = FittedArrays { vocabulary, idf, word_index: None };
                    let featurizer =
                        Featurizer::new(&branch.vectorizer, branch.tfidf.as_ref(), arrays)
                            .map_err(|e| {
                                e.renamed("vectorizer.", &format!("{field}.vectorizer."))
                                    .renamed("tfidf.", &format!("{field}.tfidf."))
                            })?;
                    Some(featurizer)
                };
                let n_in = featurizer.as_ref().unwrap_or(primary).n_features();
                let (steps, width, dense) =
                    build_steps(&branch.steps, n_in, false, &format!("{field}.steps"))?;
                let start =
                    u32::try_from(offset).ok().filter(|_| offset + width <= u32::MAX as usize);
                let Some(start) = start else {
                    return Err(ModelError::invalid(field, "the union has over 2^32 features"));
                };
                chain.branches.push(Branch {
                    name: branch.name.clone(),
                    featurizer,
                    steps,
                    weight: branch.weight,
                    offset: start,
                    width,
                    dense,
                });
                offset += width;
            }
            chain.n_features = offset;
            chain.dense = chain.branches.iter().all(|branch| branch.dense);
        }
        let (steps, n_features, dense) =
            build_steps(&file.steps, chain.n_features, chain.dense, "steps")?;
        chain.steps = steps;
        chain.n_features = n_features;
        chain.dense = dense;
        Ok(chain)
    }

    /// Whether the chain does nothing: the primary featurizer's row is the classifier's input.
    pub(crate) fn is_empty(&self) -> bool {
        self.branches.is_empty() && self.steps.is_empty()
    }

    /// The width of the classifier's input.
    pub(crate) fn n_features(&self) -> usize {
        self.n_features
    }

    /// Whether the classifier's input is dense.
    pub(crate) fn is_dense(&self) -> bool {
        self.dense
    }

    /// The classifier's input for `text`, given the primary featurizer's row for it.
    pub(crate) fn features(&self, text: &str, primary: SparseRow) -> Features {
        let joined = if self.branches.is_empty() {
            Features::Sparse(primary)
        } else {
            self.join_branches(text, primary)
        };
        apply_steps(&self.steps, joined)
    }

    /// sklearn's `hstack` of the branches' weighted outputs: dense only when every branch is.
    fn join_branches(&self, text: &str, primary: SparseRow) -> Features {
        let mut primary = Some(primary);
        let outputs = self.branches.iter().map(|branch| {
            let row = match &branch.featurizer {
                Some(featurizer) => featurizer.transform(text),
                None => primary.take().unwrap_or_default(),
            };
            (branch, apply_steps(&branch.steps, Features::Sparse(row)))
        });
        if self.dense {
            let mut values = Vec::with_capacity(self.n_features);
            for (branch, output) in outputs {
                let Features::Dense(part) = output else { continue };
                values.extend(part.iter().map(|v| weighted(*v, branch.weight)));
            }
            return Features::Dense(values);
        }
        let mut entries = Vec::new();
        for (branch, output) in outputs {
            let row = output.to_sparse();
            entries.extend(
                row.entries.iter().map(|&(c, v)| (c + branch.offset, weighted(v, branch.weight))),
            );
        }
        Features::Sparse(SparseRow { entries })
    }

    /// Where column `column` of the classifier's input comes from: the branch (by index, `0`
    /// without a union) and the column of that branch's vectorizer. `None` when a step mixes
    /// columns (a projection).
    pub(crate) fn source(&self, mut column: u32) -> Option<(usize, u32)> {
        for step in self.steps.iter().rev() {
            column = step.source_column(column)?;
        }
        if self.branches.is_empty() {
            return Some((0, column));
        }
        let index = self.branches.iter().rposition(|branch| branch.offset <= column)?;
        let branch = &self.branches[index];
        let mut column = column - branch.offset;
        if column as usize >= branch.width {
            return None;
        }
        for step in branch.steps.iter().rev() {
            column = step.source_column(column)?;
        }
        Some((index, column))
    }

    /// The featurizer of branch `index` (`None` for branch 0: the primary one).
    pub(crate) fn branch_featurizer(&self, index: usize) -> Option<&Featurizer> {
        self.branches.get(index).and_then(|branch| branch.featurizer.as_ref())
    }

    /// The name of branch `index`, when there is a union.
    pub(crate) fn branch_name(&self, index: usize) -> Option<&str> {
        self.branches.get(index).map(|branch| branch.name.as_str())
    }

    /// Puts the arrays `build` moved out of `file` back.
    pub(crate) fn restore(&self, file: &mut ModelFile) {
        let Some(union) = file.union.as_mut() else { return };
        for (spec, branch) in union.branches.iter_mut().zip(&self.branches) {
            let Some(featurizer) = &branch.featurizer else { continue };
            spec.vectorizer.vocabulary = featurizer.vocabulary().map(|vocabulary| {
                (0..vocabulary.len()).map(|i| vocabulary.term(i).to_owned()).collect()
            });
            if let Some(tfidf) = spec.tfidf.as_mut() {
                tfidf.idf = featurizer.idf().map(<[f64]>::to_vec);
            }
        }
    }
}

/// `transformer_weights` multiply a branch's output (`res * weight`); 1.0 leaves it as it is.
fn weighted(value: f64, weight: f64) -> f64 {
    if weight == 1.0 {
        value
    } else {
        value * weight
    }
}
