//! Markdown files: kept as Markdown, since that is already the body format.
//!
//! pulldown-cmark is used only to read structure: the title (front matter `title:`, else the
//! first top-level heading) and where a YAML front-matter block ends, so that block (metadata,
//! not knowledge) is left out of the body.

use pulldown_cmark::{Event, HeadingLevel, MetadataBlockKind, Options, Parser, Tag, TagEnd};

use crate::decode::decode_text;
use crate::document::ImportedDocument;
use crate::error::ImportError;
use crate::formats::file_stem;
use crate::options::ImportOptions;

/// Parses a Markdown file into one article.
pub fn parse(
    bytes: &[u8],
    name: &str,
    _opts: &ImportOptions,
) -> Result<Vec<ImportedDocument>, ImportError> {
    let (text, warning) = decode_text(bytes);
    let (front_title, body) = split_front_matter(&text);
    let title = front_title
        .or_else(|| first_heading(body))
        .unwrap_or_else(|| file_stem(name));
    let doc =
        ImportedDocument::article(title, body, name).with_warnings(warning.into_iter().collect());
    Ok(vec![doc])
}

/// Returns the front-matter title (if any) and the text after the front matter.
fn split_front_matter(text: &str) -> (Option<String>, &str) {
    let parser =
        Parser::new_ext(text, Options::ENABLE_YAML_STYLE_METADATA_BLOCKS).into_offset_iter();
    let mut title = None;
    let mut in_meta = false;
    for (event, range) in parser {
        match event {
            Event::Start(Tag::MetadataBlock(MetadataBlockKind::YamlStyle)) => in_meta = true,
            Event::Text(meta) if in_meta => {
                title = meta.lines().find_map(|line| {
                    let value = line.trim().strip_prefix("title:")?;
                    let value = value.trim().trim_matches(['"', '\'']).trim();
                    (!value.is_empty()).then(|| value.to_string())
                });
            }
            Event::End(TagEnd::MetadataBlock(_)) => {
                return (title, text.get(range.end..).unwrap_or_default());
            }
            // Front matter can only be the very first block.
            _ if !in_meta => return (None, text),
            _ => {}
        }
    }
    (None, text)
}

/// Text of the first heading, preferring a level-1 heading.
pub(crate) fn first_heading(text: &str) -> Option<String> {
    let mut best: Option<(HeadingLevel, String)> = None;
    let mut current: Option<(HeadingLevel, String)> = None;
    for event in Parser::new_ext(text, Options::ENABLE_TABLES) {
        match event {
            Event::Start(Tag::Heading { level, .. }) => current = Some((level, String::new())),
            Event::Text(t) | Event::Code(t) => {
                if let Some((_, buf)) = current.as_mut() {
                    buf.push_str(&t);
                }
            }
            Event::End(TagEnd::Heading(_)) => {
                if let Some((level, buf)) = current.take() {
                    let buf = buf.trim().to_string();
                    if buf.is_empty() {
                        continue;
                    }
                    if level == HeadingLevel::H1 {
                        return Some(buf);
                    }
                    if best.is_none() {
                        best = Some((level, buf));
                    }
                }
            }
            _ => {}
        }
    }
    best.map(|(_, t)| t)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn front_matter_title_and_body() {
        let src = "---\ntitle: \"Refunds\"\ntags: [a]\n---\n\n# Heading\n\nBody.";
        let docs = parse(src.as_bytes(), "r.md", &ImportOptions::default()).unwrap();
        assert_eq!(docs[0].title, "Refunds");
        assert_eq!(docs[0].body_markdown, "# Heading\n\nBody.");
    }

    #[test]
    fn title_from_h1_else_file_name() {
        assert_eq!(first_heading("## Sub\n\n# Main"), Some("Main".into()));
        let docs = parse(b"just text", "dir/guide.md", &ImportOptions::default()).unwrap();
        assert_eq!(docs[0].title, "guide");
    }
}
