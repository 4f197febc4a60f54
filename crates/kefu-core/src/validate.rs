//! Input rules shared by every entry point (REST, WebSocket, CLI), so a message refused over
//! one is refused over all of them with the same code.

/// Longest message text, in Unicode scalar values (characters, not bytes).
pub const MAX_MESSAGE_CHARS: usize = 4_000;
/// Longest client-generated id.
pub const MAX_CLIENT_ID_LEN: usize = 128;

/// Why an input was refused. `code()` is the stable API error code.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ValidationError {
    #[error("message text is empty")]
    EmptyMessage,
    #[error("message text is {len} characters; the limit is {max}")]
    MessageTooLong { len: usize, max: usize },
    #[error(
        "client_id must be 1-{MAX_CLIENT_ID_LEN} characters of letters, digits, '-', '_', '.', ':'"
    )]
    BadClientId,
    #[error("invalid {field}: {reason}")]
    Invalid { field: &'static str, reason: String },
}

impl ValidationError {
    /// The stable error code clients can branch on.
    pub fn code(&self) -> &'static str {
        match self {
            ValidationError::EmptyMessage => "message_empty",
            ValidationError::MessageTooLong { .. } => "message_too_long",
            ValidationError::BadClientId => "invalid_client_id",
            ValidationError::Invalid { .. } => "invalid_field",
        }
    }

    /// Shorthand for a field-specific refusal.
    pub fn invalid(field: &'static str, reason: impl Into<String>) -> Self {
        ValidationError::Invalid {
            field,
            reason: reason.into(),
        }
    }
}

/// Checks a message text and returns it with surrounding whitespace trimmed.
pub fn message_text(text: &str, max_chars: usize) -> Result<String, ValidationError> {
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return Err(ValidationError::EmptyMessage);
    }
    let len = trimmed.chars().count();
    if len > max_chars {
        return Err(ValidationError::MessageTooLong {
            len,
            max: max_chars,
        });
    }
    // NUL and other C0 controls (but tab and newlines) have no place in chat text and break
    // some terminals and exports; refuse rather than silently strip.
    if trimmed
        .chars()
        .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
    {
        return Err(ValidationError::invalid(
            "text",
            "control characters are not allowed",
        ));
    }
    Ok(trimmed.to_owned())
}

/// Checks a client-generated id (a UUID is typical; any short opaque token is accepted).
pub fn client_id(id: &str) -> Result<(), ValidationError> {
    let ok = !id.is_empty()
        && id.len() <= MAX_CLIENT_ID_LEN
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | ':'));
    if ok {
        Ok(())
    } else {
        Err(ValidationError::BadClientId)
    }
}

/// Checks and normalises an e-mail address (lowercased, trimmed). Deliberately loose: one
/// `@`, a dot in the domain, no spaces; the only real check is a message that arrives.
pub fn email(value: &str) -> Result<String, ValidationError> {
    let v = value.trim().to_lowercase();
    let valid = v.len() <= 254
        && !v.chars().any(char::is_whitespace)
        && match v.split_once('@') {
            Some((local, domain)) => {
                !local.is_empty()
                    && !domain.contains('@')
                    && domain.contains('.')
                    && !domain.starts_with('.')
                    && !domain.ends_with('.')
            }
            None => false,
        };
    if valid {
        Ok(v)
    } else {
        Err(ValidationError::invalid("email", "not an e-mail address"))
    }
}

/// Checks a short name-like field (tag, canned reply shortcut, site or agent name).
pub fn short_text(field: &'static str, value: &str, max: usize) -> Result<String, ValidationError> {
    let v = value.trim();
    if v.is_empty() {
        return Err(ValidationError::invalid(field, "must not be empty"));
    }
    if v.chars().count() > max {
        return Err(ValidationError::invalid(
            field,
            format!("at most {max} characters"),
        ));
    }
    if v.chars().any(char::is_control) {
        return Err(ValidationError::invalid(
            field,
            "control characters are not allowed",
        ));
    }
    Ok(v.to_owned())
}

/// Checks a canned-reply shortcut: lowercase letters, digits, `-` and `_`, no leading slash.
pub fn shortcut(value: &str) -> Result<String, ValidationError> {
    let v = value.trim().trim_start_matches('/').to_lowercase();
    let ok = !v.is_empty()
        && v.len() <= 32
        && v.chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '-' | '_'));
    if ok {
        Ok(v)
    } else {
        Err(ValidationError::invalid(
            "shortcut",
            "1-32 letters, digits, '-' or '_'",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn message_limits_count_characters_not_bytes() {
        let chinese = "你".repeat(MAX_MESSAGE_CHARS);
        assert!(message_text(&chinese, MAX_MESSAGE_CHARS).is_ok());
        let too_long = "a".repeat(MAX_MESSAGE_CHARS + 1);
        assert_eq!(
            message_text(&too_long, MAX_MESSAGE_CHARS),
            Err(ValidationError::MessageTooLong {
                len: 4001,
                max: 4000
            })
        );
        assert_eq!(
            message_text(" \n\t ", 10),
            Err(ValidationError::EmptyMessage)
        );
        assert!(message_text("a\u{0}b", 10).is_err());
        assert_eq!(message_text("  hi\nthere ", 10).unwrap(), "hi\nthere");
    }

    #[test]
    fn emails_are_normalised_and_checked() {
        assert_eq!(email(" Li.Lei@Example.COM ").unwrap(), "li.lei@example.com");
        for bad in ["", "a", "a@b", "a@@b.c", "a b@c.d", "@c.d", "a@.c"] {
            assert!(email(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn client_ids_and_shortcuts() {
        assert!(client_id("0192f4a1-7c3b-7d4e-8f00-000000000001").is_ok());
        assert!(client_id("").is_err());
        assert!(client_id("a b").is_err());
        assert_eq!(shortcut("/Refund").unwrap(), "refund");
        assert!(shortcut("/").is_err());
    }

    proptest! {
        #[test]
        fn message_text_never_panics_and_respects_the_limit(s in "\\PC{0,50}") {
            if let Ok(t) = message_text(&s, 20) {
                prop_assert!(!t.is_empty());
                prop_assert!(t.chars().count() <= 20);
            }
        }
    }
}
