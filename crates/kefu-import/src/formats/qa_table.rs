//! Q&A tables: CSV/TSV and spreadsheets with one FAQ entry per row.
//!
//! Teams keep FAQs in Excel with headers in English or Chinese, so columns are found by name
//! (question/问题, answer/答案, alternatives/相似问题, category/分类, with common variants and
//! "(必填)"-style suffixes), not by position. A bad row (no question, no answer, a duplicate)
//! is skipped with a per-row warning so one typo never loses the other 500 rows. Cells are
//! trimmed; line breaks inside a cell are kept, since answers are often several lines.

use std::collections::HashMap;
use std::io::Cursor;

use calamine::Reader;

use crate::decode::decode_text;
use crate::document::{ImportWarning, ImportedDocument, QaPair};
use crate::error::ImportError;
use crate::formats::{Format, detect_format, extension, file_stem};
use crate::options::ImportOptions;

/// Parses a CSV/TSV or spreadsheet of Q&A pairs; one document per sheet that has Q&A columns.
pub fn parse(
    bytes: &[u8],
    name: &str,
    _opts: &ImportOptions,
) -> Result<Vec<ImportedDocument>, ImportError> {
    if detect_format(name, bytes) == Some(Format::Xlsx) {
        parse_spreadsheet(bytes, name)
    } else {
        parse_csv(bytes, name)
    }
}

fn parse_csv(bytes: &[u8], name: &str) -> Result<Vec<ImportedDocument>, ImportError> {
    let (text, decode_warning) = decode_text(bytes);
    let delimiter = if extension(name) == "tsv" {
        b'\t'
    } else {
        sniff_delimiter(&text)
    };
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(delimiter)
        .from_reader(text.as_bytes());
    let mut rows = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|e| ImportError::corrupt("CSV", e))?;
        rows.push(record.iter().map(str::to_string).collect::<Vec<_>>());
    }
    let (pairs, mut warnings) = pairs_from_rows(&rows)?;
    warnings.splice(0..0, decode_warning);
    Ok(vec![
        ImportedDocument::qa_pairs(file_stem(name), pairs, name).with_warnings(warnings),
    ])
}

/// Picks the delimiter that splits the header line into the most fields.
fn sniff_delimiter(text: &str) -> u8 {
    let first = text
        .lines()
        .find(|l| !l.trim().is_empty())
        .unwrap_or_default();
    [b',', b'\t', b';']
        .into_iter()
        .max_by_key(|d| first.matches(char::from(*d)).count())
        .unwrap_or(b',')
}

fn parse_spreadsheet(bytes: &[u8], name: &str) -> Result<Vec<ImportedDocument>, ImportError> {
    let mut workbook = calamine::open_workbook_auto_from_rs(Cursor::new(bytes))
        .map_err(|e| ImportError::corrupt("spreadsheet", e))?;
    let sheets = workbook.sheet_names();
    let mut docs = Vec::new();
    let mut first_error = None;
    let with_data: Vec<(String, Vec<Vec<String>>)> = sheets
        .iter()
        .filter_map(|sheet| {
            let range = workbook.worksheet_range(sheet).ok()?;
            let rows: Vec<Vec<String>> = range
                .rows()
                .map(|r| r.iter().map(|c| c.to_string()).collect())
                .collect();
            // Keep sheet row numbers matching what the user sees in Excel.
            let offset = range.start().map_or(0, |(row, _)| row as usize);
            let mut padded = vec![Vec::new(); offset];
            padded.extend(rows);
            Some((sheet.clone(), padded))
        })
        .filter(|(_, rows)| rows.iter().any(|r| r.iter().any(|c| !c.trim().is_empty())))
        .collect();
    let several = with_data.len() > 1;
    for (sheet, rows) in with_data {
        match pairs_from_rows(&rows) {
            Ok((pairs, warnings)) => {
                let title = if several {
                    format!("{} / {sheet}", file_stem(name))
                } else {
                    file_stem(name)
                };
                let warnings = warnings
                    .into_iter()
                    .map(|w| ImportWarning {
                        message: if several {
                            format!("sheet {sheet}: {}", w.message)
                        } else {
                            w.message
                        },
                        ..w
                    })
                    .collect();
                docs.push(ImportedDocument::qa_pairs(title, pairs, name).with_warnings(warnings));
            }
            // A sheet of notes next to the FAQ sheet is normal; only fail if no sheet is Q&A.
            Err(e) => {
                first_error.get_or_insert(e);
            }
        }
    }
    match (docs.is_empty(), first_error) {
        (true, Some(e)) => Err(e),
        (true, None) => Err(ImportError::Empty {
            detail: Some("the workbook has no cells".into()),
        }),
        _ => Ok(docs),
    }
}

