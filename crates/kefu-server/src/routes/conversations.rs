//! The agent side of conversations: the inbox, a conversation with its visitor, the log,
//! replies and private notes, assignment and transfer, resolve/reopen, hand back to the bot,
//! tags, read marks and typing.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use kefu_core::domain::{
    Attachment, AuthorKind, Conversation, ConversationFilter, Message, Visitor,
};
use kefu_core::protocol::ServerFrame;
use kefu_core::validate;
use kefu_core::{AgentId, AttachmentId, ConversationId, SiteId, VisitorId};
use kefu_store::{AppendOutcome, ConversationQuery};
use serde::{Deserialize, Serialize};

use crate::auth::AgentAuth;
use crate::chat::{lifecycle, messages};
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiJson, ApiPath, ApiQuery};
use crate::realtime::Topic;
use crate::state::AppState;

/// Loads a conversation on one of the agent's sites; others are 404 (not 403), so agents
/// cannot probe which ids exist elsewhere.
pub(super) async fn load(
    state: &AppState,
    auth: &AgentAuth,
    id: ConversationId,
) -> ApiResult<Conversation> {
    let conversation = state.store.get_conversation(id).await?;
    if !state
        .store
        .is_site_member(conversation.site_id, auth.agent.id)
        .await?
    {
        return Err(ApiError::not_found("conversation"));
    }
    Ok(conversation)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListParams {
    #[serde(default = "default_filter")]
    filter: ConversationFilter,
    site_id: Option<SiteId>,
    tag: Option<String>,
    visitor_id: Option<VisitorId>,
    cursor: Option<String>,
    limit: Option<u32>,
}

fn default_filter() -> ConversationFilter {
    ConversationFilter::Open
}

/// A page of results with the cursor for the next one.
#[derive(Serialize)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next_cursor: Option<String>,
}

/// `GET /api/v1/conversations`
pub async fn list_conversations(
    State(state): State<AppState>,
    auth: AgentAuth,
    ApiQuery(p): ApiQuery<ListParams>,
) -> ApiResult<Json<Page<Conversation>>> {
    let page = state
        .store
        .list_conversations(&ConversationQuery {
            agent: auth.agent.id,
            site: p.site_id,
            filter: p.filter,
            tag: p.tag,
            visitor: p.visitor_id,
            cursor: p.cursor,
            limit: p.limit.unwrap_or(50),
        })
        .await
        .map_err(|e| match e {
            kefu_store::StoreError::InvalidState(m) => ApiError::bad_request("invalid_cursor", m),
            other => other.into(),
        })?;
    Ok(Json(Page {
        items: page.items,
        next_cursor: page.next_cursor,
    }))
}

#[derive(Serialize)]
pub struct ConversationDetail {
    conversation: Conversation,
    visitor: Visitor,
    /// The visitor's satisfaction rating, once given.
    rating: Option<kefu_store::ConversationRating>,
}

/// `GET /api/v1/conversations/{id}`
pub async fn get_conversation(
    State(state): State<AppState>,
    auth: AgentAuth,
    ApiPath(id): ApiPath<ConversationId>,
) -> ApiResult<Json<ConversationDetail>> {
    let conversation = load(&state, &auth, id).await?;
    let visitor = state.store.get_visitor(conversation.visitor_id).await?;
    let rating = state.store.get_conversation_rating(id).await?;
    Ok(Json(ConversationDetail {
        conversation,
        visitor,
        rating,
    }))
}

/// Log paging shared with the visitor routes: `after_seq` (forwards) or `before_seq`
/// (backwards, for scrolling up); neither gives the newest page.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogParams {
    pub after_seq: Option<i64>,
    pub before_seq: Option<i64>,
    pub limit: Option<u32>,
}

/// A slice of the log.
#[derive(Serialize)]
pub struct LogPage {
    pub items: Vec<Message>,
    pub has_more: bool,
}

/// Reads a slice of a conversation's log.
pub async fn read_log(
    state: &AppState,
    id: ConversationId,
    p: LogParams,
    include_private: bool,
) -> ApiResult<LogPage> {
    let limit = p.limit.unwrap_or(50);
    let page = match (p.after_seq, p.before_seq) {
        (Some(_), Some(_)) => {
            return Err(ApiError::bad_request(
                "invalid_query",
                "use after_seq or before_seq, not both",
            ));
        }
        (Some(after), None) => {
            state
                .store
                .list_messages_after(id, after, limit, include_private)
                .await?
        }
        (None, before) => {
            state
                .store
                .list_messages_before(id, before.unwrap_or(i64::MAX), limit, include_private)
                .await?
        }
    };
    Ok(LogPage {
        items: page.items,
        has_more: page.has_more,
    })
}

/// `GET /api/v1/conversations/{id}/messages`
pub async fn list_messages(
    State(state): State<AppState>,
    auth: AgentAuth,
    ApiPath(id): ApiPath<ConversationId>,
    ApiQuery(p): ApiQuery<LogParams>,
) -> ApiResult<Json<LogPage>> {
    load(&state, &auth, id).await?;
    Ok(Json(read_log(&state, id, p, true).await?))
}

/// A message to post (visitor or agent).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewMessageRequest {
    pub client_id: String,
    pub text: String,
    #[serde(default)]
    pub private: bool,
    #[serde(default)]
    pub attachments: Vec<Attachment>,
    /// Uploads (`POST …/attachments`) this message carries.
    #[serde(default)]
    pub attachment_ids: Vec<AttachmentId>,
}

/// 201 with the new message, or 200 with the original when the client id was seen before.
pub fn created_or_existing(outcome: AppendOutcome) -> (StatusCode, Json<Message>) {
    match outcome {
        AppendOutcome::Created { message, .. } => (StatusCode::CREATED, Json(message)),
        AppendOutcome::Duplicate { message } => (StatusCode::OK, Json(message)),
    }
}

