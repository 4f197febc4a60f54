//! HTML pages: the readable content as Markdown, without the page chrome.
//!
//! A help-centre page is mostly navigation, headers, footers, sidebars and cookie banners;
//! indexing those makes every page match every question. So we read from `<main>` (or the only
//! `<article>`) when the page has one, and skip chrome elements by tag (nav, aside, form, …),
//! by ARIA role, and by class/id words such as `menu`, `sidebar` or `cookie`. What remains is
//! written as Markdown blocks: headings, paragraphs, lists (nested), tables and code, which is
//! what the chunker understands.

use scraper::{ElementRef, Html, Node};

use crate::decode::decode_text;
use crate::document::{ImportedDocument, is_han};
use crate::error::ImportError;
use crate::formats::file_stem;
use crate::options::ImportOptions;

/// Stands for a `<br>` while text is collected, so whitespace collapsing keeps it as a newline.
const BR: char = '\u{2028}';

/// Elements that never hold readable content.
const NEVER_CONTENT: &[&str] = &[
    "script", "style", "noscript", "template", "svg", "canvas", "iframe", "object", "embed",
    "head", "img", "video", "audio", "picture", "input", "select", "textarea", "button",
];

/// Page-chrome elements, skipped when boilerplate stripping is on.
const CHROME_TAGS: &[&str] = &["nav", "aside", "form", "dialog", "menu"];

/// Words in a class or id that mark page chrome.
const CHROME_WORDS: &[&str] = &[
    "nav",
    "navbar",
    "navigation",
    "menu",
    "menubar",
    "sidebar",
    "breadcrumb",
    "breadcrumbs",
    "cookie",
    "cookies",
    "consent",
    "gdpr",
    "footer",
    "header",
    "masthead",
    "banner",
    "toolbar",
    "share",
    "social",
    "advert",
    "ads",
    "sponsor",
    "newsletter",
    "subscribe",
    "popup",
    "skip",
];

/// ARIA roles of page chrome.
const CHROME_ROLES: &[&str] = &[
    "navigation",
    "banner",
    "contentinfo",
    "complementary",
    "search",
    "menu",
    "menubar",
    "dialog",
];

/// Parses an HTML page into one article.
pub fn parse(
    bytes: &[u8],
    name: &str,
    opts: &ImportOptions,
) -> Result<Vec<ImportedDocument>, ImportError> {
    let (text, warning) = decode_text(bytes);
    let html = Html::parse_document(&text);
    let root = html.root_element();
    let title = find_all(root, "title")
        .first()
        .map(|t| collapse(&collect_text(*t)))
        .filter(|t| !t.is_empty())
        .or_else(|| {
            find_all(root, "h1")
                .first()
                .map(|h| collapse(&collect_text(*h)))
                .filter(|t| !t.is_empty())
        })
        .unwrap_or_else(|| file_stem(name));

    let content_root = pick_content_root(root, opts.html_strip_boilerplate);
    let mut converter = Converter {
        blocks: Vec::new(),
        inline: String::new(),
        strip: opts.html_strip_boilerplate,
    };
    let in_content = matches!(content_root.value().name(), "main" | "article");
    converter.walk(content_root, in_content);
    converter.flush();
    let body = converter.blocks.join("\n\n");
    let doc =
        ImportedDocument::article(title, &body, name).with_warnings(warning.into_iter().collect());
    Ok(vec![doc])
}

/// `<main>` or a single `<article>` when the page marks its content, else `<body>`.
fn pick_content_root(root: ElementRef<'_>, strip: bool) -> ElementRef<'_> {
    if strip {
        for tag in ["main", "article"] {
            let found = find_all(root, tag);
            if found.len() == 1 {
                return found[0];
            }
        }
    }
    find_all(root, "body").first().copied().unwrap_or(root)
}

fn find_all<'a>(root: ElementRef<'a>, tag: &str) -> Vec<ElementRef<'a>> {
    root.descendent_elements()
        .filter(|e| e.value().name() == tag)
        .collect()
}

struct Converter {
    blocks: Vec<String>,
    /// Raw inline text (with [`BR`] marks) of the paragraph being gathered.
    inline: String,
    strip: bool,
}

impl Converter {
    fn walk(&mut self, el: ElementRef<'_>, in_content: bool) {
        for child in el.children() {
            match child.value() {
                Node::Text(t) => self.inline.push_str(t),
                Node::Element(_) => {
                    if let Some(child_el) = ElementRef::wrap(child) {
                        self.element(child_el, in_content);
                    }
                }
                _ => {}
            }
        }
    }

