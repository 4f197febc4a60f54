//! The widget's API (`/api/v1/visitor/…`): start or resume a visitor session, open a
//! conversation, read and post messages, read marks, typing, ask for a human, leave an e-mail.
//! Every call but the first carries the visitor token as a bearer token.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::{Extension, Json};
use kefu_core::domain::visitor::truncate_ip;
use kefu_core::domain::{AuthorKind, Conversation, ConversationStatus, Message};
use kefu_core::protocol::ServerFrame;
use kefu_core::{ConversationId, SiteId, validate};
use kefu_store::{StoreError, VisitorSeen};
use serde::{Deserialize, Serialize};

use super::conversations::{
    LogPage, LogParams, NewMessageRequest, ReadMark, ReadRequest, TypingRequest,
    created_or_existing, read_log, record_read,
};
use crate::auth::{VISITOR_TOKEN_PREFIX, VisitorAuth, hash_secret, new_secret};
use crate::chat::{lifecycle, messages};
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiJson, ApiPath, ApiQuery};
use crate::realtime::Topic;
use crate::state::AppState;
use crate::widget_origin::OriginChecked;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SessionRequest {
    site_id: SiteId,
    /// A token from an earlier session, to be recognised again.
    token: Option<String>,
    page_url: Option<String>,
    referrer: Option<String>,
    language: Option<String>,
    /// Who the customer's site says this is, signed with the site's identity secret.
    user: Option<IdentityClaim>,
}

/// A signed identity from the customer's site (see `auth::identity`).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IdentityClaim {
    id: String,
    name: Option<String>,
    email: Option<String>,
    /// Hex HMAC-SHA256 of `id` under the site's identity secret.
    signature: String,
}

/// What the widget needs to render.
#[derive(Serialize)]
pub struct WidgetSite {
    id: SiteId,
    name: String,
    welcome_message: String,
    offline_message: String,
    widget_color: String,
    widget_title: String,
    /// `right` or `left`.
    widget_position: String,
    widget_avatar_url: Option<String>,
    bot_enabled: bool,
    /// When true, the visitor must accept `consent_notice` (version `consent_version`) before
    /// the first message.
    consent_required: bool,
    consent_notice: String,
    consent_version: String,
    privacy_policy_url: Option<String>,
    /// File kinds the widget may upload (empty: no paperclip) and the size cap in bytes.
    attachment_types: Vec<kefu_core::domain::FileKind>,
    attachment_max_bytes: u64,
}

/// The visitor's own view of themselves.
#[derive(Serialize)]
pub struct VisitorView {
    id: kefu_core::VisitorId,
    name: Option<String>,
    email: Option<String>,
    /// The notice version this visitor accepted, if any.
    consent_version: Option<String>,
    /// The customer's user id, when a signed identity checked out.
    external_id: Option<String>,
}

#[derive(Serialize)]
pub struct SessionResponse {
    token: String,
    visitor: VisitorView,
    site: WidgetSite,
    agents_online: bool,
}

fn clip(value: Option<String>, max: usize) -> Option<String> {
    value
        .map(|v| v.trim().chars().take(max).collect::<String>())
        .filter(|v| !v.is_empty())
}