/// `POST /api/v1/conversations/{id}/messages`
pub async fn create_message(
    State(state): State<AppState>,
    auth: AgentAuth,
    ApiPath(id): ApiPath<ConversationId>,
    ApiJson(req): ApiJson<NewMessageRequest>,
) -> ApiResult<(StatusCode, Json<Message>)> {
    let conversation = load(&state, &auth, id).await?;
    let out = messages::Outgoing {
        client_id: req.client_id,
        text: req.text,
        attachments: req.attachments,
        attachment_ids: req.attachment_ids,
        private: req.private,
    };
    let outcome = messages::send_as_agent(&state, &auth.agent, &conversation, out).await?;
    Ok(created_or_existing(outcome))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AssignRequest {
    /// The new assignee; `null` puts the conversation back in the queue.
    agent_id: Option<AgentId>,
}

/// `POST /api/v1/conversations/{id}/assign`: take, transfer, or release.
pub async fn assign_conversation(
    State(state): State<AppState>,
    auth: AgentAuth,
    ApiPath(id): ApiPath<ConversationId>,
    ApiJson(req): ApiJson<AssignRequest>,
) -> ApiResult<Json<Conversation>> {
    load(&state, &auth, id).await?;
    let by = Some(auth.agent.id);
    let conversation = match req.agent_id {
        Some(agent) => lifecycle::assign(&state, id, agent, by).await?,
        None => lifecycle::unassign(&state, id, by).await?,
    };
    Ok(Json(conversation))
}

/// `POST /api/v1/conversations/{id}/resolve`
pub async fn resolve_conversation(
    State(state): State<AppState>,
    auth: AgentAuth,
    ApiPath(id): ApiPath<ConversationId>,
) -> ApiResult<Json<Conversation>> {
    load(&state, &auth, id).await?;
    Ok(Json(
        lifecycle::resolve(&state, id, Some(auth.agent.id)).await?,
    ))
}

/// `POST /api/v1/conversations/{id}/reopen`
pub async fn reopen_conversation(
    State(state): State<AppState>,
    auth: AgentAuth,
    ApiPath(id): ApiPath<ConversationId>,
) -> ApiResult<Json<Conversation>> {
    load(&state, &auth, id).await?;
    Ok(Json(
        lifecycle::reopen(&state, id, Some(auth.agent.id)).await?,
    ))
}

/// `POST /api/v1/conversations/{id}/hand-to-bot`
pub async fn hand_to_bot(
    State(state): State<AppState>,
    auth: AgentAuth,
    ApiPath(id): ApiPath<ConversationId>,
) -> ApiResult<Json<Conversation>> {
    load(&state, &auth, id).await?;
    Ok(Json(
        lifecycle::hand_to_bot(&state, id, Some(auth.agent.id)).await?,
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TagsRequest {
    tags: Vec<String>,
}

/// `PUT /api/v1/conversations/{id}/tags`
pub async fn set_tags(
    State(state): State<AppState>,
    auth: AgentAuth,
    ApiPath(id): ApiPath<ConversationId>,
    ApiJson(req): ApiJson<TagsRequest>,
) -> ApiResult<Json<Conversation>> {
    load(&state, &auth, id).await?;
    if req.tags.len() > 20 {
        return Err(validate::ValidationError::invalid("tags", "at most 20").into());
    }
    let mut names = req
        .tags
        .iter()
        .map(|t| validate::short_text("tags", t, 50).map(|t| t.to_lowercase()))
        .collect::<Result<Vec<_>, _>>()?;
    names.sort();
    names.dedup();
    let conversation = state.store.set_conversation_tags(id, &names).await?;
    state.hub.publish_conversation(&conversation);
    Ok(Json(conversation))
}

/// Body of read-mark requests.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReadRequest {
    pub seq: i64,
}

/// The read mark now stored.
#[derive(Serialize)]
pub struct ReadMark {
    pub seq: i64,
}

/// Stores a read mark and tells the conversation's subscribers.
pub async fn record_read(
    state: &AppState,
    id: ConversationId,
    reader: AuthorKind,
    seq: i64,
) -> ApiResult<ReadMark> {
    let seq = state.store.mark_read(id, reader, seq).await?;
    state.hub.publish(
        Topic::Conversation(id),
        ServerFrame::Read {
            conversation_id: id,
            reader,
            seq,
        },
    );
    Ok(ReadMark { seq })
}

/// `POST /api/v1/conversations/{id}/read`
pub async fn mark_read(
    State(state): State<AppState>,
    auth: AgentAuth,
    ApiPath(id): ApiPath<ConversationId>,
    ApiJson(req): ApiJson<ReadRequest>,
) -> ApiResult<Json<ReadMark>> {
    load(&state, &auth, id).await?;
    Ok(Json(
        record_read(&state, id, AuthorKind::Agent, req.seq).await?,
    ))
}

/// Body of typing signals.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TypingRequest {
    pub typing: bool,
}

/// `POST /api/v1/conversations/{id}/typing`
pub async fn typing(
    State(state): State<AppState>,
    auth: AgentAuth,
    ApiPath(id): ApiPath<ConversationId>,
    ApiJson(req): ApiJson<TypingRequest>,
) -> ApiResult<StatusCode> {
    load(&state, &auth, id).await?;
    state.hub.publish(
        Topic::Conversation(id),
        ServerFrame::Typing {
            conversation_id: id,
            author_kind: AuthorKind::Agent,
            author_id: Some(auth.agent.id.to_string()),
            author_name: Some(auth.agent.name.clone()),
            typing: req.typing,
        },
    );
    Ok(StatusCode::NO_CONTENT)
}
