//! The OpenAI chat-completions wire format, as far as the gateway reads and writes it.
//! Parsing is deliberately lenient: unknown fields are ignored, `content` may be `null`
//! (llama.cpp's first streamed chunk), `choices` may be empty (the usage-only last chunk) and
//! `usage` may be missing or partial.

use serde::{Deserialize, Serialize};

use super::types::ChatMessage;

/// The request body.
#[derive(Serialize)]
pub(crate) struct WireRequest<'a> {
    pub model: &'a str,
    pub messages: &'a [ChatMessage],
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_tokens: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub temperature: Option<f32>,
    pub stream: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stream_options: Option<StreamOptions>,
}

#[derive(Serialize)]
pub(crate) struct StreamOptions {
    pub include_usage: bool,
}

/// A non-streamed response, or one streamed chunk (they share a shape: `message` vs `delta`).
#[derive(Deserialize, Debug, Default)]
pub(crate) struct WireResponse {
    #[serde(default)]
    pub choices: Vec<WireChoice>,
    #[serde(default)]
    pub usage: Option<WireUsage>,
    /// Some servers report a failure inside a 200 stream as `{"error": …}`.
    #[serde(default)]
    pub error: Option<serde_json::Value>,
}

#[derive(Deserialize, Debug, Default)]
pub(crate) struct WireChoice {
    #[serde(default)]
    pub message: Option<WireMessage>,
    #[serde(default)]
    pub delta: Option<WireMessage>,
    #[serde(default)]
    pub finish_reason: Option<String>,
}

#[derive(Deserialize, Debug, Default)]
pub(crate) struct WireMessage {
    #[serde(default)]
    pub content: Option<String>,
}

#[derive(Deserialize, Debug, Default, Clone, Copy)]
pub(crate) struct WireUsage {
    #[serde(default)]
    pub prompt_tokens: Option<u32>,
    #[serde(default)]
    pub completion_tokens: Option<u32>,
}

/// The message of an error body, whatever shape it has (`{"error":{"message":…}}`,
/// `{"error":"…"}`, `{"message":…}` or plain text), shortened for logs.
pub(crate) fn error_message(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let parsed: Option<serde_json::Value> = serde_json::from_slice(body).ok();
    let message = parsed.as_ref().and_then(|v| {
        v.pointer("/error/message")
            .or_else(|| v.get("error"))
            .or_else(|| v.get("message"))
            .and_then(|m| m.as_str().map(str::to_owned))
    });
    let mut message = message.unwrap_or_else(|| text.trim().to_owned());
    if message.len() > 300 {
        let mut cut = 300;
        while !message.is_char_boundary(cut) {
            cut -= 1;
        }
        message.truncate(cut);
        message.push('…');
    }
    message
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tolerates_null_content_unknown_fields_and_usage_only_chunks() {
        let llama: WireResponse = serde_json::from_str(
            r#"{"choices":[{"finish_reason":null,"index":0,"delta":{"role":"assistant","content":null}}],"created":1,"id":"x","model":"m","system_fingerprint":"b1","object":"chat.completion.chunk","timings":{"prompt_n":3}}"#,
        )
        .unwrap();
        assert!(llama.choices[0].delta.as_ref().unwrap().content.is_none());
        let last: WireResponse = serde_json::from_str(
            r#"{"choices":[],"usage":{"prompt_tokens":9,"completion_tokens":2,"total_tokens":11}}"#,
        )
        .unwrap();
        assert_eq!(last.usage.unwrap().prompt_tokens, Some(9));
    }

    #[test]
    fn error_messages_of_any_shape() {
        assert_eq!(
            error_message(br#"{"error":{"message":"slow down","type":"x"}}"#),
            "slow down"
        );
        assert_eq!(error_message(br#"{"error":"nope"}"#), "nope");
        assert_eq!(error_message(b"Bad Gateway\n"), "Bad Gateway");
    }
}
