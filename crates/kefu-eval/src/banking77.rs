//! Loader for the BANKING77 intent data set as an FAQ-retrieval benchmark.
//!
//! BANKING77 (Casanueva et al. 2020, "Efficient Intent Detection with Dual Sentence Encoders",
//! arXiv:2003.04807, CC BY 4.0) holds real customer questions to a bank labelled with 77
//! intents. Read as a knowledge base, every intent is an FAQ entry and every training question
//! is one of its phrasings; the test questions are the visitor questions, and a hit is an answer
//! from the entry of the question's intent. Files are CSV with a `text,category` header.

use std::path::{Path, PathBuf};

use kefu_kb::FaqExample;

use crate::suite::{SuiteError, SuiteRow};

/// BANKING77 as knowledge plus suite.
#[derive(Debug, Clone)]
pub struct Banking77 {
    /// Phrasings from `train.csv`, with the intent as entry id.
    pub knowledge: Vec<FaqExample>,
    /// Questions from `test.csv`, each expecting the entry of its intent.
    pub suite: Vec<SuiteRow>,
}

/// Loads `train.csv` and `test.csv` from `dir`.
///
/// # Errors
/// [`SuiteError`] when a file is missing or a row does not have exactly a text and a category.
pub fn load_banking77(dir: &Path) -> Result<Banking77, SuiteError> {
    let knowledge = read_pairs(&dir.join("train.csv"))?
        .into_iter()
        .map(|(text, category)| FaqExample {
            entry_id: category,
            text,
        })
        .collect();
    let suite = read_pairs(&dir.join("test.csv"))?
        .into_iter()
        .map(|(question, category)| SuiteRow {
            question,
            expected_entry_ids: vec![category.clone()],
            intent: Some(category),
            keywords: Vec::new(),
            should_handoff: None,
        })
        .collect();
    Ok(Banking77 { knowledge, suite })
}

/// Reads `text,category` rows.
fn read_pairs(path: &Path) -> Result<Vec<(String, String)>, SuiteError> {
    let owned = || PathBuf::from(path);
    let text = std::fs::read_to_string(path).map_err(|source| SuiteError::Io {
        path: owned(),
        source,
    })?;
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .from_reader(text.as_bytes());
    let mut pairs = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|e| SuiteError::Parse {
            path: owned(),
            line: e.position().map_or(0, csv::Position::line),
            message: e.to_string(),
        })?;
        let line = record.position().map_or(0, csv::Position::line);
        match (record.get(0), record.get(1)) {
            (Some(text), Some(category)) if record.len() == 2 && !category.trim().is_empty() => {
                pairs.push((text.to_owned(), category.trim().to_owned()));
            }
            _ => {
                return Err(SuiteError::Parse {
                    path: owned(),
                    line,
                    message: "expected two fields: text,category".to_owned(),
                });
            }
        }
    }
    Ok(pairs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loads_train_and_test() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("train.csv"),
            "text,category\nWhere is my card?,card_arrival\n\"Lost it, help\",lost_card\n",
        )
        .unwrap();
        std::fs::write(
            dir.path().join("test.csv"),
            "text,category\ncard not here,card_arrival\n",
        )
        .unwrap();
        let data = load_banking77(dir.path()).unwrap();
        assert_eq!(data.knowledge.len(), 2);
        assert_eq!(
            data.knowledge[1],
            FaqExample::new("lost_card", "Lost it, help")
        );
        assert_eq!(data.suite[0].expected_entry_ids, ["card_arrival"]);
        assert_eq!(data.suite[0].intent.as_deref(), Some("card_arrival"));
    }

    #[test]
    fn missing_category_names_the_line() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("train.csv"), "text,category\na,b\nc,\n").unwrap();
        std::fs::write(dir.path().join("test.csv"), "text,category\n").unwrap();
        let err = load_banking77(dir.path()).unwrap_err();
        assert!(matches!(err, SuiteError::Parse { line: 3, .. }), "{err}");
    }
}
