//! Sending messages as a visitor or an agent: validation, ownership, rate limits, and the
//! status side effects (a visitor writing to a resolved conversation reopens it; an agent's
//! public reply to an unheld conversation takes it, so the bot falls silent).

use kefu_core::domain::{
    Agent, Attachment, AuthorKind, Conversation, ConversationStatus, SystemEvent, Visitor,
};
use kefu_core::validate;
use kefu_store::{AppendOutcome, NewMessage, Transition};

use super::{commit, lifecycle};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

/// Most attachments on one message.
const MAX_ATTACHMENTS: usize = 10;

/// What a sender asks to post.
#[derive(Clone, Debug)]
pub struct Outgoing {
    pub client_id: String,
    pub text: String,
    pub attachments: Vec<Attachment>,
    /// Files uploaded to the conversation beforehand, to carry on this message.
    pub attachment_ids: Vec<kefu_core::AttachmentId>,
    pub private: bool,
}

/// The message's text (which may be empty when it carries files) and its attachments.
async fn text_and_files(
    state: &AppState,
    conversation: &Conversation,
    sender: (AuthorKind, &str),
    out: &Outgoing,
) -> ApiResult<(String, Vec<Attachment>)> {
    let files = out.attachments.len() + out.attachment_ids.len() > 0;
    let text = if files && out.text.trim().is_empty() {
        String::new()
    } else {
        validate::message_text(&out.text, state.config.max_message_chars)?
    };
    check_attachments(&out.attachments)?;
    let all = crate::attachments::resolve_for_message(
        state,
        conversation,
        sender,
        &out.attachments,
        &out.attachment_ids,
    )
    .await?;
    check_attachments(&all)?;
    Ok((text, all))
}

fn check_attachments(attachments: &[Attachment]) -> ApiResult<()> {
    if attachments.len() > MAX_ATTACHMENTS {
        return Err(validate::ValidationError::invalid(
            "attachments",
            format!("at most {MAX_ATTACHMENTS}"),
        )
        .into());
    }
    for a in attachments {
        let url_ok =
            a.url.starts_with("https://") || a.url.starts_with("http://") || a.url.starts_with('/');
        if !url_ok || a.url.len() > 2048 || a.name.trim().is_empty() || a.name.len() > 255 {
            return Err(validate::ValidationError::invalid(
                "attachments",
                "each needs an http(s) or site-relative url and a name",
            )
            .into());
        }
    }
    Ok(())
}

/// A visitor posts to their own conversation.
pub async fn send_as_visitor(
    state: &AppState,
    visitor: &Visitor,
    conversation: &Conversation,
    out: Outgoing,
) -> ApiResult<AppendOutcome> {
    validate::client_id(&out.client_id)?;
    if out.private {
        return Err(ApiError::forbidden("visitors cannot write private notes"));
    }
    let visitor_id = visitor.id.to_string();
    let sender = (AuthorKind::Visitor, visitor_id.as_str());
    let (text, attachments) = text_and_files(state, conversation, sender, &out).await?;
    require_consent(state, visitor).await?;
    state.limiter.check(visitor.id)?;
    let reopen = conversation.status == ConversationStatus::Resolved;
    let outcome = commit(
        state,
        conversation.id,
        NewMessage {
            author_kind: Some(AuthorKind::Visitor),
            author_id: Some(visitor.id.to_string()),
            author_name: visitor.name.clone(),
            text,
            attachments,
            private: false,
            event: None,
            client_id: Some(out.client_id),
            answer: None,
        },
        None,
    )
    .await?;
    if let AppendOutcome::Created {
        message,
        conversation: now,
    } = &outcome
    {
        if reopen {
            // A visitor coming back to a resolved conversation needs someone again.
            lifecycle::reopen(state, conversation.id, None).await?;
        } else if now.status == ConversationStatus::Bot && !message.text.is_empty() {
            // A file without words gives the assistant nothing to answer.
            super::bot::spawn_reply(state, now.id, message.clone());
        }
    }
    Ok(outcome)
}

/// An agent posts a reply or a private note.
pub async fn send_as_agent(
    state: &AppState,
    agent: &Agent,
    conversation: &Conversation,
    out: Outgoing,
) -> ApiResult<AppendOutcome> {
    validate::client_id(&out.client_id)?;
    let agent_id = agent.id.to_string();
    let sender = (AuthorKind::Agent, agent_id.as_str());
    let (text, attachments) = text_and_files(state, conversation, sender, &out).await?;
    // A public reply to a conversation nobody holds means this agent is taking it over:
    // assign first so the bot stays silent and the inbox shows who answers.
    if !out.private
        && conversation.assignee_id != Some(agent.id)
        && (conversation.assignee_id.is_none()
            || conversation.status == ConversationStatus::Resolved)
    {
        lifecycle::assign(state, conversation.id, agent.id, Some(agent.id)).await?;
    }
    commit(
        state,
        conversation.id,
        NewMessage {
            author_kind: Some(AuthorKind::Agent),
            author_id: Some(agent.id.to_string()),
            author_name: Some(agent.name.clone()),
            text,
            attachments,
            private: out.private,
            event: None,
            client_id: Some(out.client_id),
            answer: None,
        },
        None,
    )
    .await
}

/// Records a contact e-mail a visitor left while nobody was online.
pub async fn leave_contact(
    state: &AppState,
    visitor: &Visitor,
    conversation: &Conversation,
    email: &str,
    name: Option<&str>,
) -> ApiResult<(Visitor, AppendOutcome)> {
    let email = validate::email(email)?;
    let name = name
        .map(|n| validate::short_text("name", n, 100))
        .transpose()?;
    let visitor = state
        .store
        .set_visitor_contact(visitor.id, name.as_deref(), Some(&email))
        .await?;
    let outcome = commit(
        state,
        conversation.id,
        NewMessage::system(
            SystemEvent::ContactLeft {
                email: email.clone(),
            },
            format!("The visitor left an e-mail address: {email}"),
        ),
        None::<Transition>,
    )
    .await?;
    Ok((visitor, outcome))
}

/// Sites that require consent refuse visitor messages until the current notice is accepted.
/// Checked here, on the one path every visitor message takes (REST and WebSocket alike).
pub async fn require_consent(state: &AppState, visitor: &Visitor) -> ApiResult<()> {
    let site = state.store.get_site(visitor.site_id).await?;
    let s = &site.settings;
    let accepted = |v: &Visitor| v.consent_version.as_deref() == Some(s.consent_version.as_str());
    if !s.consent_required || accepted(visitor) {
        return Ok(());
    }
    // A socket authenticated before the visitor accepted holds an older copy: re-read.
    if !accepted(&state.store.get_visitor(visitor.id).await?) {
        return Err(ApiError::new(
            axum::http::StatusCode::FORBIDDEN,
            "consent_required",
            "accept the site's privacy notice first (POST /api/v1/visitor/consent)",
        ));
    }
    Ok(())
}
