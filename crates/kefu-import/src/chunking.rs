//! Structure-respecting chunking of a Markdown body for retrieval.
//!
//! Character-count splitting (what most knowledge-base bots do) cuts Excel rows in half and
//! Chinese sentences mid-word, and the retrieved passage then answers nothing. This chunker
//! cuts at the strongest boundary that keeps a chunk within `max_chars`:
//!
//! 1. headings: a chunk never spans two sections, and carries its heading path;
//! 2. blocks: paragraphs, lists (a whole list when it fits, else between items), code;
//! 3. table rows: never inside a row, with the header row repeated in each continuation chunk;
//! 4. sentences, ending in 。！？；… or . ! ? ; (followed by a space), closing quotes included;
//! 5. then line breaks, clauses (，、：), spaces, and only as a last resort a run of characters.
//!
//! Small pieces are then packed greedily up to `max_chars`; each chunk after the first in a
//! section starts with up to `overlap_chars` of the previous chunk's last whole sentences.
//! All sizes are in characters (`char`s), not bytes, so Chinese and English budgets match.
//!
//! Offsets: `char_start..char_end` is the span of the body a chunk covers, overlap included,
//! and `text` is exactly that slice of the body, except for the continuation of a long table,
//! whose `text` is the header row, a newline, then the slice.

use pulldown_cmark::{Event, Options, Parser, Tag, TagEnd};
use serde::{Deserialize, Serialize};

use crate::document::{DocumentKind, ImportedDocument, render_qa};

/// Chunk size settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ChunkOptions {
    /// Upper bound on a chunk's length in characters (overlap and repeated header included).
    pub max_chars: usize,
    /// How much of the previous chunk to repeat, at most, taken at sentence boundaries.
    pub overlap_chars: usize,
    /// Chunks shorter than this are merged into a neighbour of the same section when they fit.
    pub min_chars: usize,
}

impl Default for ChunkOptions {
    fn default() -> Self {
        ChunkOptions {
            max_chars: 800,
            overlap_chars: 100,
            min_chars: 50,
        }
    }
}

/// One retrievable passage.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Chunk {
    /// Position in the document, from 0.
    pub index: usize,
    /// Headings above this chunk, outermost first, e.g. `["Billing", "Refunds"]`.
    pub heading_path: Vec<String>,
    /// The chunk's text (see the module doc for its relation to the offsets).
    pub text: String,
    /// Start of the covered body span, in characters.
    pub char_start: usize,
    /// End (exclusive) of the covered body span, in characters.
    pub char_end: usize,
}

/// Chunks a document: Q&A documents give one chunk per pair, articles go through [`chunk`].
///
/// A Q&A chunk holds the question, its alternatives and the whole answer even when that is
/// longer than `max_chars`: a question separated from its answer retrieves nothing useful.
pub fn chunk_document(doc: &ImportedDocument, opts: &ChunkOptions) -> Vec<Chunk> {
    let DocumentKind::QaPairs(pairs) = &doc.kind else {
        return chunk(&doc.body_markdown, opts);
    };
    let (body, spans) = render_qa(pairs);
    let idx = CharIndex::new(&body);
    pairs
        .iter()
        .zip(spans)
        .enumerate()
        .map(|(index, (pair, (start, end)))| Chunk {
            index,
            heading_path: pair
                .category
                .iter()
                .cloned()
                .chain(std::iter::once(pair.question.clone()))
                .collect(),
            text: body[start..end].to_string(),
            char_start: idx.char_of(start),
            char_end: idx.char_of(end),
        })
        .collect()
}

