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
    use super::super::sse::{SseDecoder, SseItem};
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

    /// A reply of llama.cpp's `llama-server` (commit 0c1e57098, from llama-cpp-python 0.3.36)
    /// byte for byte, as `bench/interop/run.sh` captured it: a first chunk whose delta is
    /// `{"role":"assistant","content":null}`, content chunks, a finish chunk with an empty
    /// delta, then a usage chunk with `choices: []`, nested `prompt_tokens_details` and a
    /// `timings` object. Regression guard for the interop check in docs/interop.md.
    #[test]
    fn a_real_llama_server_stream_parses_with_its_null_content_and_extra_fields() {
        let captured = concat!(
            r#"data: {"choices":[{"finish_reason":null,"index":0,"delta":{"role":"assistant","content":null}}],"created":1795617464,"id":"chatcmpl-3Exg4Swvh8YR4EeH8MFr1uWGPPrsOUxQ","model":"smollm2-135m-instruct","system_fingerprint":"b1-0c1e57098","object":"chat.completion.chunk"}"#,
            "\n\n",
            r#"data: {"choices":[{"finish_reason":null,"index":0,"delta":{"content":"How"}}],"created":1795617464,"id":"chatcmpl-3Exg4Swvh8YR4EeH8MFr1uWGPPrsOUxQ","model":"smollm2-135m-instruct","system_fingerprint":"b1-0c1e57098","object":"chat.completion.chunk"}"#,
            "\n\n",
            r#"data: {"choices":[{"finish_reason":null,"index":0,"delta":{"content":"dy"}}],"created":1795617464,"id":"chatcmpl-3Exg4Swvh8YR4EeH8MFr1uWGPPrsOUxQ","model":"smollm2-135m-instruct","system_fingerprint":"b1-0c1e57098","object":"chat.completion.chunk"}"#,
            "\n\n",
            r#"data: {"choices":[{"finish_reason":"length","index":0,"delta":{}}],"created":1795617470,"id":"chatcmpl-3Exg4Swvh8YR4EeH8MFr1uWGPPrsOUxQ","model":"smollm2-135m-instruct","system_fingerprint":"b1-0c1e57098","object":"chat.completion.chunk"}"#,
            "\n\n",
            r#"data: {"choices":[],"created":1795617470,"id":"chatcmpl-3Exg4Swvh8YR4EeH8MFr1uWGPPrsOUxQ","model":"smollm2-135m-instruct","system_fingerprint":"b1-0c1e57098","object":"chat.completion.chunk","usage":{"completion_tokens":8,"prompt_tokens":33,"total_tokens":41,"prompt_tokens_details":{"cached_tokens":0}},"timings":{"cache_n":0,"prompt_n":33,"prompt_ms":3406.226,"prompt_per_token_ms":103.2189696969697,"prompt_per_second":9.688141655897171,"predicted_n":8,"predicted_ms":6298.28,"predicted_per_token_ms":899.7542857142856,"predicted_per_second":1.1114145449233759}}"#,
            "\n\ndata: [DONE]\n\n",
        );
        let mut decoder = SseDecoder::default();
        let mut items = Vec::new();
        decoder.feed(captured.as_bytes(), &mut items).unwrap();
        decoder.finish(&mut items);
        let data: Vec<String> = items
            .into_iter()
            .filter_map(|i| match i {
                SseItem::Data(d) => Some(d),
                SseItem::Comment => None,
            })
            .collect();
        assert_eq!(data.len(), 6);
        assert_eq!(data[5], "[DONE]");
        let chunks: Vec<WireResponse> = data[..5]
            .iter()
            .map(|d| serde_json::from_str(d).unwrap())
            .collect();
        let first = &chunks[0].choices[0];
        assert!(first.delta.as_ref().unwrap().content.is_none());
        assert!(first.finish_reason.is_none());
        let text: String = chunks
            .iter()
            .filter_map(|c| c.choices.first())
            .filter_map(|c| c.delta.as_ref()?.content.clone())
            .collect();
        assert_eq!(text, "Howdy");
        assert_eq!(
            chunks[3].choices[0].finish_reason.as_deref(),
            Some("length")
        );
        assert!(chunks[4].choices.is_empty());
        let usage = chunks[4].usage.unwrap();
        assert_eq!(
            (usage.prompt_tokens, usage.completion_tokens),
            (Some(33), Some(8))
        );
        assert!(chunks.iter().all(|c| c.error.is_none()));
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
