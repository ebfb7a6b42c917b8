//! Decision trees and forests of them (`DecisionTreeClassifier`, `RandomForestClassifier`,
//! `ExtraTreesClassifier`), evaluated as sklearn's `tree_.apply` does: sklearn converts its input
//! to float32 before predicting, so each feature is rounded to float32 and compared, as a double,
//! with the node's double threshold (`x <= threshold` goes left); a feature a sparse row lacks is
//! 0. Each leaf holds the probabilities sklearn's `predict_proba` gives there, computed when the
//! model was exported by the sklearn that fitted it (versions before 1.4 divide counts by their
//! sum at prediction time, later ones store the fractions), so no arithmetic here can drift from
//! that version's; a forest sums its trees' rows in order from 0.0 and divides by their number,
//! as `ForestClassifier.predict_proba` does.

use crate::error::ModelError;
use crate::model::classifier::argmax;
use crate::model::format::{ClassifierSpec, TreeCombine, TreeSpec};
use crate::model::steps::Features;
use crate::model::Prediction;

#[derive(Debug)]
pub struct Trees {
    combine: TreeCombine,
    /// The classes' number, or 0 for a regressor (one value per leaf).
    n_classes: usize,
    trees: Vec<Tree>,
}

/// See [`Trees::size`].
#[derive(Debug, Clone, Copy)]
pub struct TreesSize {
    pub trees: usize,
    pub nodes: usize,
    pub leaves: usize,
}

/// One tree, flattened. `left[i] == LEAF` marks a leaf; its row of `leaf_values` is `leaf[i]`.
#[derive(Debug)]
struct Tree {
    left: Vec<u32>,
    right: Vec<u32>,
    feature: Vec<u32>,
    threshold: Vec<f64>,
    leaf: Vec<u32>,
    /// Row-major: one row of `n_classes` per leaf.
    leaf_values: Vec<f64>,
    leaf_class: Vec<u32>,
}

const LEAF: u32 = u32::MAX;

impl Trees {
    pub(crate) fn new(
        spec: &ClassifierSpec,
        n_features: usize,
        field: &str,
    ) -> Result<Trees, ModelError> {
        let (n_classes, combine, trees) = match spec {
            ClassifierSpec::Trees { classes, combine, trees, .. } => {
                (classes.len(), combine, trees)
            }
            ClassifierSpec::TreeRegression { combine, trees, .. } => (0, combine, trees),
            _ => {
                return Err(ModelError::invalid(
                    format!("{field}.kind"),
                    "expected \"trees\" or \"tree_regression\"",
                ))
            }
        };
        if trees.is_empty() {
            return Err(ModelError::invalid(format!("{field}.trees"), "is empty"));
        }
        if *combine == TreeCombine::Single && trees.len() != 1 {
            return Err(ModelError::invalid(
                format!("{field}.trees"),
                format!("has {} trees, but \"combine\": \"single\" reads one", trees.len()),
            ));
        }
        let trees = trees
            .iter()
            .enumerate()
            .map(|(t, tree)| Tree::new(tree, n_features, n_classes, &format!("{field}.trees[{t}]")))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Trees { combine: *combine, n_classes, trees })
    }

    pub(crate) fn n_classes(&self) -> usize {
        self.n_classes
    }

    pub(crate) fn is_regression(&self) -> bool {
        self.n_classes == 0
    }

    /// Scores and probabilities are both `predict_proba` (trees have no decision function); a
    /// regressor's one score is its number.
    pub(crate) fn predict(&self, features: &Features) -> Prediction {
        let value = |feature: u32| feature_value(features, feature);
        if self.is_regression() {
            let mut sum = 0.0;
            for tree in &self.trees {
                sum += tree.leaf_row(tree.leaf_of(value), 1)[0];
            }
            let number = match self.combine {
                TreeCombine::Single => sum,
                TreeCombine::Mean => sum / self.trees.len() as f64,
            };
            return Prediction::new(0, vec![number], None);
        }
        let (class_index, probabilities) = match self.combine {
            TreeCombine::Single => {
                let tree = &self.trees[0];
                let leaf = tree.leaf_of(value);
                (tree.leaf_class[leaf] as usize, tree.leaf_row(leaf, self.n_classes).to_vec())
            }
            TreeCombine::Mean => {
                let mut sum = vec![0.0; self.n_classes];
                for tree in &self.trees {
                    let row = tree.leaf_row(tree.leaf_of(value), self.n_classes);
                    for (total, p) in sum.iter_mut().zip(row) {
                        *total += p;
                    }
                }
                let n_trees = self.trees.len() as f64;
                let mean: Vec<f64> = sum.into_iter().map(|total| total / n_trees).collect();
                (argmax(&mean), mean)
            }
        };
        Prediction::new(class_index, probabilities.clone(), Some(probabilities))
    }

    /// How many trees, nodes and leaves (for the model's description).
    pub fn size(&self) -> TreesSize {
        TreesSize {
            trees: self.trees.len(),
            nodes: self.trees.iter().map(|tree| tree.left.len()).sum(),
            leaves: self.trees.iter().map(|tree| tree.leaf_class.len()).sum(),
        }
    }
}