/// Splits a Markdown body into chunks (see the module doc for the rules).
pub fn chunk(body: &str, opts: &ChunkOptions) -> Vec<Chunk> {
    let max = opts.max_chars.max(1);
    let opts = ChunkOptions {
        max_chars: max,
        // Overlap beyond half a chunk would make chunks mostly repetition.
        overlap_chars: opts.overlap_chars.min(max / 2),
        min_chars: opts.min_chars.min(max),
    };
    let idx = CharIndex::new(body);
    let mut packer = Packer {
        idx: &idx,
        opts: &opts,
        out: Vec::new(),
        cur: None,
        overlap_src: None,
        path: Vec::new(),
    };
    let blocks = parse_blocks(body);
    let mut headings: Vec<(usize, String)> = Vec::new();
    for (i, block) in blocks.iter().enumerate() {
        let start = if i == 0 { 0 } else { block.start };
        let end = blocks.get(i + 1).map_or(body.len(), |b| b.start);
        let span = idx.trim((start, end));
        if let BlockKind::Heading(level, text) = &block.kind {
            while headings.last().is_some_and(|(l, _)| *l >= *level) {
                headings.pop();
            }
            headings.push((*level, text.clone()));
            packer.new_section(headings.iter().map(|(_, t)| t.clone()).collect());
        }
        if span.0 >= span.1 {
            continue;
        }
        if idx.len(span) <= max {
            packer.push(span, None, None);
            continue;
        }
        match &block.kind {
            BlockKind::List(items) => {
                let mut cuts: Vec<usize> = items
                    .iter()
                    .copied()
                    .filter(|&c| c > span.0 && c < span.1)
                    .collect();
                cuts.push(span.1);
                let mut from = span.0;
                for cut in cuts {
                    let mut pieces = Vec::new();
                    split_to_fit(&idx, (from, cut), max, Level::Sentences, &mut pieces);
                    for p in pieces {
                        packer.push(p, None, None);
                    }
                    from = cut;
                }
            }
            BlockKind::Table => packer.table(span),
            BlockKind::Code => packer.push_split(span, Level::Lines),
            BlockKind::Heading(..) => packer.push_split(span, Level::Words),
            BlockKind::Other => packer.push_split(span, Level::Sentences),
        }
    }
    packer.flush();
    let drafts = merge_small(&idx, packer.out, &opts);
    drafts
        .into_iter()
        .enumerate()
        .map(|(index, d)| {
            let slice = &body[d.start..d.end];
            let text = match d.prefix {
                Some(h) => format!("{}\n{slice}", &body[h.0..h.1]),
                None => slice.to_string(),
            };
            Chunk {
                index,
                heading_path: d.path,
                text,
                char_start: idx.char_of(d.start),
                char_end: idx.char_of(d.end),
            }
        })
        .collect()
}

/// A byte range of the body.
type Span = (usize, usize);

/// Byte ↔ character offsets, so sizes can be counted in characters in O(log n).
struct CharIndex<'a> {
    text: &'a str,
    /// Byte offset of each char; empty when the text is ASCII (then bytes are chars).
    starts: Vec<usize>,
}

impl<'a> CharIndex<'a> {
    fn new(text: &'a str) -> Self {
        let starts = if text.is_ascii() {
            Vec::new()
        } else {
            text.char_indices().map(|(i, _)| i).collect()
        };
        CharIndex { text, starts }
    }

    fn char_of(&self, byte: usize) -> usize {
        if self.starts.is_empty() {
            byte
        } else {
            self.starts.partition_point(|&b| b < byte)
        }
    }

    fn byte_of(&self, ch: usize) -> usize {
        if self.starts.is_empty() {
            ch.min(self.text.len())
        } else {
            self.starts.get(ch).copied().unwrap_or(self.text.len())
        }
    }

    fn len(&self, span: Span) -> usize {
        self.char_of(span.1).saturating_sub(self.char_of(span.0))
    }

    /// Shrinks a span so it neither starts nor ends with whitespace.
    fn trim(&self, (start, end): Span) -> Span {
        let slice = &self.text[start..end];
        let lead = slice.len() - slice.trim_start().len();
        let trimmed = slice.trim();
        (start + lead, start + lead + trimmed.len())
    }
}

#[derive(Debug)]
enum BlockKind {
    Heading(usize, String),
    /// A list, with the byte offsets where its top-level items start.
    List(Vec<usize>),
    Table,
    Code,
    Other,
}

#[derive(Debug)]
struct Block {
    start: usize,
    kind: BlockKind,
}

