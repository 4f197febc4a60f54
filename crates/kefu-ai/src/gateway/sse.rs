//! An incremental server-sent-events decoder, written by hand so it tolerates what real LLM
//! servers send: `\n`, `\r\n` or bare `\r` line endings (even a `\r\n` split across two TCP
//! reads), lines and UTF-8 characters split across reads, `:` keep-alive comments, `event:`/`id:`
//! fields nobody needs, and a last event without its blank line before the connection closes.

/// What one decoded SSE block carries.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum SseItem {
    /// The `data:` lines of one event, joined with `\n`.
    Data(String),
    /// A comment line (`: keep-alive`), reported so the caller can count it as liveness.
    Comment,
}

/// A line longer than this without a newline is treated as a broken stream, not buffered
/// forever.
const MAX_LINE: usize = 1 << 20;

/// Feed bytes in as they arrive; complete items come out.
#[derive(Debug, Default)]
pub(crate) struct SseDecoder {
    line: Vec<u8>,
    data: Option<String>,
    /// The previous chunk ended in `\r`: a leading `\n` in the next chunk belongs to it.
    after_cr: bool,
}

/// The stream sent a line longer than [`MAX_LINE`].
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct LineTooLong;

impl SseDecoder {
    /// Decodes `bytes`, appending complete items to `out`.
    pub(crate) fn feed(&mut self, bytes: &[u8], out: &mut Vec<SseItem>) -> Result<(), LineTooLong> {
        let mut rest = bytes;
        if self.after_cr {
            self.after_cr = false;
            if let Some(stripped) = rest.strip_prefix(b"\n") {
                rest = stripped;
            }
        }
        while let Some(pos) = rest.iter().position(|&b| b == b'\n' || b == b'\r') {
            self.line.extend_from_slice(&rest[..pos]);
            let newline = rest[pos];
            rest = &rest[pos + 1..];
            if newline == b'\r' {
                match rest.first() {
                    Some(b'\n') => rest = &rest[1..],
                    None => self.after_cr = true,
                    Some(_) => {}
                }
            }
            let line = std::mem::take(&mut self.line);
            self.line_done(&line, out);
        }
        self.line.extend_from_slice(rest);
        if self.line.len() > MAX_LINE {
            return Err(LineTooLong);
        }
        Ok(())
    }

    /// The connection closed: a pending event without its trailing blank line still counts
    /// (some servers close right after the last `data:` line).
    pub(crate) fn finish(&mut self, out: &mut Vec<SseItem>) {
        if !self.line.is_empty() {
            let line = std::mem::take(&mut self.line);
            self.line_done(&line, out);
        }
        if let Some(data) = self.data.take() {
            out.push(SseItem::Data(data));
        }
    }

    fn line_done(&mut self, line: &[u8], out: &mut Vec<SseItem>) {
        if line.is_empty() {
            if let Some(data) = self.data.take() {
                out.push(SseItem::Data(data));
            }
            return;
        }
        if line[0] == b':' {
            out.push(SseItem::Comment);
            return;
        }
        let (field, value) = match line.iter().position(|&b| b == b':') {
            Some(i) => {
                let v = &line[i + 1..];
                (&line[..i], v.strip_prefix(b" ").unwrap_or(v))
            }
            None => (line, &b""[..]),
        };
        if field == b"data" {
            let value = String::from_utf8_lossy(value);
            match &mut self.data {
                Some(d) => {
                    d.push('\n');
                    d.push_str(&value);
                }
                None => self.data = Some(value.into_owned()),
            }
        }
        // `event`, `id`, `retry` and unknown fields carry nothing the chat format uses.
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn decode_in_pieces(input: &[u8], cuts: &[usize]) -> Vec<SseItem> {
        let mut d = SseDecoder::default();
        let mut out = Vec::new();
        let mut last = 0;
        for &c in cuts {
            let c = c.min(input.len()).max(last);
            d.feed(&input[last..c], &mut out).ok();
            last = c;
        }
        d.feed(&input[last..], &mut out).ok();
        d.finish(&mut out);
        out
    }

    #[test]
    fn decodes_lf_crlf_cr_comments_and_multiline_data() {
        let input = b": keep-alive\r\n\r\ndata: {\"a\":1}\r\n\r\nevent: x\ndata:b\ndata: c\n\ndata: z\r\rdata: [DONE]\n\n";
        let out = decode_in_pieces(input, &[]);
        assert_eq!(
            out,
            vec![
                SseItem::Comment,
                SseItem::Data("{\"a\":1}".into()),
                SseItem::Data("b\nc".into()),
                SseItem::Data("z".into()),
                SseItem::Data("[DONE]".into()),
            ]
        );
    }

    #[test]
    fn a_last_event_without_blank_line_is_kept() {
        assert_eq!(
            decode_in_pieces(b"data: tail", &[]),
            vec![SseItem::Data("tail".into())]
        );
    }

    #[test]
    fn an_overlong_line_is_an_error() {
        let mut d = SseDecoder::default();
        let mut out = Vec::new();
        let big = vec![b'x'; MAX_LINE + 1];
        assert_eq!(d.feed(&big, &mut out), Err(LineTooLong));
    }

    proptest! {
        /// However the bytes are split across reads (mid-CRLF, mid-UTF-8), the events are the
        /// same as decoding them in one piece.
        #[test]
        fn splitting_never_changes_the_events(cuts in proptest::collection::vec(0usize..120, 0..8)) {
            let input = "data: {\"c\":\"你好\"}\r\n\r\n: ping\r\n\r\ndata: b\r\rdata: [DONE]\r\n\r\n".as_bytes();
            let mut cuts = cuts;
            cuts.sort_unstable();
            prop_assert_eq!(decode_in_pieces(input, &cuts), decode_in_pieces(input, &[]));
        }
    }
}
