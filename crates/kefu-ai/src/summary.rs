//! Conversation summaries for agents taking over: what the visitor wants, what the assistant
//! already said, and what is still open. With a language model the summary is written by the
//! model from the (redacted) transcript; without one — or when the provider fails — it is put
//! together from the conversation itself, so the button always gives something useful.

use crate::context::{Speaker, Turn, fit_history};
use crate::gateway::{ChatMessage, ChatRequest, ChatResponse, Gateway, GatewayError};
use crate::language::is_chinese;

/// Transcript tokens a summary request carries (newest kept).
const TRANSCRIPT_BUDGET: u32 = 3000;

/// A summary assembled from the turns alone.
pub fn offline_summary(turns: &[Turn]) -> String {
    let visitor: Vec<&Turn> = turns
        .iter()
        .filter(|t| t.speaker == Speaker::Visitor)
        .collect();
    let chinese = turns.iter().any(|t| is_chinese(&t.text));
    let (asked, latest, replies, agents, none) = if chinese {
        (
            "访客最初的问题",
            "访客最新的消息",
            "助手回复",
            "人工回复",
            "访客还没有发消息。",
        )
    } else {
        (
            "Visitor first asked",
            "Latest from the visitor",
            "Assistant replies",
            "Agent replies",
            "The visitor has not written yet.",
        )
    };
    let Some(first) = visitor.first() else {
        return none.to_owned();
    };
    let mut lines = vec![format!("- {asked}: {}", clip(&first.text))];
    if let Some(last) = visitor
        .last()
        .filter(|l| visitor.len() > 1 && l.text != first.text)
    {
        lines.push(format!("- {latest}: {}", clip(&last.text)));
    }
    let bot = turns
        .iter()
        .filter(|t| t.speaker == Speaker::Assistant)
        .count();
    let human = turns.iter().filter(|t| t.speaker == Speaker::Agent).count();
    lines.push(format!(
        "- {replies}: {bot}; {agents}: {human}; visitor messages: {}",
        visitor.len()
    ));
    lines.join("\n")
}

fn clip(text: &str) -> String {
    let one_line = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if one_line.chars().count() > 200 {
        format!("{}…", one_line.chars().take(200).collect::<String>())
    } else {
        one_line
    }
}

/// Asks the model for a summary of `turns` (already redacted when the site wants that).
pub async fn model_summary(
    gateway: &Gateway,
    mut request: ChatRequest,
    turns: &[Turn],
    redact_personal_data: bool,
) -> Result<(String, ChatResponse), GatewayError> {
    let window = fit_history(turns, TRANSCRIPT_BUDGET, redact_personal_data);
    let transcript: Vec<String> = window
        .messages
        .iter()
        .map(|m| {
            let who = match m.role {
                crate::gateway::Role::User => "Visitor",
                _ => "Support",
            };
            format!("{who}: {}", m.content)
        })
        .collect();
    request.messages = vec![
        ChatMessage::system(
            "You summarise customer-service conversations for the human agent taking over. \
             Write 2-5 short bullet points: what the customer wants, what they already tried \
             or were told, and what is still open. Use only what is in the transcript. Write \
             in the language the customer uses.",
        ),
        ChatMessage::user(transcript.join("\n")),
    ];
    request.max_tokens = Some(250);
    request.temperature = Some(0.2);
    request.cache_key = None;
    let response = gateway.chat(request).await?;
    Ok((response.content.trim().to_owned(), response))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offline_summary_names_the_question_and_the_counts() {
        let turns = vec![
            Turn::new(Speaker::Visitor, "My parcel   has not arrived"),
            Turn::new(Speaker::Assistant, "Orders arrive in 3-5 days."),
            Turn::new(Speaker::Visitor, "It has been two weeks"),
            Turn::new(Speaker::Agent, "Let me check."),
        ];
        let s = offline_summary(&turns);
        assert!(
            s.contains("Visitor first asked: My parcel has not arrived"),
            "{s}"
        );
        assert!(
            s.contains("Latest from the visitor: It has been two weeks"),
            "{s}"
        );
        assert!(s.contains("Assistant replies: 1; Agent replies: 1; visitor messages: 2"));
        assert!(offline_summary(&[]).contains("not written"));
        let zh = offline_summary(&[Turn::new(Speaker::Visitor, "花呗怎么还款")]);
        assert!(zh.contains("访客最初的问题: 花呗怎么还款"), "{zh}");
    }
}