    fn element(&mut self, el: ElementRef<'_>, in_content: bool) {
        let tag = el.value().name();
        if self.skip(el, in_content) {
            return;
        }
        match tag {
            "h1" | "h2" | "h3" | "h4" | "h5" | "h6" => {
                self.flush();
                let level = usize::from(tag.as_bytes()[1] - b'0');
                let text = collapse(&collect_text(el)).replace('\n', " ");
                if !text.is_empty() {
                    self.blocks.push(format!("{} {}", "#".repeat(level), text));
                }
            }
            "p" => {
                self.flush();
                self.push_paragraph(&collect_text(el));
            }
            "ul" | "ol" => {
                self.flush();
                let mut lines = Vec::new();
                self.render_list(el, 0, &mut lines);
                if !lines.is_empty() {
                    self.blocks.push(lines.join("\n"));
                }
            }
            "table" => {
                self.flush();
                if let Some(table) = self.render_table(el) {
                    self.blocks.push(table);
                }
            }
            "pre" => {
                self.flush();
                let code = el.text().collect::<String>();
                let code = code.trim_matches('\n');
                if !code.trim().is_empty() {
                    self.blocks.push(format!("```\n{code}\n```"));
                }
            }
            "blockquote" => {
                self.flush();
                let mut inner = Converter {
                    blocks: Vec::new(),
                    inline: String::new(),
                    strip: self.strip,
                };
                inner.walk(el, in_content);
                inner.flush();
                let quoted: Vec<String> = inner
                    .blocks
                    .join("\n\n")
                    .lines()
                    .map(|l| {
                        if l.is_empty() {
                            ">".to_string()
                        } else {
                            format!("> {l}")
                        }
                    })
                    .collect();
                if !quoted.is_empty() {
                    self.blocks.push(quoted.join("\n"));
                }
            }
            "dl" => {
                self.flush();
                for item in el.child_elements() {
                    let text = collapse(&collect_text(item));
                    if text.is_empty() {
                        continue;
                    }
                    match item.value().name() {
                        "dt" => self.blocks.push(format!("**{text}**")),
                        _ => self.blocks.push(text),
                    }
                }
            }
            "br" => self.inline.push(BR),
            "hr" => self.flush(),
            _ if is_inline(tag) => self.inline.push_str(&collect_text(el)),
            _ => {
                // A block container (div, section, …): its loose text is its own paragraph.
                self.flush();
                let in_content = in_content || matches!(tag, "main" | "article");
                self.walk(el, in_content);
                self.flush();
            }
        }
    }

    fn skip(&self, el: ElementRef<'_>, in_content: bool) -> bool {
        let e = el.value();
        let tag = e.name();
        if NEVER_CONTENT.contains(&tag) || e.attr("hidden").is_some() {
            return true;
        }
        if e.attr("aria-hidden") == Some("true") {
            return true;
        }
        if !self.strip || matches!(tag, "main" | "article" | "body" | "html") {
            return false;
        }
        if CHROME_TAGS.contains(&tag) {
            return true;
        }
        // An article's own <header> carries its title; the page's <header> is chrome.
        if (tag == "header" && !in_content) || tag == "footer" {
            return true;
        }
        if let Some(role) = e.attr("role")
            && CHROME_ROLES.contains(&role.trim().to_ascii_lowercase().as_str())
        {
            return true;
        }
        e.classes()
            .chain(e.id())
            .any(|name| has_chrome_word(name, in_content))
    }

    fn push_paragraph(&mut self, raw: &str) {
        let text = collapse(raw);
        if !text.is_empty() {
            self.blocks.push(text);
        }
    }

    fn flush(&mut self) {
        let raw = std::mem::take(&mut self.inline);
        self.push_paragraph(&raw);
    }

    fn render_list(&self, list: ElementRef<'_>, depth: usize, lines: &mut Vec<String>) {
        let ordered = list.value().name() == "ol";
        let mut number = list
            .value()
            .attr("start")
            .and_then(|s| s.trim().parse::<usize>().ok())
            .unwrap_or(1);
        for item in list.child_elements() {
            if item.value().name() != "li" || self.skip(item, true) {
                continue;
            }
            let mut raw = String::new();
            let mut nested = Vec::new();
            for child in item.children() {
                match child.value() {
                    Node::Text(t) => raw.push_str(t),
                    Node::Element(e) => {
                        let Some(child_el) = ElementRef::wrap(child) else {
                            continue;
                        };
                        if self.skip(child_el, true) {
                            continue;
                        }
                        match e.name() {
                            "ul" | "ol" => nested.push(child_el),
                            "br" => raw.push(BR),
                            name if is_inline(name) => raw.push_str(&collect_text(child_el)),
                            _ => {
                                raw.push(' ');
                                raw.push_str(&collect_text(child_el));
                                raw.push(' ');
                            }
                        }
                    }
                    _ => {}
                }
            }
            let text = collapse(&raw).replace('\n', " ");
            let indent = "    ".repeat(depth);
            if !text.is_empty() {
                let marker = if ordered {
                    format!("{number}.")
                } else {
                    "-".to_string()
                };
                lines.push(format!("{indent}{marker} {text}"));
                number += 1;
            }
            for sub in nested {
                self.render_list(sub, depth + 1, lines);
            }
        }
    }