/// `POST /api/v1/visitor/sessions`: 201 with a new token, or 200 when `token` was
/// recognised for this site.
pub async fn create_session(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    ApiJson(req): ApiJson<SessionRequest>,
) -> ApiResult<(StatusCode, Extension<OriginChecked>, Json<SessionResponse>)> {
    let site = match state.store.get_site(req.site_id).await {
        Ok(site) => site,
        Err(StoreError::NotFound(_)) => return Err(ApiError::not_found("site")),
        Err(e) => return Err(e.into()),
    };
    let origin = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok());
    if !site.allows_origin(origin) {
        return Err(crate::widget_origin::forbidden_origin());
    }
    let seen = VisitorSeen {
        page_url: clip(req.page_url, 2048),
        referrer: clip(req.referrer, 2048),
        language: clip(req.language, 35),
        user_agent: clip(
            headers
                .get(header::USER_AGENT)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned),
            512,
        ),
        ip_truncated: Some(truncate_ip(crate::extract::client_ip(
            &state.config,
            &headers,
            peer,
        ))),
    };
    let known = match req.token.as_deref() {
        Some(token) if token.starts_with(VISITOR_TOKEN_PREFIX) => {
            match state.store.get_visitor_by_token(&hash_secret(token)).await {
                Ok(v) if v.site_id == site.id => Some((token.to_owned(), v)),
                Ok(_) | Err(StoreError::NotFound(_)) => None,
                Err(e) => return Err(e.into()),
            }
        }
        _ => None,
    };
    let (status, token, visitor) = match known {
        Some((token, visitor)) => {
            let visitor = state.store.touch_visitor(visitor.id, &seen).await?;
            (StatusCode::OK, token, visitor)
        }
        None => {
            let token = new_secret(VISITOR_TOKEN_PREFIX);
            let visitor = state
                .store
                .create_visitor(site.id, &hash_secret(&token), &seen)
                .await?;
            (StatusCode::CREATED, token, visitor)
        }
    };
    let visitor = match req.user {
        Some(claim) => identify(&state, &site, visitor, claim).await?,
        None => visitor,
    };
    let agents_online = state
        .store
        .least_busy_online_agent(site.id, 0)
        .await?
        .is_some();
    let s = site.settings;
    Ok((
        status,
        // The page's origin passed this site's rule: the CORS layer may grant it.
        Extension(OriginChecked),
        Json(SessionResponse {
            token,
            visitor: VisitorView {
                id: visitor.id,
                name: visitor.name,
                email: visitor.email,
                consent_version: visitor.consent_version,
                external_id: visitor.external_id,
            },
            site: WidgetSite {
                id: site.id,
                name: site.name,
                welcome_message: s.welcome_message,
                offline_message: s.offline_message,
                widget_color: s.widget_color,
                widget_title: s.widget_title,
                widget_position: s.widget_position,
                widget_avatar_url: Some(s.widget_avatar_url).filter(|u| !u.is_empty()),
                bot_enabled: s.bot_enabled,
                consent_required: s.consent_required,
                consent_notice: s.consent_notice,
                consent_version: s.consent_version,
                privacy_policy_url: Some(s.privacy_policy_url).filter(|u| !u.is_empty()),
                attachment_types: s.attachment_types,
                attachment_max_bytes: s.attachment_max_bytes,
            },
            agents_online,
        }),
    ))
}

