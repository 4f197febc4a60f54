//! Text normalisation shared by matching and indexing.
//!
//! Visitors type the same question in many shapes: upper or lower case, full-width Latin letters
//! from a Chinese input method, curly or straight apostrophes. Folding these differences before
//! tokenisation means one phrasing in the knowledge base covers all of them, without pulling in a
//! full Unicode normalisation table (the cases handled here are the ones seen in support chats).

/// Returns `text` folded for matching.
///
/// - letters are lower-cased (full Unicode lower-casing, so `É` becomes `é`);
/// - full-width ASCII forms (`Ａ`, `１`, `？`) become their ASCII counterparts and the
///   ideographic space becomes a plain space;
/// - apostrophes inside a word are dropped (`don't` and `don’t` both become `dont`), because
///   splitting there leaves meaningless fragments such as `t`;
/// - every other character is kept as is; the tokeniser decides what separates words.
#[must_use]
pub fn normalise(text: &str) -> String {
    let chars: Vec<char> = text.chars().map(fold_width).collect();
    let mut out = String::with_capacity(text.len());
    for (i, &c) in chars.iter().enumerate() {
        if is_apostrophe(c) {
            let before = i.checked_sub(1).and_then(|j| chars.get(j));
            let after = chars.get(i + 1);
            if before.is_some_and(|b| b.is_alphanumeric())
                && after.is_some_and(|a| a.is_alphanumeric())
            {
                continue;
            }
            out.push(' ');
            continue;
        }
        out.extend(c.to_lowercase());
    }
    out
}

/// Maps full-width ASCII variants (U+FF01..U+FF5E) and the ideographic space to ASCII.
fn fold_width(c: char) -> char {
    match c {
        '\u{3000}' => ' ',
        '\u{FF01}'..='\u{FF5E}' => char::from_u32(u32::from(c) - 0xFEE0).unwrap_or(c),
        _ => c,
    }
}

fn is_apostrophe(c: char) -> bool {
    matches!(c, '\'' | '\u{2019}' | '\u{2018}' | '`')
}

/// True for characters written without spaces between words (Han ideographs, kana), which the
/// tokeniser turns into one token per character.
#[must_use]
pub fn is_cjk(c: char) -> bool {
    matches!(
        u32::from(c),
        0x3040..=0x30FF          // Hiragana, Katakana
        | 0x3400..=0x4DBF        // CJK Extension A
        | 0x4E00..=0x9FFF        // CJK Unified Ideographs
        | 0xF900..=0xFAFF        // CJK Compatibility Ideographs
        | 0x20000..=0x2FA1F // CJK Extensions B.. and Compatibility Supplement
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lower_cases_and_folds_full_width() {
        assert_eq!(
            normalise("Ｈｅｌｌｏ　ＷＯＲＬＤ１２３？"),
            "hello world123?"
        );
        assert_eq!(normalise("ÉCOLE"), "école");
    }

    #[test]
    fn drops_apostrophes_inside_words_only() {
        assert_eq!(normalise("Don't  I’m"), "dont  im");
        assert_eq!(normalise("'quoted'"), " quoted ");
    }

    #[test]
    fn keeps_chinese_text() {
        assert_eq!(normalise("我的卡丢了！"), "我的卡丢了!");
        assert!(is_cjk('卡'));
        assert!(!is_cjk('a'));
        assert!(!is_cjk('!'));
    }
}