    fn render_table(&self, table: ElementRef<'_>) -> Option<String> {
        let mut rows: Vec<Vec<String>> = Vec::new();
        for row in table.descendent_elements() {
            if row.value().name() != "tr" {
                continue;
            }
            let cells: Vec<String> = row
                .child_elements()
                .filter(|c| matches!(c.value().name(), "td" | "th"))
                .map(|c| {
                    collapse(&collect_text(c))
                        .replace('\n', " ")
                        .replace('|', "\\|")
                })
                .collect();
            if cells.iter().any(|c| !c.is_empty()) {
                rows.push(cells);
            }
        }
        let columns = rows.iter().map(Vec::len).max()?;
        if columns == 0 {
            return None;
        }
        let mut out = Vec::with_capacity(rows.len() + 1);
        for (i, row) in rows.iter().enumerate() {
            let mut cells = row.clone();
            cells.resize(columns, String::new());
            out.push(format!("| {} |", cells.join(" | ")));
            if i == 0 {
                out.push(format!("|{}", " --- |".repeat(columns)));
            }
        }
        Some(out.join("\n"))
    }
}

fn has_chrome_word(name: &str, in_content: bool) -> bool {
    let lower = name.to_ascii_lowercase();
    lower
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        // Inside the content area a "header" class is usually a section heading wrapper.
        .any(|w| CHROME_WORDS.contains(&w) && !(in_content && w == "header"))
}

fn is_inline(tag: &str) -> bool {
    matches!(
        tag,
        "a" | "abbr"
            | "b"
            | "bdi"
            | "bdo"
            | "cite"
            | "code"
            | "data"
            | "del"
            | "dfn"
            | "em"
            | "font"
            | "i"
            | "ins"
            | "kbd"
            | "label"
            | "mark"
            | "q"
            | "s"
            | "samp"
            | "small"
            | "span"
            | "strike"
            | "strong"
            | "sub"
            | "sup"
            | "time"
            | "tt"
            | "u"
            | "var"
            | "wbr"
    )
}

/// All text under `el` (skipping script/style), with `<br>` as [`BR`].
fn collect_text(el: ElementRef<'_>) -> String {
    let mut out = String::new();
    collect_into(el, &mut out);
    out
}

fn collect_into(el: ElementRef<'_>, out: &mut String) {
    for child in el.children() {
        match child.value() {
            Node::Text(t) => out.push_str(t),
            Node::Element(e) => {
                if e.name() == "br" {
                    out.push(BR);
                } else if !NEVER_CONTENT.contains(&e.name())
                    && let Some(child_el) = ElementRef::wrap(child)
                {
                    collect_into(child_el, out);
                }
            }
            _ => {}
        }
    }
}

/// HTML whitespace rules: runs become one space, `<br>` becomes a newline, and a line break
/// between two Chinese characters disappears (it was only source formatting, and a space
/// inside a Chinese sentence would be wrong).
fn collapse(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    let mut pending_space = false;
    let mut pending_had_newline = false;
    for c in raw.chars() {
        if c == BR {
            while out.ends_with(' ') {
                out.pop();
            }
            out.push('\n');
            pending_space = false;
            continue;
        }
        if c.is_whitespace() && c != '\u{3000}' {
            pending_space = true;
            pending_had_newline |= c == '\n';
            continue;
        }
        if pending_space {
            let prev = out.chars().last();
            let joins_han = pending_had_newline && prev.is_some_and(is_cjk_text) && is_cjk_text(c);
            if !out.is_empty() && !out.ends_with('\n') && !joins_han {
                out.push(' ');
            }
        }
        pending_space = false;
        pending_had_newline = false;
        out.push(c);
    }
    out.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join("\n")
}

fn is_cjk_text(c: char) -> bool {
    is_han(c) || matches!(c, '\u{3000}'..='\u{303f}' | '\u{ff00}'..='\u{ffef}')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn collapse_rules() {
        assert_eq!(collapse("  a \n b  "), "a b");
        assert_eq!(collapse("退款\n    政策"), "退款政策");
        assert_eq!(collapse(&format!("line1 {BR} line2")), "line1\nline2");
    }

    #[test]
    fn chrome_words_are_whole_tokens() {
        assert!(has_chrome_word("site-footer", false));
        assert!(has_chrome_word("mainMenu menu", false));
        assert!(!has_chrome_word("navigate-to", false));
        assert!(!has_chrome_word("section-header", true));
    }

    #[test]
    fn nested_lists_and_tables() {
        let html = "<body><ul><li>One<ul><li>Sub</li></ul></li><li>Two</li></ul>\
                    <table><tr><th>A</th><th>B|C</th></tr><tr><td>1</td></tr></table></body>";
        let docs = parse(html.as_bytes(), "x.html", &ImportOptions::default()).unwrap();
        assert_eq!(
            docs[0].body_markdown,
            "- One\n    - Sub\n- Two\n\n| A | B\\|C |\n| --- | --- |\n| 1 |  |"
        );
    }
}
