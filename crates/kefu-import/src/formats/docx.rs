//! Word (.docx) files: paragraphs, headings, list items and tables as Markdown.
//!
//! Headings matter most: they become the chunker's heading paths. Word marks them by paragraph
//! style, whose *id* is localised ("Heading1" in English Word, "1" or "标题1" in Chinese Word)
//! while its *name* is stable ("heading 1"), so the style id is looked up in the document's
//! style table; an explicit outline level is the fallback. Tracked deletions are left out,
//! tracked insertions kept, so the import reads like the document as currently shown.

use docx_rs::{
    DocumentChild, Docx, InsertChild, Paragraph, ParagraphChild, RunChild, StructuredDataTagChild,
    Table, TableCellContent, TableChild, TableRowChild,
};

use crate::document::ImportedDocument;
use crate::error::ImportError;
use crate::formats::file_stem;
use crate::options::ImportOptions;

/// Parses a DOCX file into one article.
pub fn parse(
    bytes: &[u8],
    name: &str,
    _opts: &ImportOptions,
) -> Result<Vec<ImportedDocument>, ImportError> {
    let docx = docx_rs::read_docx(bytes).map_err(|e| ImportError::corrupt("DOCX", e))?;
    let mut writer = Writer {
        docx: &docx,
        blocks: Vec::new(),
        title: None,
    };
    for child in &docx.document.children {
        writer.document_child(child);
    }
    let title = writer.title.clone().unwrap_or_else(|| file_stem(name));
    let body = writer.blocks.join("\n\n");
    Ok(vec![ImportedDocument::article(title, &body, name)])
}

struct Writer<'a> {
    docx: &'a Docx,
    blocks: Vec<String>,
    /// First "Title" or level-1 heading text.
    title: Option<String>,
}

impl Writer<'_> {
    fn document_child(&mut self, child: &DocumentChild) {
        match child {
            DocumentChild::Paragraph(p) => self.paragraph(p),
            DocumentChild::Table(t) => self.table(t),
            DocumentChild::StructuredDataTag(sdt) => {
                for c in &sdt.children {
                    match c {
                        StructuredDataTagChild::Paragraph(p) => self.paragraph(p),
                        StructuredDataTagChild::Table(t) => self.table(t),
                        _ => {}
                    }
                }
            }
            // A table of contents repeats the headings; it is navigation, not knowledge.
            _ => {}
        }
    }

    fn paragraph(&mut self, p: &Paragraph) {
        let text = paragraph_text(p);
        let text = text.trim();
        if text.is_empty() {
            return;
        }
        let single_line = text.split_whitespace().collect::<Vec<_>>().join(" ");
        if let Some(level) = self.heading_level(p) {
            if self.title.is_none() && level <= 1 {
                self.title = Some(single_line.clone());
            }
            let hashes = "#".repeat(level.clamp(1, 6));
            self.blocks.push(format!("{hashes} {single_line}"));
            return;
        }
        if let Some(numbering) = &p.property.numbering_property {
            let depth = numbering.level.as_ref().map_or(0, |l| l.val);
            let line = format!("{}- {}", "    ".repeat(depth.min(8)), single_line);
            // Consecutive list paragraphs form one Markdown list, not separate paragraphs.
            if let Some(last) = self.blocks.last_mut()
                && last.trim_start().starts_with("- ")
            {
                last.push('\n');
                last.push_str(&line);
                return;
            }
            self.blocks.push(line);
            return;
        }
        self.blocks.push(text.to_string());
    }

    /// Heading level (1-based; "Title" counts as 1) from the paragraph's style or outline level.
    fn heading_level(&self, p: &Paragraph) -> Option<usize> {
        if let Some(style) = &p.property.style {
            let id = style.val.as_str();
            let declared = self.docx.styles.styles.iter().find(|s| s.style_id == id);
            if let Some(s) = declared {
                if let Some(n) = s.name.get_heading_number() {
                    return Some(n);
                }
                if s.name.starts_with("Title") || s.name.starts_with("title") {
                    return Some(1);
                }
            }
            if let Some(n) = heading_number_from_id(id) {
                return Some(n);
            }
        }
        p.property
            .outline_lvl
            .as_ref()
            .and_then(|o| (o.v < 9).then_some(o.v + 1))
    }

    fn table(&mut self, table: &Table) {
        let mut rows: Vec<Vec<String>> = Vec::new();
        for TableChild::TableRow(row) in &table.rows {
            let mut cells = Vec::new();
            for TableRowChild::TableCell(cell) in &row.cells {
                let mut parts = Vec::new();
                for content in &cell.children {
                    match content {
                        TableCellContent::Paragraph(p) => parts.push(paragraph_text(p)),
                        TableCellContent::Table(inner) => parts.push(flat_table_text(inner)),
                        _ => {}
                    }
                }
                let text = parts
                    .join(" ")
                    .split_whitespace()
                    .collect::<Vec<_>>()
                    .join(" ");
                cells.push(text.replace('|', "\\|"));
            }
            if cells.iter().any(|c| !c.is_empty()) {
                rows.push(cells);
            }
        }
        let Some(columns) = rows.iter().map(Vec::len).max() else {
            return;
        };
        let mut lines = Vec::with_capacity(rows.len() + 1);
        for (i, mut row) in rows.into_iter().enumerate() {
            row.resize(columns, String::new());
            lines.push(format!("| {} |", row.join(" | ")));
            if i == 0 {
                lines.push(format!("|{}", " --- |".repeat(columns)));
            }
        }
        self.blocks.push(lines.join("\n"));
    }
}