/// `GET /api/v1/visitor/conversations`
pub async fn list_conversations(
    State(state): State<AppState>,
    auth: VisitorAuth,
) -> ApiResult<Json<Vec<Conversation>>> {
    Ok(Json(
        state
            .store
            .list_visitor_conversations(auth.visitor.id)
            .await?,
    ))
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct NewConversationRequest {
    /// A first message to post with the conversation.
    message: Option<NewMessageRequest>,
}

#[derive(Serialize)]
pub struct NewConversationResponse {
    conversation: Conversation,
    message: Option<Message>,
}

/// `POST /api/v1/visitor/conversations`: returns the visitor's open conversation (200) if
/// there is one, so a retried call never opens a second; otherwise opens one (201). The
/// optional first message is posted either way (and deduplicated by its client id).
pub async fn create_conversation(
    State(state): State<AppState>,
    auth: VisitorAuth,
    body: Option<ApiJson<NewConversationRequest>>,
) -> ApiResult<(StatusCode, Json<NewConversationResponse>)> {
    let req = body.map(|b| b.0).unwrap_or_default();
    let visitor = &auth.visitor;
    // Before anything is created: a refused first message must not leave an empty
    // conversation behind.
    if req.message.is_some() {
        messages::require_consent(&state, visitor).await?;
    }
    let open = state
        .store
        .list_visitor_conversations(visitor.id)
        .await?
        .into_iter()
        .find(|c| c.status.is_open());
    let (status, conversation) = match open {
        Some(c) => (StatusCode::OK, c),
        None => {
            // Opening costs one rate-limit token; with a first message, that message's.
            if req.message.is_none() {
                state.limiter.check(visitor.id)?;
            }
            let site = state.store.get_site(visitor.site_id).await?;
            let initial = if site.settings.bot_enabled {
                ConversationStatus::Bot
            } else {
                ConversationStatus::Waiting
            };
            let c = state
                .store
                .create_conversation(site.id, visitor.id, initial, "web")
                .await?;
            state.hub.publish_conversation(&c);
            (StatusCode::CREATED, c)
        }
    };
    let message = match req.message {
        Some(m) => {
            if m.private {
                return Err(ApiError::forbidden("visitors cannot write private notes"));
            }
            let out = messages::Outgoing {
                client_id: m.client_id,
                text: m.text,
                attachments: m.attachments,
                attachment_ids: m.attachment_ids,
                private: false,
            };
            Some(
                messages::send_as_visitor(&state, visitor, &conversation, out)
                    .await?
                    .message()
                    .clone(),
            )
        }
        None => None,
    };
    let conversation = if status == StatusCode::CREATED {
        lifecycle::route(&state, conversation.id).await?
    } else {
        state.store.get_conversation(conversation.id).await?
    };
    Ok((
        status,
        Json(NewConversationResponse {
            conversation,
            message,
        }),
    ))
}

/// `GET /api/v1/visitor/conversations/{id}`
pub async fn get_conversation(
    State(state): State<AppState>,
    auth: VisitorAuth,
    ApiPath(id): ApiPath<ConversationId>,
) -> ApiResult<Json<Conversation>> {
    Ok(Json(auth.own_conversation(&state, id).await?))
}

/// `GET /api/v1/visitor/conversations/{id}/messages` (private notes never included)
pub async fn list_messages(
    State(state): State<AppState>,
    auth: VisitorAuth,
    ApiPath(id): ApiPath<ConversationId>,
    ApiQuery(p): ApiQuery<LogParams>,
) -> ApiResult<Json<LogPage>> {
    auth.own_conversation(&state, id).await?;
    Ok(Json(read_log(&state, id, p, false).await?))
}

/// `POST /api/v1/visitor/conversations/{id}/messages`
pub async fn create_message(
    State(state): State<AppState>,
    auth: VisitorAuth,
    ApiPath(id): ApiPath<ConversationId>,
    ApiJson(req): ApiJson<NewMessageRequest>,
) -> ApiResult<(StatusCode, Json<Message>)> {
    let conversation = auth.own_conversation(&state, id).await?;
    let out = messages::Outgoing {
        client_id: req.client_id,
        text: req.text,
        attachments: req.attachments,
        attachment_ids: req.attachment_ids,
        private: req.private,
    };
    let outcome = messages::send_as_visitor(&state, &auth.visitor, &conversation, out).await?;
    Ok(created_or_existing(outcome))
}

/// `POST /api/v1/visitor/conversations/{id}/read`
pub async fn mark_read(
    State(state): State<AppState>,
    auth: VisitorAuth,
    ApiPath(id): ApiPath<ConversationId>,
    ApiJson(req): ApiJson<ReadRequest>,
) -> ApiResult<Json<ReadMark>> {
    auth.own_conversation(&state, id).await?;
    Ok(Json(
        record_read(&state, id, AuthorKind::Visitor, req.seq).await?,
    ))
}

/// `POST /api/v1/visitor/conversations/{id}/typing`
pub async fn typing(
    State(state): State<AppState>,
    auth: VisitorAuth,
    ApiPath(id): ApiPath<ConversationId>,
    ApiJson(req): ApiJson<TypingRequest>,
) -> ApiResult<StatusCode> {
    auth.own_conversation(&state, id).await?;
    state.hub.publish(
        Topic::Conversation(id),
        ServerFrame::Typing {
            conversation_id: id,
            author_kind: AuthorKind::Visitor,
            author_id: Some(auth.visitor.id.to_string()),
            author_name: auth.visitor.name.clone(),
            typing: req.typing,
        },
    );
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct HandoffRequest {
    reason: Option<String>,
}

/// `POST /api/v1/visitor/conversations/{id}/handoff`: the visitor asks for a human. Always
/// honoured; asking again while a human is involved changes nothing.
pub async fn request_handoff(
    State(state): State<AppState>,
    auth: VisitorAuth,
    ApiPath(id): ApiPath<ConversationId>,
    body: Option<ApiJson<HandoffRequest>>,
) -> ApiResult<Json<Conversation>> {
    auth.own_conversation(&state, id).await?;
    let reason = body
        .and_then(|b| b.0.reason)
        .map(|r| validate::short_text("reason", &r, 200))
        .transpose()?
        .unwrap_or_else(|| "human_requested".to_owned());
    Ok(Json(lifecycle::request_human(&state, id, &reason).await?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ContactRequest {
    email: String,
    name: Option<String>,
}

/// `POST /api/v1/visitor/conversations/{id}/contact`: leave an e-mail for a reply.
pub async fn leave_contact(
    State(state): State<AppState>,
    auth: VisitorAuth,
    ApiPath(id): ApiPath<ConversationId>,
    ApiJson(req): ApiJson<ContactRequest>,
) -> ApiResult<(StatusCode, Json<Message>)> {
    let conversation = auth.own_conversation(&state, id).await?;
    state.limiter.check(auth.visitor.id)?;
    let (_, outcome) = messages::leave_contact(
        &state,
        &auth.visitor,
        &conversation,
        &req.email,
        req.name.as_deref(),
    )
    .await?;
    Ok(created_or_existing(outcome))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FeedbackRequest {
    /// `up` or `down`.
    rating: String,
    reason: Option<String>,
}

/// `POST /api/v1/visitor/conversations/{id}/messages/{message_id}/feedback`: thumbs up or down
/// on one of the assistant's answers (changeable); the cited entries' totals follow.
pub async fn rate_message(
    State(state): State<AppState>,
    auth: VisitorAuth,
    ApiPath((id, message_id)): ApiPath<(ConversationId, kefu_core::MessageId)>,
    ApiJson(req): ApiJson<FeedbackRequest>,
) -> ApiResult<StatusCode> {
    auth.own_conversation(&state, id).await?;
    let up = match req.rating.as_str() {
        "up" => true,
        "down" => false,
        _ => return Err(validate::ValidationError::invalid("rating", "up or down").into()),
    };
    let reason = req
        .reason
        .map(|r| validate::short_text("reason", &r, 500))
        .transpose()?;
    let log = state.store.list_messages_after(id, 0, 500, false).await?;
    let Some(message) = log.items.into_iter().find(|m| m.id == message_id) else {
        return Err(ApiError::not_found("message"));
    };
    let Some(answer) = message
        .answer
        .filter(|_| message.author_kind == AuthorKind::Bot)
    else {
        return Err(ApiError::conflict(
            "invalid_state",
            "only the assistant's answers can be rated",
        ));
    };
    let cited: Vec<_> = answer.citations.iter().map(|c| c.entry_id).collect();
    state
        .store
        .rate_message(id, message_id, up, reason.as_deref(), &cited)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CsatRequest {
    /// 1 (very unhappy) to 5 (very happy).
    rating: i64,
    comment: Option<String>,
}

/// `POST /api/v1/visitor/conversations/{id}/csat`: the visitor rates a resolved conversation
/// (changeable). Rating an open conversation is refused: the service is not over yet.
pub async fn rate_conversation(
    State(state): State<AppState>,
    auth: VisitorAuth,
    ApiPath(id): ApiPath<ConversationId>,
    ApiJson(req): ApiJson<CsatRequest>,
) -> ApiResult<StatusCode> {
    let conversation = auth.own_conversation(&state, id).await?;
    if !(1..=5).contains(&req.rating) {
        return Err(validate::ValidationError::invalid("rating", "1 to 5").into());
    }
    let comment = req
        .comment
        .filter(|c| !c.trim().is_empty())
        .map(|c| validate::short_text("comment", &c, 1000))
        .transpose()?;
    if conversation.status != ConversationStatus::Resolved {
        return Err(ApiError::conflict(
            "invalid_state",
            "only a resolved conversation can be rated",
        ));
    }
    state
        .store
        .rate_conversation(conversation.site_id, id, req.rating, comment.as_deref())
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConsentRequest {
    /// The notice version the visitor was shown.
    version: String,
}

/// `POST /api/v1/visitor/consent`: the visitor accepts the site's privacy notice. The version
/// must be the current one, so a notice changed while the widget was open is shown again.
pub async fn give_consent(
    State(state): State<AppState>,
    auth: VisitorAuth,
    ApiJson(req): ApiJson<ConsentRequest>,
) -> ApiResult<StatusCode> {
    let site = state.store.get_site(auth.visitor.site_id).await?;
    if req.version != site.settings.consent_version {
        return Err(ApiError::conflict(
            "stale_consent",
            "the privacy notice has changed; show the current one",
        ));
    }
    state
        .store
        .record_consent(auth.visitor.id, &req.version)
        .await?;
    tracing::info!(visitor = %auth.visitor.id, version = %req.version, "privacy notice accepted");
    Ok(StatusCode::NO_CONTENT)
}

/// Applies a signed identity when it checks out with the site's secret; otherwise the visitor
/// stays as it was (anonymous, or whoever a valid signature said before).
async fn identify(
    state: &AppState,
    site: &kefu_core::domain::Site,
    visitor: kefu_core::domain::Visitor,
    claim: IdentityClaim,
) -> ApiResult<kefu_core::domain::Visitor> {
    let Some(sealed) = state.store.get_identity_secret(site.id).await? else {
        return Ok(visitor);
    };
    let secret = state
        .gateways
        .secrets()
        .open(&sealed)
        .map_err(ApiError::internal)?;
    let id = claim.id.trim();
    if id.is_empty()
        || id.len() > 200
        || !crate::auth::identity::verify(&secret, id, &claim.signature)
    {
        tracing::info!(site = %site.id, visitor = %visitor.id, "identity signature did not verify; visitor stays anonymous");
        return Ok(visitor);
    }
    let name = clip(claim.name, 100);
    let email = claim.email.and_then(|e| validate::email(&e).ok());
    Ok(state
        .store
        .set_visitor_identity(visitor.id, id, name.as_deref(), email.as_deref())
        .await?)
}
