//! Training data: `label<TAB>text`, one document per line, UTF-8. The label is everything before
//! the first tab, the text everything after it (further tabs included); a trailing `\r` is
//! dropped and blank lines are skipped. A bad line is an error naming the line number.

use std::io::BufRead;

use crate::TrainError;

/// Labelled documents, in input order.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Dataset {
    pub labels: Vec<String>,
    pub texts: Vec<String>,
}

impl Dataset {
    /// Reads `label<TAB>text` lines; `source_name` (a path, or "standard input") names the input
    /// in error messages.
    pub fn read_tsv(reader: impl BufRead, source_name: &str) -> Result<Dataset, TrainError> {
        Dataset::read_lines(reader, source_name, false)
    }

    /// Reads `label1,label2<TAB>text` lines of multi-label data, where a text may have no
    /// label (an empty field); [`Dataset::label_sets`] splits the fields.
    pub fn read_tsv_label_sets(
        reader: impl BufRead,
        source_name: &str,
    ) -> Result<Dataset, TrainError> {
        Dataset::read_lines(reader, source_name, true)
    }

    fn read_lines(
        reader: impl BufRead,
        source_name: &str,
        empty_labels: bool,
    ) -> Result<Dataset, TrainError> {
        let mut data = Dataset::default();
        for (index, line) in reader.split(b'\n').enumerate() {
            let number = index + 1;
            let mut line = line.map_err(|error| TrainError::Io {
                source_name: format!("{source_name} (at line {number})"),
                error,
            })?;
            if line.last() == Some(&b'\r') {
                line.pop();
            }
            if line.is_empty() {
                continue;
            }
            let bad = |reason: String| TrainError::Data {
                source_name: source_name.to_owned(),
                line: number,
                reason,
            };
            let line = String::from_utf8(line).map_err(|error| {
                bad(format!(
                    "not valid UTF-8 (bad byte at column {}); convert the file to UTF-8, \
                     e.g. with iconv",
                    error.utf8_error().valid_up_to() + 1
                ))
            })?;
            let Some((label, text)) = line.split_once('\t') else {
                return Err(bad(format!(
                    "no tab: expected label<TAB>text, found {:?}",
                    preview(&line)
                )));
            };
            if label.trim().is_empty() && !empty_labels {
                return Err(bad("empty label: expected label<TAB>text".to_owned()));
            }
            data.push(label, text);
        }
        Ok(data)
    }

    pub(crate) fn push(&mut self, label: &str, text: &str) {
        self.labels.push(label.to_owned());
        self.texts.push(text.to_owned());
    }

    pub fn len(&self) -> usize {
        self.labels.len()
    }

    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// The distinct labels, sorted as sklearn's `classes_` (`np.unique` on strings).
    pub(crate) fn classes(&self) -> Vec<String> {
        let mut classes = self.labels.clone();
        classes.sort_unstable();
        classes.dedup();
        classes
    }

    /// Multi-label data: each document's labels, its label field split at commas and trimmed
    /// (empty parts dropped, repeats kept once).
    pub fn label_sets(&self) -> Vec<Vec<&str>> {
        self.labels
            .iter()
            .map(|field| {
                let mut set: Vec<&str> = Vec::new();
                for label in field.split(',').map(str::trim).filter(|l| !l.is_empty()) {
                    if !set.contains(&label) {
                        set.push(label);
                    }
                }
                set
            })
            .collect()
    }

    /// The documents at `indices`, in that order.
    pub fn subset(&self, indices: &[usize]) -> Dataset {
        Dataset {
            labels: indices.iter().map(|&i| self.labels[i].clone()).collect(),
            texts: indices.iter().map(|&i| self.texts[i].clone()).collect(),
        }
    }
}

/// The start of a line, for an error message.
fn preview(line: &str) -> String {
    match line.char_indices().nth(60) {
        Some((end, _)) => format!("{}...", &line[..end]),
        None => line.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(bytes: &[u8]) -> Result<Dataset, TrainError> {
        Dataset::read_tsv(bytes, "data.tsv")
    }

    #[test]
    fn reads_labels_and_texts_with_tabs_and_crlf() {
        let data = read(b"a\tone two\r\n\nb\tthree\tfour\nc\t\n").unwrap();
        assert_eq!(data.labels, ["a", "b", "c"]);
        assert_eq!(data.texts, ["one two", "three\tfour", ""]);
        assert_eq!(data.classes(), ["a", "b", "c"]);
    }

    #[test]
    fn a_line_without_tab_is_named() {
        let error = read(b"a\tfine\nno tab here\n").unwrap_err().to_string();
        assert_eq!(
            error,
            "data.tsv, line 2: no tab: expected label<TAB>text, found \"no tab here\""
        );
    }

    #[test]
    fn invalid_utf8_is_named() {
        let error = read(b"a\tfine\na\tfine\nb\tcaf\xe9\n").unwrap_err().to_string();
        assert!(error.starts_with("data.tsv, line 3: not valid UTF-8"), "{error}");
    }

    #[test]
    fn an_empty_label_is_named() {
        let error = read(b"a\tfine\n\ttext without label\n").unwrap_err().to_string();
        assert_eq!(error, "data.tsv, line 2: empty label: expected label<TAB>text");
    }

    #[test]
    fn label_sets_may_be_empty_and_are_split_at_commas() {
        let bytes = b"web, python,web\tDjango app\n\tno tags\nsecurity\tCVE\n";
        let data = Dataset::read_tsv_label_sets(&bytes[..], "tags.tsv").unwrap();
        assert_eq!(data.label_sets(), vec![vec!["web", "python"], vec![], vec!["security"]]);
    }
}