/// Top-level Markdown blocks in order. Only their start offsets are used: each block runs to
/// the next one's start, so text pulldown-cmark emits no event for (link definitions) is
/// still covered.
fn parse_blocks(text: &str) -> Vec<Block> {
    let options =
        Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH | Options::ENABLE_TASKLISTS;
    let mut blocks: Vec<Block> = Vec::new();
    let mut depth = 0usize;
    for (event, range) in Parser::new_ext(text, options).into_offset_iter() {
        match event {
            Event::Start(tag) => {
                if depth == 0 {
                    let kind = match tag {
                        Tag::Heading { level, .. } => {
                            BlockKind::Heading(level as usize, String::new())
                        }
                        Tag::List(_) => BlockKind::List(Vec::new()),
                        Tag::Table(_) => BlockKind::Table,
                        Tag::CodeBlock(_) => BlockKind::Code,
                        _ => BlockKind::Other,
                    };
                    blocks.push(Block {
                        start: range.start,
                        kind,
                    });
                } else if depth == 1
                    && matches!(tag, Tag::Item)
                    && let Some(Block {
                        kind: BlockKind::List(items),
                        ..
                    }) = blocks.last_mut()
                {
                    items.push(range.start);
                }
                depth += 1;
            }
            Event::End(end) => {
                depth = depth.saturating_sub(1);
                if depth == 0
                    && matches!(end, TagEnd::Heading(_))
                    && let Some(Block {
                        kind: BlockKind::Heading(_, t),
                        ..
                    }) = blocks.last_mut()
                {
                    *t = t.split_whitespace().collect::<Vec<_>>().join(" ");
                }
            }
            Event::Text(t) | Event::Code(t) | Event::InlineMath(t) => {
                if depth > 0
                    && let Some(Block {
                        kind: BlockKind::Heading(_, buf),
                        ..
                    }) = blocks.last_mut()
                {
                    buf.push_str(&t);
                }
            }
            Event::SoftBreak | Event::HardBreak => {
                if let Some(Block {
                    kind: BlockKind::Heading(_, buf),
                    ..
                }) = blocks.last_mut()
                {
                    buf.push(' ');
                }
            }
            _ if depth == 0 => blocks.push(Block {
                start: range.start,
                kind: BlockKind::Other,
            }),
            _ => {}
        }
    }
    blocks.sort_by_key(|b| b.start);
    blocks.dedup_by_key(|b| b.start);
    blocks.retain(|b| text.is_char_boundary(b.start));
    if blocks.is_empty() {
        blocks.push(Block {
            start: 0,
            kind: BlockKind::Other,
        });
    }
    blocks
}

/// Boundary strength for splitting a run of text, strongest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Level {
    Sentences,
    Lines,
    Clauses,
    Words,
    Chars,
}

impl Level {
    fn weaker(self) -> Level {
        match self {
            Level::Sentences => Level::Lines,
            Level::Lines => Level::Clauses,
            Level::Clauses => Level::Words,
            Level::Words | Level::Chars => Level::Chars,
        }
    }
}

fn is_cjk_terminator(c: char) -> bool {
    matches!(c, '。' | '！' | '？' | '；' | '…' | '｡')
}

fn is_ascii_terminator(c: char) -> bool {
    matches!(c, '.' | '!' | '?' | ';')
}

fn is_closer(c: char) -> bool {
    matches!(
        c,
        '"' | '\'' | '”' | '’' | '」' | '』' | '）' | ')' | ']' | '】' | '》' | '〉'
    )
}

/// Byte offsets inside `span` where a new piece starts at the given level.
fn boundaries(text: &str, span: Span, level: Level) -> Vec<usize> {
    let slice = &text[span.0..span.1];
    let mut cuts = Vec::new();
    let mut chars = slice.char_indices().peekable();
    let mut prev_ws = false;
    while let Some((i, c)) = chars.next() {
        match level {
            Level::Sentences | Level::Clauses => {
                let (cjk, ascii) = if level == Level::Sentences {
                    (is_cjk_terminator(c), is_ascii_terminator(c))
                } else {
                    (matches!(c, '，' | '、' | '：'), matches!(c, ',' | ':'))
                };
                if !cjk && !ascii {
                    continue;
                }
                let mut after = i + c.len_utf8();
                let mut cjk_seen = cjk;
                // Absorb "?!", "……" and closing quotes/brackets into the sentence they end.
                while let Some(&(j, d)) = chars.peek() {
                    let terminal = if level == Level::Sentences {
                        is_cjk_terminator(d) || is_ascii_terminator(d)
                    } else {
                        false
                    };
                    if terminal || is_closer(d) {
                        cjk_seen |= is_cjk_terminator(d);
                        after = j + d.len_utf8();
                        chars.next();
                    } else {
                        break;
                    }
                }
                // ASCII punctuation ends a sentence only before a space: not in 3.14 or a URL.
                let next = chars.peek().map(|&(_, d)| d);
                let ends = cjk_seen || next.is_some_and(char::is_whitespace);
                if ends && next.is_some() {
                    cuts.push(span.0 + after);
                }
            }
            Level::Lines => {
                if c == '\n' && chars.peek().is_some() {
                    cuts.push(span.0 + i + 1);
                }
            }
            Level::Words => {
                let ws = c.is_whitespace();
                if prev_ws && !ws {
                    cuts.push(span.0 + i);
                }
                prev_ws = ws;
            }
            Level::Chars => {}
        }
    }
    cuts
}

