//! Test fixtures made by the tests themselves: DOCX via docx-rs's writer, XLSX via
//! rust_xlsxwriter, PDF via lopdf. Nothing here is downloaded.

use std::io::Cursor;

use docx_rs::{Docx, Paragraph, Run, Style, StyleType, Table, TableCell, TableRow};
use lopdf::content::{Content, Operation};
use lopdf::{Document, Object, Stream, dictionary};

/// One block of a generated Word document.
pub enum DocxBlock<'a> {
    /// Paragraph with the given style id (None = Normal).
    Para(Option<&'a str>, &'a str),
    /// Table, first row is the header.
    Table(Vec<Vec<&'a str>>),
}

/// A DOCX declaring English ("Heading1") and Chinese-Word-style ("2" named "heading 2") heading
/// styles, so both lookup paths are exercised.
pub fn docx(blocks: &[DocxBlock<'_>]) -> Vec<u8> {
    let mut doc = Docx::new()
        .add_style(Style::new("Heading1", StyleType::Paragraph).name("Heading 1"))
        .add_style(Style::new("2", StyleType::Paragraph).name("heading 2"));
    for block in blocks {
        doc = match block {
            DocxBlock::Para(style, text) => {
                let mut p = Paragraph::new().add_run(Run::new().add_text(*text));
                if let Some(style) = style {
                    p = p.style(style);
                }
                doc.add_paragraph(p)
            }
            DocxBlock::Table(rows) => {
                let rows = rows
                    .iter()
                    .map(|cells| {
                        TableRow::new(
                            cells
                                .iter()
                                .map(|c| {
                                    TableCell::new().add_paragraph(
                                        Paragraph::new().add_run(Run::new().add_text(*c)),
                                    )
                                })
                                .collect(),
                        )
                    })
                    .collect();
                doc.add_table(Table::new(rows))
            }
        };
    }
    let mut buf = Cursor::new(Vec::new());
    doc.build().pack(&mut buf).unwrap();
    buf.into_inner()
}

/// An XLSX with one worksheet per `(sheet name, rows)`; cells are strings.
pub fn xlsx(sheets: &[(&str, Vec<Vec<&str>>)]) -> Vec<u8> {
    let mut wb = rust_xlsxwriter::Workbook::new();
    for (name, rows) in sheets {
        let ws = wb.add_worksheet();
        ws.set_name(*name).unwrap();
        for (r, row) in rows.iter().enumerate() {
            for (c, cell) in row.iter().enumerate() {
                if !cell.is_empty() {
                    ws.write_string(r as u32, c as u16, *cell).unwrap();
                }
            }
        }
    }
    wb.save_to_buffer().unwrap()
}

/// A PDF whose pages each show the given lines in Helvetica (a real text layer).
pub fn pdf(pages: &[&[&str]]) -> Vec<u8> {
    let mut doc = Document::with_version("1.5");
    let pages_id = doc.new_object_id();
    let font_id = doc.add_object(dictionary! {
        "Type" => "Font",
        "Subtype" => "Type1",
        "BaseFont" => "Helvetica",
    });
    let resources_id = doc.add_object(dictionary! {
        "Font" => dictionary! { "F1" => font_id },
    });
    let mut kids = Vec::new();
    for lines in pages {
        let mut ops = vec![
            Operation::new("BT", vec![]),
            Operation::new("Tf", vec!["F1".into(), 12.into()]),
            Operation::new("TL", vec![16.into()]),
            Operation::new("Td", vec![72.into(), 760.into()]),
        ];
        for line in *lines {
            ops.push(Operation::new("Tj", vec![Object::string_literal(*line)]));
            ops.push(Operation::new("T*", vec![]));
        }
        ops.push(Operation::new("ET", vec![]));
        let content = Content { operations: ops };
        let content_id = doc.add_object(Stream::new(dictionary! {}, content.encode().unwrap()));
        let page_id = doc.add_object(dictionary! {
            "Type" => "Page",
            "Parent" => pages_id,
            "Contents" => content_id,
        });
        kids.push(Object::from(page_id));
    }
    let count = kids.len() as i64;
    doc.objects.insert(
        pages_id,
        Object::Dictionary(dictionary! {
            "Type" => "Pages",
            "Kids" => kids,
            "Count" => count,
            "Resources" => resources_id,
            "MediaBox" => vec![0.into(), 0.into(), 595.into(), 842.into()],
        }),
    );
    let catalog_id = doc.add_object(dictionary! {
        "Type" => "Catalog",
        "Pages" => pages_id,
    });
    doc.trailer.set("Root", catalog_id);
    let mut out = Vec::new();
    doc.save_to(&mut out).unwrap();
    out
}
