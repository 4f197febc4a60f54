//! Personal-data redaction: what a language-model provider (or a log) would otherwise see.
//! Replaces e-mail addresses, phone numbers (mainland Chinese mobiles and landlines,
//! international numbers), mainland ID card numbers (checked by their ISO 7064 check digit) and
//! bank card numbers (checked by Luhn) with placeholders.
//!
//! Numbers are found as runs of digits that may contain spaces or dashes ("138 1234 5678"),
//! then classified by length, prefix and check digit, so ordinary numbers (prices, order
//! numbers that fail the checks) are left alone.

use std::sync::LazyLock;

use regex::Regex;

/// Placeholders, kept short and in a form models pass through unchanged.
pub const EMAIL: &str = "[EMAIL]";
pub const PHONE: &str = "[PHONE]";
pub const ID_NUMBER: &str = "[ID_NUMBER]";
pub const CARD_NUMBER: &str = "[CARD_NUMBER]";

static EMAIL_RE: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}").ok()
});
static NUMBER_RE: LazyLock<Option<Regex>> =
    LazyLock::new(|| Regex::new(r"\+?\d(?:[\d \-]*\d)?[Xx]?").ok());

/// What was redacted, for auditing without keeping the values.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Redaction {
    pub text: String,
    pub emails: usize,
    pub phones: usize,
    pub id_numbers: usize,
    pub card_numbers: usize,
}

impl Redaction {
    /// Whether anything was replaced.
    pub fn changed(&self) -> bool {
        self.emails + self.phones + self.id_numbers + self.card_numbers > 0
    }
}

/// Redacts personal data from `text`.
pub fn redact(text: &str) -> Redaction {
    let mut out = Redaction::default();
    let after_email = match EMAIL_RE.as_ref() {
        Some(re) => re
            .replace_all(text, |_: &regex::Captures<'_>| {
                out.emails += 1;
                EMAIL
            })
            .into_owned(),
        None => text.to_owned(),
    };
    let Some(numbers) = NUMBER_RE.as_ref() else {
        out.text = after_email;
        return out;
    };
    let mut result = String::with_capacity(after_email.len());
    let mut last = 0;
    for m in numbers.find_iter(&after_email) {
        let raw = m.as_str();
        let replacement = classify(raw);
        result.push_str(&after_email[last..m.start()]);
        match replacement {
            Some(kind) => {
                match kind {
                    ID_NUMBER => out.id_numbers += 1,
                    CARD_NUMBER => out.card_numbers += 1,
                    _ => out.phones += 1,
                }
                // Keep a trailing separator the match swallowed, so sentences stay readable.
                result.push_str(kind);
            }
            None => result.push_str(raw),
        }
        last = m.end();
    }
    result.push_str(&after_email[last..]);
    out.text = result;
    out
}

/// Decides what a digit run is, if it is personal data.
fn classify(raw: &str) -> Option<&'static str> {
    let plus = raw.starts_with('+');
    let x_suffix = raw.ends_with(['X', 'x']);
    let digits: String = raw.chars().filter(char::is_ascii_digit).collect();
    if x_suffix {
        return (digits.len() == 17 && id_check_digit(&digits) == 'X').then_some(ID_NUMBER);
    }
    if digits.len() == 18 && is_id_number(&digits) {
        return Some(ID_NUMBER);
    }
    if (13..=19).contains(&digits.len()) && luhn(&digits) && !plus {
        return Some(CARD_NUMBER);
    }
    let national = digits
        .strip_prefix("0086")
        .or_else(|| {
            if plus || digits.len() == 13 {
                digits.strip_prefix("86")
            } else {
                None
            }
        })
        .unwrap_or(&digits);
    let is_mobile = national.len() == 11
        && national.starts_with('1')
        && national
            .as_bytes()
            .get(1)
            .is_some_and(|d| (b'3'..=b'9').contains(d));
    let is_landline = national.starts_with('0') && (10..=12).contains(&national.len());
    let is_international = plus && (8..=15).contains(&digits.len());
    (is_mobile || is_landline || is_international).then_some(PHONE)
}

/// The mainland ID check digit (ISO 7064 MOD 11-2) of the first 17 digits.
fn id_check_digit(first17: &str) -> char {
    const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    const CODES: [char; 11] = ['1', '0', 'X', '9', '8', '7', '6', '5', '4', '3', '2'];
    let sum: u32 = first17
        .chars()
        .zip(WEIGHTS)
        .map(|(c, w)| c.to_digit(10).unwrap_or(0) * w)
        .sum();
    CODES[(sum % 11) as usize]
}

fn is_id_number(digits: &str) -> bool {
    let (first17, last) = digits.split_at(17);
    last.starts_with(id_check_digit(first17))
}

fn luhn(digits: &str) -> bool {
    let sum: u32 = digits
        .chars()
        .rev()
        .filter_map(|c| c.to_digit(10))
        .enumerate()
        .map(|(i, d)| {
            if i % 2 == 1 {
                if d * 2 > 9 { d * 2 - 9 } else { d * 2 }
            } else {
                d
            }
        })
        .sum();
    sum.is_multiple_of(10)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn redacts_chinese_and_international_personal_data() {
        let r = redact(
            "我的手机13812345678，邮箱 li.lei@example.com.cn，身份证11010519491231002X，\
             卡号 6222 0200 0000 0000 000，座机 010-62345678，or call +44 20 7946 0958.",
        );
        assert!(!r.text.contains("13812345678"), "{}", r.text);
        assert!(!r.text.contains("li.lei"));
        assert!(!r.text.contains("11010519491231002X"));
        assert!(!r.text.contains("6222"));
        assert!(!r.text.contains("62345678"));
        assert!(!r.text.contains("7946"));
        assert_eq!((r.emails, r.id_numbers, r.card_numbers), (1, 1, 1));
        assert_eq!(r.phones, 3, "{}", r.text);
        assert!(r.text.contains("我的手机[PHONE]"));
    }

    #[test]
    fn spaced_mobile_numbers_and_country_codes() {
        assert_eq!(redact("call 138 1234 5678 now").text, "call [PHONE] now");
        assert_eq!(redact("+86 138-1234-5678").text, "[PHONE]");
    }

    #[test]
    fn ordinary_numbers_stay() {
        for keep in [
            "order 20261125 costs 199 yuan",
            "tracking 1234567890123",
            "room 404",
            "pay 3,000.50",
        ] {
            assert_eq!(redact(keep).text, keep, "{keep}");
        }
        // An 18-digit number with a wrong check digit is not an ID.
        assert_eq!(redact("110105194912310021").id_numbers, 0);
    }

    #[test]
    fn check_digits() {
        assert_eq!(id_check_digit("11010519491231002"), 'X');
        assert!(luhn("4111111111111111"));
        assert!(!luhn("4111111111111112"));
    }

    proptest! {
        #[test]
        fn never_panics_and_never_grows_digits(s in "\\PC{0,120}") {
            let r = redact(&s);
            let digits_in = s.chars().filter(char::is_ascii_digit).count();
            let digits_out = r.text.chars().filter(char::is_ascii_digit).count();
            prop_assert!(digits_out <= digits_in);
        }
    }
}