/// A feature's value as sklearn's trees see it: rounded to float32 (0.0 when a sparse row lacks
/// it), then widened back for the comparison with the double threshold.
fn feature_value(features: &Features, feature: u32) -> f64 {
    let value = match features {
        Features::Sparse(row) => row
            .entries
            .binary_search_by_key(&feature, |&(index, _)| index)
            .map_or(0.0, |at| row.entries[at].1),
        Features::Dense(values) => values.get(feature as usize).copied().unwrap_or(0.0),
    };
    f64::from(value as f32)
}

impl Tree {
    /// `n_classes` 0: a regressor's tree, one value per leaf and no leaf classes.
    fn new(
        spec: &TreeSpec,
        n_features: usize,
        n_classes: usize,
        field: &str,
    ) -> Result<Tree, ModelError> {
        let regression = n_classes == 0;
        let width = n_classes.max(1);
        let n_nodes = spec.children_left.len();
        if n_nodes == 0 {
            return Err(ModelError::invalid(format!("{field}.children_left"), "is empty"));
        }
        for (name, len) in [
            ("children_right", spec.children_right.len()),
            ("feature", spec.feature.len()),
            ("threshold", spec.threshold.len()),
        ] {
            if len != n_nodes {
                return Err(ModelError::invalid(
                    format!("{field}.{name}"),
                    format!("has {len} entries, but children_left has {n_nodes} nodes"),
                ));
            }
        }
        let mut tree = Tree {
            left: Vec::with_capacity(n_nodes),
            right: Vec::with_capacity(n_nodes),
            feature: Vec::with_capacity(n_nodes),
            threshold: spec.threshold.clone(),
            leaf: Vec::with_capacity(n_nodes),
            leaf_values: Vec::new(),
            leaf_class: Vec::new(),
        };
        let mut n_leaves = 0u32;
        for node in 0..n_nodes {
            let (left, right) = (spec.children_left[node], spec.children_right[node]);
            if left == -1 && right == -1 {
                tree.left.push(LEAF);
                tree.right.push(LEAF);
                tree.feature.push(0);
                tree.leaf.push(n_leaves);
                n_leaves += 1;
                continue;
            }
            // Children come after their parent in sklearn's trees: this also rules out cycles.
            let child = |child: i64, name: &str| {
                if child > node as i64 && child < n_nodes as i64 {
                    Ok(child as u32)
                } else {
                    Err(ModelError::invalid(
                        format!("{field}.{name}[{node}]"),
                        format!(
                            "is {child}: a child must be a later node (below {n_nodes}), or -1 \
                             on both sides for a leaf"
                        ),
                    ))
                }
            };
            tree.left.push(child(left, "children_left")?);
            tree.right.push(child(right, "children_right")?);
            let feature = spec.feature[node];
            if feature < 0 || feature >= n_features as i64 {
                return Err(ModelError::invalid(
                    format!("{field}.feature[{node}]"),
                    format!("is {feature}, but the input has {n_features} features"),
                ));
            }
            tree.feature.push(feature as u32);
            if !spec.threshold[node].is_finite() {
                return Err(ModelError::invalid(
                    format!("{field}.threshold[{node}]"),
                    "is not a finite number",
                ));
            }
            tree.leaf.push(LEAF);
        }
        let n_leaves = n_leaves as usize;
        let expected_classes = if regression { 0 } else { n_leaves };
        for (name, len, expected) in [
            ("leaf_values", spec.leaf_values.len(), n_leaves),
            ("leaf_class", spec.leaf_class.len(), expected_classes),
        ] {
            if len != expected {
                let why = if regression && name == "leaf_class" {
                    "a regressor's tree has no leaf classes".to_owned()
                } else {
                    format!("has {len} entries, but the tree has {n_leaves} leaves")
                };
                return Err(ModelError::invalid(format!("{field}.{name}"), why));
            }
        }
        tree.leaf_values.reserve(n_leaves * width);
        for (i, row) in spec.leaf_values.iter().enumerate() {
            let name = format!("{field}.leaf_values[{i}]");
            if row.len() != width {
                let per = if regression {
                    "a regressor's leaf".to_owned()
                } else {
                    format!("{n_classes} classes")
                };
                return Err(ModelError::invalid(
                    name,
                    format!("has {} values for {per} (expected {width})", row.len()),
                ));
            }
            if regression {
                if let Some(v) = row.iter().find(|v| !v.is_finite()) {
                    return Err(ModelError::invalid(
                        name,
                        format!("holds {v}: not a finite number"),
                    ));
                }
            } else if let Some(p) = row.iter().find(|p| !p.is_finite() || **p < 0.0) {
                return Err(ModelError::invalid(
                    name,
                    format!("holds {p}: probabilities are finite and not negative"),
                ));
            }
            tree.leaf_values.extend_from_slice(row);
        }
        if let Some(i) = spec.leaf_class.iter().position(|&c| c as usize >= n_classes) {
            return Err(ModelError::invalid(
                format!("{field}.leaf_class[{i}]"),
                format!("is {}, but there are {n_classes} classes", spec.leaf_class[i]),
            ));
        }
        tree.leaf_class = spec.leaf_class.clone();
        Ok(tree)
    }

