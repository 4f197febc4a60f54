//! Which language to reply in. The assistant answers in the visitor's language; for its own
//! short sentences (clarify, hand-off) it needs to know whether the visitor writes Chinese.

/// Whether the text is mostly Chinese (Han characters outnumber Latin letters).
pub fn is_chinese(text: &str) -> bool {
    let (mut han, mut latin) = (0usize, 0usize);
    for c in text.chars() {
        if matches!(c, '\u{4e00}'..='\u{9fff}' | '\u{3400}'..='\u{4dbf}' | '\u{f900}'..='\u{faff}')
        {
            han += 1;
        } else if c.is_ascii_alphabetic() {
            latin += 1;
        }
    }
    han > 0 && han * 2 >= latin
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_chinese() {
        assert!(is_chinese("花呗怎么还款"));
        assert!(is_chinese("我的iPhone坏了"));
        assert!(!is_chinese("How do I get a refund?"));
        assert!(!is_chinese(""));
    }
}