/// Cuts `span` into trimmed pieces of at most `budget` characters, using the strongest
/// boundaries available from `level` down.
fn split_to_fit(idx: &CharIndex<'_>, span: Span, budget: usize, level: Level, out: &mut Vec<Span>) {
    let span = idx.trim(span);
    if span.0 >= span.1 {
        return;
    }
    if idx.len(span) <= budget {
        out.push(span);
        return;
    }
    if level == Level::Chars {
        let mut from = span.0;
        while from < span.1 {
            let to = idx.byte_of(idx.char_of(from) + budget.max(1)).min(span.1);
            let piece = idx.trim((from, to));
            if piece.0 < piece.1 {
                out.push(piece);
            }
            from = to;
        }
        return;
    }
    let cuts = boundaries(idx.text, span, level);
    if cuts.is_empty() {
        split_to_fit(idx, span, budget, level.weaker(), out);
        return;
    }
    let mut from = span.0;
    for cut in cuts.into_iter().chain(std::iter::once(span.1)) {
        let piece = idx.trim((from, cut));
        if piece.0 < piece.1 {
            if idx.len(piece) <= budget {
                out.push(piece);
            } else {
                split_to_fit(idx, piece, budget, level.weaker(), out);
            }
        }
        from = cut;
    }
}

/// A chunk being built: a body span plus what it belongs to.
#[derive(Debug, Clone)]
struct Draft {
    path: Vec<String>,
    start: usize,
    end: usize,
    /// Table header span repeated in front of the text (continuation of a long table).
    prefix: Option<Span>,
    /// Group that may extend this draft: `None` for prose, the table's (or an over-long
    /// row's) start offset for table rows.
    group: Option<usize>,
}

/// Greedy packing of pieces into chunks within one section at a time.
struct Packer<'a, 'b> {
    idx: &'a CharIndex<'b>,
    opts: &'a ChunkOptions,
    out: Vec<Draft>,
    cur: Option<Draft>,
    /// The last flushed prose chunk of this section, where overlap is taken from.
    overlap_src: Option<Span>,
    path: Vec<String>,
}

impl Packer<'_, '_> {
    fn draft_len(&self, start: usize, end: usize, prefix: Option<Span>) -> usize {
        self.idx.len((start, end)) + prefix.map_or(0, |h| self.idx.len(h) + 1)
    }

    fn new_section(&mut self, path: Vec<String>) {
        self.flush();
        self.overlap_src = None;
        self.path = path;
    }

    fn flush(&mut self) {
        if let Some(d) = self.cur.take() {
            self.overlap_src =
                (d.prefix.is_none() && d.group.is_none()).then_some((d.start, d.end));
            self.out.push(d);
        }
    }

    /// Adds one piece (at most `max_chars` long) to the current chunk or starts a new one.
    fn push(&mut self, piece: Span, group: Option<usize>, prefix_if_new: Option<Span>) {
        if let Some(cur) = &self.cur {
            if cur.group == group
                && self.draft_len(cur.start, piece.1, cur.prefix) <= self.opts.max_chars
            {
                if let Some(cur) = self.cur.as_mut() {
                    cur.end = piece.1;
                }
                return;
            }
            self.flush();
        }
        let prefix = prefix_if_new
            .filter(|h| self.draft_len(piece.0, piece.1, Some(*h)) <= self.opts.max_chars);
        let start = if group.is_none() {
            self.overlap_start(piece).unwrap_or(piece.0)
        } else {
            piece.0
        };
        self.cur = Some(Draft {
            path: self.path.clone(),
            start,
            end: piece.1,
            prefix,
            group,
        });
    }

    fn push_split(&mut self, span: Span, level: Level) {
        let mut pieces = Vec::new();
        split_to_fit(self.idx, span, self.opts.max_chars, level, &mut pieces);
        for p in pieces {
            self.push(p, None, None);
        }
    }

    /// A table too long for one chunk: rows packed whole, header row repeated.
    fn table(&mut self, span: Span) {
        let text = &self.idx.text[span.0..span.1];
        let mut lines = Vec::new();
        let mut offset = span.0;
        for line in text.split_inclusive('\n') {
            let piece = self.idx.trim((offset, offset + line.len()));
            if piece.0 < piece.1 {
                lines.push(piece);
            }
            offset += line.len();
        }
        // Header line + delimiter line; without body rows it is not a table worth special care.
        if lines.len() < 3 {
            self.push_split(span, Level::Sentences);
            return;
        }
        let header = (lines[0].0, lines[1].1);
        let group = Some(span.0);
        self.flush();
        let mut rows = lines[2..].iter().copied();
        let max = self.opts.max_chars;
        if self.idx.len(header) <= max {
            self.push(header, group, None);
        } else {
            self.push_split(header, Level::Clauses);
        }
        for row in rows.by_ref() {
            if self.draft_len(row.0, row.1, Some(header)) <= max {
                self.push(row, group, Some(header));
                continue;
            }
            // A row that cannot fit even alone with the header: cut it, as its own chunks.
            self.flush();
            let mut pieces = Vec::new();
            split_to_fit(self.idx, row, max, Level::Sentences, &mut pieces);
            for p in pieces {
                self.push(p, Some(row.0), None);
            }
            self.flush();
        }
        self.flush();
        self.overlap_src = None;
    }