    /// The leaf (its index among the leaves) a row falls into.
    fn leaf_of(&self, value: impl Fn(u32) -> f64) -> usize {
        let mut node = 0usize;
        while self.left[node] != LEAF {
            node = if value(self.feature[node]) <= self.threshold[node] {
                self.left[node]
            } else {
                self.right[node]
            } as usize;
        }
        self.leaf[node] as usize
    }

    fn leaf_row(&self, leaf: usize, n_classes: usize) -> &[f64] {
        &self.leaf_values[leaf * n_classes..(leaf + 1) * n_classes]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::format::LabelSpec;
    use crate::sparse::SparseRow;

    /// Feature 1 <= 0.5 → leaf 0 (mostly class 0), else feature 0 <= 2.5 → leaf 1, else leaf 2.
    fn tree() -> TreeSpec {
        TreeSpec {
            children_left: vec![1, -1, 3, -1, -1],
            children_right: vec![2, -1, 4, -1, -1],
            feature: vec![1, -2, 0, -2, -2],
            threshold: vec![0.5, -2.0, 2.5, -2.0, -2.0],
            leaf_values: vec![vec![0.75, 0.25], vec![0.5, 0.5], vec![0.0, 1.0]],
            leaf_class: vec![0, 0, 1],
        }
    }

    fn spec(combine: TreeCombine, trees: Vec<TreeSpec>) -> ClassifierSpec {
        ClassifierSpec::Trees {
            estimator: "RandomForestClassifier".into(),
            classes: vec![LabelSpec::Str("a".into()), LabelSpec::Str("b".into())],
            combine,
            trees,
        }
    }

    fn sparse(entries: &[(u32, f64)]) -> Features {
        Features::Sparse(SparseRow { entries: entries.to_vec() })
    }

    #[test]
    fn a_single_tree_answers_its_leaf() {
        let trees = Trees::new(&spec(TreeCombine::Single, vec![tree()]), 2, "classifier").unwrap();
        let absent = trees.predict(&sparse(&[]));
        assert_eq!((absent.class_index, absent.probabilities), (0, Some(vec![0.75, 0.25])));
        // 0.5 exactly goes left; the tie of the middle leaf was the tree's own class 0.
        assert_eq!(trees.predict(&sparse(&[(1, 0.5)])).class_index, 0);
        let middle = trees.predict(&sparse(&[(0, 2.5), (1, 1.0)]));
        assert_eq!((middle.class_index, middle.scores), (0, vec![0.5, 0.5]));
        assert_eq!(trees.predict(&Features::Dense(vec![3.0, 1.0])).class_index, 1);
    }

    #[test]
    fn features_are_compared_as_float32() {
        // 0.5000000001 is above the threshold as a double but rounds to 0.5 in float32.
        let trees = Trees::new(&spec(TreeCombine::Single, vec![tree()]), 2, "classifier").unwrap();
        assert_eq!(trees.predict(&sparse(&[(1, 0.500_000_000_1)])).probabilities.unwrap()[1], 0.25);
    }

    #[test]
    fn a_forest_averages_its_trees_in_order() {
        let trees =
            Trees::new(&spec(TreeCombine::Mean, vec![tree(), tree(), tree()]), 2, "c").unwrap();
        let middle = trees.predict(&sparse(&[(0, 2.0), (1, 1.0)]));
        let third = (0.5 + 0.5 + 0.5) / 3.0;
        assert_eq!(middle.probabilities, Some(vec![third, third]));
        assert_eq!(middle.class_index, 0, "first of equal maxima");
    }

    #[test]
    fn broken_trees_are_refused_naming_the_field() {
        let refusal = |edit: fn(&mut TreeSpec), combine: TreeCombine| {
            let mut bad = tree();
            edit(&mut bad);
            Trees::new(&spec(combine, vec![bad]), 2, "classifier").unwrap_err().to_string()
        };
        let cycle = refusal(|t| t.children_left[2] = 0, TreeCombine::Single);
        assert!(cycle.contains("classifier.trees[0].children_left[2]"), "{cycle}");
        let feature = refusal(|t| t.feature[0] = 7, TreeCombine::Single);
        assert!(feature.contains("feature[0]") && feature.contains("2 features"), "{feature}");
        let threshold = refusal(|t| t.threshold[2] = f64::NAN, TreeCombine::Single);
        assert!(threshold.contains("threshold[2]"), "{threshold}");
        let rows = refusal(|t| t.leaf_values.truncate(2), TreeCombine::Single);
        assert!(rows.contains("leaf_values") && rows.contains("3 leaves"), "{rows}");
        let negative = refusal(|t| t.leaf_values[1][0] = -0.5, TreeCombine::Single);
        assert!(negative.contains("leaf_values[1]"), "{negative}");
        let class = refusal(|t| t.leaf_class[2] = 2, TreeCombine::Single);
        assert!(class.contains("leaf_class[2]"), "{class}");
        let lengths = refusal(|t| t.threshold.pop().map(drop).unwrap_or(()), TreeCombine::Mean);
        assert!(lengths.contains("threshold") && lengths.contains("5 nodes"), "{lengths}");
        let single = Trees::new(&spec(TreeCombine::Single, vec![tree(), tree()]), 2, "c");
        assert!(single.unwrap_err().to_string().contains("\"single\" reads one"));
    }

    fn regression_tree() -> TreeSpec {
        TreeSpec {
            leaf_values: vec![vec![1.5], vec![-0.25], vec![4.0]],
            leaf_class: Vec::new(),
            ..tree()
        }
    }

    fn regression(combine: TreeCombine, trees: Vec<TreeSpec>) -> ClassifierSpec {
        ClassifierSpec::TreeRegression { estimator: "RandomForestRegressor".into(), combine, trees }
    }

    #[test]
    fn regression_trees_answer_their_leaf_or_the_forests_mean() {
        let single =
            Trees::new(&regression(TreeCombine::Single, vec![regression_tree()]), 2, "c").unwrap();
        let leaf = single.predict(&sparse(&[(0, 3.0), (1, 1.0)]));
        assert_eq!((leaf.scores, leaf.probabilities), (vec![4.0], None));
        let forest = vec![regression_tree(), regression_tree(), regression_tree()];
        let forest = Trees::new(&regression(TreeCombine::Mean, forest), 2, "c").unwrap();
        assert!(forest.is_regression());
        assert_eq!(forest.predict(&sparse(&[])).scores, vec![(1.5 + 1.5 + 1.5) / 3.0]);
    }

    #[test]
    fn regression_trees_are_validated_as_regressors() {
        let mut wide = regression_tree();
        wide.leaf_values[1] = vec![0.5, 0.5];
        let error = Trees::new(&regression(TreeCombine::Single, vec![wide]), 2, "c");
        assert!(error.unwrap_err().to_string().contains("leaf_values[1]"));
        let mut classes = regression_tree();
        classes.leaf_class = vec![0, 0, 1];
        let error = Trees::new(&regression(TreeCombine::Single, vec![classes]), 2, "c");
        assert!(error.unwrap_err().to_string().contains("no leaf classes"));
        let mut negative = regression_tree();
        negative.leaf_values[0] = vec![-7.0];
        assert!(Trees::new(&regression(TreeCombine::Single, vec![negative]), 2, "c").is_ok());
    }
}