/// "Heading1", "heading 2", "标题3" → the number; other ids → None.
fn heading_number_from_id(id: &str) -> Option<usize> {
    let lower = id.to_lowercase();
    let rest = lower
        .strip_prefix("heading")
        .or_else(|| lower.strip_prefix("标题"))?;
    rest.trim()
        .parse::<usize>()
        .ok()
        .filter(|n| (1..=9).contains(n))
}

fn flat_table_text(table: &Table) -> String {
    let mut parts = Vec::new();
    for TableChild::TableRow(row) in &table.rows {
        for TableRowChild::TableCell(cell) in &row.cells {
            for content in &cell.children {
                if let TableCellContent::Paragraph(p) = content {
                    parts.push(paragraph_text(p));
                }
            }
        }
    }
    parts.join(" ")
}

fn paragraph_text(p: &Paragraph) -> String {
    let mut out = String::new();
    for child in &p.children {
        paragraph_child_text(child, &mut out);
    }
    out
}

fn paragraph_child_text(child: &ParagraphChild, out: &mut String) {
    match child {
        ParagraphChild::Run(run) => run_text(&run.children, out),
        ParagraphChild::Insert(ins) => {
            for c in &ins.children {
                if let InsertChild::Run(run) = c {
                    run_text(&run.children, out);
                }
            }
        }
        ParagraphChild::Hyperlink(link) => {
            for c in &link.children {
                paragraph_child_text(c, out);
            }
        }
        ParagraphChild::StructuredDataTag(sdt) => {
            for c in &sdt.children {
                match c {
                    StructuredDataTagChild::Run(run) => run_text(&run.children, out),
                    StructuredDataTagChild::Paragraph(p) => out.push_str(&paragraph_text(p)),
                    _ => {}
                }
            }
        }
        _ => {}
    }
}

fn run_text(children: &[RunChild], out: &mut String) {
    for c in children {
        match c {
            RunChild::Text(t) => out.push_str(&t.text),
            RunChild::Tab(_) | RunChild::PTab(_) => out.push(' '),
            RunChild::Break(_) | RunChild::CarriageReturn(_) => out.push('\n'),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn heading_ids() {
        assert_eq!(heading_number_from_id("Heading2"), Some(2));
        assert_eq!(heading_number_from_id("heading 1"), Some(1));
        assert_eq!(heading_number_from_id("标题3"), Some(3));
        assert_eq!(heading_number_from_id("Normal"), None);
    }
}