/// Which column holds what.
#[derive(Debug, Default, PartialEq, Eq)]
struct Columns {
    question: Option<usize>,
    answer: Option<usize>,
    alternatives: Option<usize>,
    category: Option<usize>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Role {
    Question,
    Answer,
    Alternatives,
    Category,
}

/// Exact header names (after [`header_key`]) for each role.
const NAMES: &[(Role, &[&str])] = &[
    (
        Role::Question,
        &[
            "question",
            "questions",
            "q",
            "query",
            "标准问题",
            "问题",
            "标准问",
            "问",
            "提问",
            "题目",
        ],
    ),
    (
        Role::Answer,
        &[
            "answer",
            "answers",
            "a",
            "response",
            "reply",
            "答案",
            "回答",
            "答复",
            "回复",
            "标准答案",
            "答",
        ],
    ),
    (
        Role::Alternatives,
        &[
            "alternatives",
            "alternative",
            "alternativequestions",
            "similarquestions",
            "similarquestion",
            "similar",
            "variants",
            "paraphrases",
            "相似问题",
            "相似问法",
            "相似问",
            "近义问题",
            "同义问题",
            "其他问法",
            "扩展问题",
            "扩展问",
        ],
    ),
    (
        Role::Category,
        &[
            "category",
            "categories",
            "group",
            "topic",
            "分类",
            "类别",
            "类目",
            "分组",
            "主题",
        ],
    ),
];

/// Substrings that identify a role when no exact name matched; alternatives come first
/// because "相似问题" also contains "问题".
const FRAGMENTS: &[(Role, &[&str])] = &[
    (
        Role::Alternatives,
        &["相似", "近义", "同义", "similar", "alternative"],
    ),
    (Role::Question, &["问题", "question"]),
    (Role::Answer, &["答案", "回答", "answer"]),
    (Role::Category, &["分类", "类别", "category"]),
];

/// Lowercases and drops spaces, punctuation and bracketed notes such as "（必填）".
fn header_key(cell: &str) -> String {
    let mut out = String::new();
    let mut depth = 0usize;
    for c in cell.trim().chars() {
        match c {
            '(' | '（' | '[' | '【' => depth += 1,
            ')' | '）' | ']' | '】' => depth = depth.saturating_sub(1),
            _ if depth > 0 => {}
            _ if c.is_alphanumeric() => out.extend(c.to_lowercase()),
            _ => {}
        }
    }
    out
}

fn detect_columns(header: &[String]) -> Columns {
    let keys: Vec<String> = header.iter().map(|h| header_key(h)).collect();
    let mut roles: HashMap<usize, Role> = HashMap::new();
    let assign = |roles: &mut HashMap<usize, Role>,
                  matches: &dyn Fn(&str, &[&str]) -> bool,
                  table: &[(Role, &[&str])]| {
        for (role, names) in table {
            if roles.values().any(|r| r == role) {
                continue;
            }
            if let Some((i, _)) = keys
                .iter()
                .enumerate()
                .find(|(i, k)| !roles.contains_key(i) && !k.is_empty() && matches(k, names))
            {
                roles.insert(i, *role);
            }
        }
    };
    assign(&mut roles, &|k, names| names.contains(&k), NAMES);
    assign(
        &mut roles,
        &|k, names| names.iter().any(|n| k.contains(n)),
        FRAGMENTS,
    );
    let mut cols = Columns::default();
    for (i, role) in roles {
        match role {
            Role::Question => cols.question = Some(i),
            Role::Answer => cols.answer = Some(i),
            Role::Alternatives => cols.alternatives = Some(i),
            Role::Category => cols.category = Some(i),
        }
    }
    cols
}

/// Turns table rows (header first) into pairs and per-row warnings.
fn pairs_from_rows(rows: &[Vec<String>]) -> Result<(Vec<QaPair>, Vec<ImportWarning>), ImportError> {
    let is_blank = |r: &Vec<String>| r.iter().all(|c| c.trim().is_empty());
    let Some(header_index) = rows.iter().position(|r| !is_blank(r)) else {
        return Err(ImportError::Empty {
            detail: Some("the table has no rows".into()),
        });
    };
    let header = &rows[header_index];
    let cols = detect_columns(header);
    let (Some(q_col), Some(a_col)) = (cols.question, cols.answer) else {
        return Err(ImportError::MissingColumns {
            found: header
                .iter()
                .map(|h| h.trim().to_string())
                .filter(|h| !h.is_empty())
                .collect(),
        });
    };
    let cell = |row: &Vec<String>, col: Option<usize>| -> String {
        col.and_then(|c| row.get(c))
            .map(|v| v.replace("\r\n", "\n").trim().to_string())
            .unwrap_or_default()
    };
    let mut pairs = Vec::new();
    let mut warnings = Vec::new();
    let mut seen: HashMap<String, usize> = HashMap::new();
    for (i, row) in rows.iter().enumerate().skip(header_index + 1) {
        let row_number = i + 1;
        if is_blank(row) {
            continue;
        }
        let question = cell(row, Some(q_col));
        let answer = cell(row, Some(a_col));
        match (question.is_empty(), answer.is_empty()) {
            (true, true) => {
                warnings.push(ImportWarning::row(
                    row_number,
                    "no question and no answer; row skipped",
                ));
                continue;
            }
            (true, false) => {
                warnings.push(ImportWarning::row(
                    row_number,
                    "empty question; row skipped",
                ));
                continue;
            }
            (false, true) => {
                warnings.push(ImportWarning::row(row_number, "empty answer; row skipped"));
                continue;
            }
            (false, false) => {}
        }
        let key = question
            .split_whitespace()
            .collect::<String>()
            .to_lowercase();
        if let Some(first) = seen.get(&key) {
            warnings.push(ImportWarning::row(
                row_number,
                format!("duplicate question (first on row {first}); row skipped"),
            ));
            continue;
        }
        seen.insert(key, row_number);
        let alternatives = cell(row, cols.alternatives)
            .split(['|', '｜', '\n'])
            .map(str::trim)
            .filter(|a| !a.is_empty())
            .map(str::to_string)
            .collect();
        let category = Some(cell(row, cols.category)).filter(|c| !c.is_empty());
        pairs.push(QaPair {
            question,
            answer,
            alternatives,
            category,
        });
    }
    Ok((pairs, warnings))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(cells: &[&str]) -> Vec<String> {
        cells.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn header_detection_english_and_chinese() {
        let en = detect_columns(&strings(&[
            "Category",
            "Question",
            "Answer",
            "Similar questions",
        ]));
        assert_eq!(
            en,
            Columns {
                question: Some(1),
                answer: Some(2),
                alternatives: Some(3),
                category: Some(0)
            }
        );
        let zh = detect_columns(&strings(&["问题（必填）", "相似问题", "答案*", "分类"]));
        assert_eq!(
            zh,
            Columns {
                question: Some(0),
                answer: Some(2),
                alternatives: Some(1),
                category: Some(3)
            }
        );
    }

    #[test]
    fn missing_answer_column_is_an_error() {
        let err = pairs_from_rows(&[strings(&["问题", "备注"])]).unwrap_err();
        assert_eq!(err.code(), "missing_columns");
        assert!(err.to_string().contains("备注"));
    }

    #[test]
    fn semicolon_csv_is_sniffed() {
        assert_eq!(sniff_delimiter("question;answer\nq;a"), b';');
        assert_eq!(sniff_delimiter("question,answer"), b',');
    }
}