    /// Where the next chunk should start so it repeats the end of the previous one: the
    /// earliest sentence (or line) start in the previous chunk whose tail fits the overlap
    /// budget and still leaves room for `piece`.
    fn overlap_start(&self, piece: Span) -> Option<usize> {
        let src = self.overlap_src?;
        if self.opts.overlap_chars == 0 {
            return None;
        }
        let mut starts = boundaries(self.idx.text, src, Level::Sentences);
        starts.extend(boundaries(self.idx.text, src, Level::Lines));
        starts.sort_unstable();
        starts
            .into_iter()
            .map(|c| self.idx.trim((c, src.1)).0)
            .filter(|&c| c > src.0 && c < src.1)
            .find(|&c| {
                self.idx.len((c, src.1)) <= self.opts.overlap_chars
                    && self.idx.len((c, piece.1)) <= self.opts.max_chars
            })
    }
}

/// Folds chunks shorter than `min_chars` into the next chunk (when it is in the same or a
/// deeper section, e.g. a lone "# Billing" heading before "## Refunds") or else the previous
/// chunk of the same section, as long as the result fits `max_chars`.
fn merge_small(idx: &CharIndex<'_>, drafts: Vec<Draft>, opts: &ChunkOptions) -> Vec<Draft> {
    let small = |d: &Draft| d.prefix.is_none() && idx.len((d.start, d.end)) < opts.min_chars;
    let fits = |a: &Draft, b: &Draft| {
        a.prefix.is_none()
            && b.prefix.is_none()
            && idx.len((a.start, a.end.max(b.end))) <= opts.max_chars
    };
    let mut out: Vec<Draft> = Vec::with_capacity(drafts.len());
    let mut carry: Option<Draft> = None;
    for d in drafts {
        let d = match carry.take() {
            Some(c) if fits(&c, &d) && d.path.starts_with(&c.path) => Draft {
                start: c.start,
                end: c.end.max(d.end),
                ..d
            },
            Some(c) => {
                push_or_merge_back(idx, &mut out, c, opts);
                d
            }
            None => d,
        };
        if small(&d) {
            carry = Some(d);
        } else {
            out.push(d);
        }
    }
    if let Some(c) = carry {
        push_or_merge_back(idx, &mut out, c, opts);
    }
    out
}

fn push_or_merge_back(idx: &CharIndex<'_>, out: &mut Vec<Draft>, d: Draft, opts: &ChunkOptions) {
    if let Some(last) = out.last_mut()
        && last.path == d.path
        && last.prefix.is_none()
        && d.prefix.is_none()
        && idx.len((last.start, d.end)) <= opts.max_chars
    {
        last.end = last.end.max(d.end);
        return;
    }
    out.push(d);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts(max: usize, overlap: usize) -> ChunkOptions {
        ChunkOptions {
            max_chars: max,
            overlap_chars: overlap,
            min_chars: 0,
        }
    }

    #[test]
    fn sentence_boundaries_cjk_and_ascii() {
        let text = "你好。我很好！真的吗？“是的。”Version 3.14 works. Next";
        let cuts = boundaries(text, (0, text.len()), Level::Sentences);
        let pieces: Vec<&str> = std::iter::once(0)
            .chain(cuts.iter().copied())
            .zip(cuts.iter().copied().chain(std::iter::once(text.len())))
            .map(|(a, b)| text[a..b].trim())
            .collect();
        assert_eq!(
            pieces,
            vec![
                "你好。",
                "我很好！",
                "真的吗？",
                "“是的。”",
                "Version 3.14 works.",
                "Next"
            ]
        );
    }

    #[test]
    fn hard_split_counts_chars_not_bytes() {
        let text = "汉".repeat(25);
        let chunks = chunk(&text, &opts(10, 0));
        assert_eq!(chunks.len(), 3);
        assert!(chunks.iter().all(|c| c.text.chars().count() <= 10));
        assert_eq!(chunks[2].char_start, 20);
        assert_eq!(chunks[2].char_end, 25);
    }

    #[test]
    fn empty_body_gives_no_chunks() {
        assert!(chunk("", &ChunkOptions::default()).is_empty());
        assert!(chunk("  \n\n ", &ChunkOptions::default()).is_empty());
    }
}
