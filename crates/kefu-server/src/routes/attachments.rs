//! Attachments: uploading a file to a conversation (visitors to their own, agents to their
//! sites'), and downloading it. An upload is the raw file as the request body with its name
//! in the `name` query parameter (`POST …/attachments?name=photo.png`): no multipart framing to
//! parse, a UTF-8 name without header encoding, and upload progress from a plain XHR. The
//! file's type is recognised from its bytes against the site's allow-list and its size is
//! capped while it streams; the client's Content-Type is ignored. The answer is the reference
//! a message carries; send it with `attachment_ids`.
//!
//! Downloads carry the detected type, `nosniff`, and `attachment` disposition for everything
//! but raster images; with the API's sandboxing CSP (`crate::security_headers`), a file can
//! never run as a page of ours.

use axum::Json;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use kefu_core::domain::attachment::sanitize_file_name;
use kefu_core::domain::{Attachment, AttachmentInfo, AuthorKind, Conversation, FileKind};
use kefu_core::{AttachmentId, ConversationId};
use kefu_store::NewAttachment;
use serde::Deserialize;

use super::conversations::load as load_for_agent;
use crate::attachments::{self, sniff};
use crate::auth::{AgentAuth, VISITOR_TOKEN_PREFIX, VisitorAuth, bearer_token};
use crate::chat::messages::require_consent;
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiPath, ApiQuery};
use crate::state::AppState;

/// The upload's query string.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UploadParams {
    /// The file's name as the sender knows it (sanitised before it is stored).
    name: String,
}

/// `POST /api/v1/visitor/conversations/{id}/attachments`: 201 with the reference.
pub async fn upload_visitor_attachment(
    State(state): State<AppState>,
    auth: VisitorAuth,
    ApiPath(id): ApiPath<ConversationId>,
    ApiQuery(params): ApiQuery<UploadParams>,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<(StatusCode, Json<Attachment>)> {
    let conversation = auth.own_conversation(&state, id).await?;
    // The same gates as a message: the notice first, and no flooding.
    require_consent(&state, &auth.visitor).await?;
    state.limiter.check(auth.visitor.id)?;
    let uploader = (AuthorKind::Visitor, auth.visitor.id.to_string());
    store_upload(
        &state,
        &conversation,
        uploader,
        &params.name,
        &headers,
        body,
    )
    .await
}

/// `POST /api/v1/conversations/{id}/attachments`: 201 with the reference.
pub async fn upload_attachment(
    State(state): State<AppState>,
    auth: AgentAuth,
    ApiPath(id): ApiPath<ConversationId>,
    ApiQuery(params): ApiQuery<UploadParams>,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<(StatusCode, Json<Attachment>)> {
    let conversation = load_for_agent(&state, &auth, id).await?;
    let uploader = (AuthorKind::Agent, auth.agent.id.to_string());
    store_upload(
        &state,
        &conversation,
        uploader,
        &params.name,
        &headers,
        body,
    )
    .await
}

async fn store_upload(
    state: &AppState,
    conversation: &Conversation,
    uploader: (AuthorKind, String),
    name: &str,
    headers: &HeaderMap,
    body: Body,
) -> ApiResult<(StatusCode, Json<Attachment>)> {
    let site = state.store.get_site(conversation.site_id).await?;
    let allowed = &site.settings.attachment_types;
    if allowed.is_empty() {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "attachments_disabled",
            "this site does not accept files",
        ));
    }
    let length = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    let max = site.settings.attachment_max_bytes;
    let received = attachments::receive(state, body, length, max).await?;
    if received.size == 0 {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "attachment_empty",
            "the file is empty",
        ));
    }
    let name = sanitize_file_name(name);
    let complete = received.size <= received.head.len() as u64;
    let kind = sniff::detect(&received.head, &name, complete)
        .filter(|kind| allowed.contains(kind))
        .ok_or_else(|| refused(allowed))?;
    let info = state
        .store
        .insert_attachment(&NewAttachment {
            id: AttachmentId::new(),
            site_id: site.id,
            conversation_id: conversation.id,
            uploader_kind: uploader.0,
            uploader_id: uploader.1,
            name,
            kind,
            size: received.size,
            sha256: received.sha256.clone(),
        })
        .await?;
    if let Err(e) = received.keep(state, info.id).await {
        let _ = state.store.delete_attachment(info.id).await;
        return Err(ApiError::internal(e));
    }
    tracing::debug!(attachment = %info.id, kind = %info.kind, size = info.size, "file uploaded");
    Ok((StatusCode::CREATED, Json(info.to_message_attachment())))
}

fn refused(allowed: &[FileKind]) -> ApiError {
    let names: Vec<&str> = allowed.iter().map(|k| k.as_str()).collect();
    ApiError::new(
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "attachment_type_refused",
        format!(
            "this kind of file is not accepted (checked by its content); allowed: {}",
            names.join(", ")
        ),
    )
}

/// `GET /api/v1/attachments/{id}`: the file, for the conversation's visitor (bearer visitor
/// token) or an agent of its site (session or API token). Anyone else gets 404, so ids
/// cannot be probed. A visitor sees files on private notes never, and files not yet sent
/// only if they uploaded them.
pub async fn get_attachment(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<AttachmentId>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let info = match state.store.get_attachment(id).await {
        Ok(info) => info,
        Err(kefu_store::StoreError::NotFound(_)) => return Err(ApiError::not_found("attachment")),
        Err(e) => return Err(e.into()),
    };
    let visible = match bearer_token(&headers) {
        Some(token) if token.starts_with(VISITOR_TOKEN_PREFIX) => {
            let auth = VisitorAuth::from_token(&state, token).await?;
            visible_to_visitor(&state, &info, &auth).await?
        }
        _ => {
            let auth = AgentAuth::from_headers(&state, &axum::http::Method::GET, &headers).await?;
            state
                .store
                .is_site_member(info.site_id, auth.agent.id)
                .await?
        }
    };
    if !visible {
        return Err(ApiError::not_found("attachment"));
    }
    let file = match tokio::fs::File::open(attachments::path(&state, id)).await {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(ApiError::not_found("attachment file"));
        }
        Err(e) => return Err(ApiError::internal(e)),
    };
    let body = Body::from_stream(tokio_util::io::ReaderStream::new(file));
    let mut response = body.into_response();
    let h = response.headers_mut();
    let content_type = match info.kind {
        FileKind::Txt | FileKind::Csv => format!("{}; charset=utf-8", info.content_type),
        _ => info.content_type.clone(),
    };
    let disposition = if info.kind.is_inline_image() {
        "inline"
    } else {
        "attachment"
    };
    for (name, value) in [
        (header::CONTENT_TYPE, content_type),
        (header::CONTENT_LENGTH, info.size.to_string()),
        (
            header::CONTENT_DISPOSITION,
            content_disposition(disposition, &info.name),
        ),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff".to_owned()),
        (
            header::HeaderName::from_static("cross-origin-resource-policy"),
            "same-origin".to_owned(),
        ),
    ] {
        let value = HeaderValue::from_str(&value).map_err(ApiError::internal)?;
        h.insert(name, value);
    }
    Ok(response)
}

async fn visible_to_visitor(
    state: &AppState,
    info: &AttachmentInfo,
    auth: &VisitorAuth,
) -> ApiResult<bool> {
    let conversation = state.store.get_conversation(info.conversation_id).await?;
    if conversation.visitor_id != auth.visitor.id {
        return Ok(false);
    }
    if info.uploader_kind == AuthorKind::Visitor && info.uploader_id == auth.visitor.id.to_string()
    {
        return Ok(true);
    }
    match info.message_id {
        Some(message) => Ok(!state.store.is_private_message(message).await?),
        None => Ok(false),
    }
}

/// `attachment; filename="ascii fallback"; filename*=UTF-8''percent-encoded` (RFC 6266).
fn content_disposition(disposition: &str, name: &str) -> String {
    let fallback: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_graphic() && c != '"' && c != '\\' || c == ' ' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let mut encoded = String::new();
    for b in name.bytes() {
        if b.is_ascii_alphanumeric() || b"!#$&+-.^_`|~".contains(&b) {
            encoded.push(b as char);
        } else {
            encoded.push_str(&format!("%{b:02X}"));
        }
    }
    format!("{disposition}; filename=\"{fallback}\"; filename*=UTF-8''{encoded}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn disposition_has_an_ascii_fallback_and_the_utf8_name() {
        assert_eq!(
            content_disposition("attachment", "发票 1.pdf"),
            "attachment; filename=\"__ 1.pdf\"; filename*=UTF-8''%E5%8F%91%E7%A5%A8%201.pdf"
        );
        assert_eq!(
            content_disposition("inline", "a\\b.png"),
            "inline; filename=\"a_b.png\"; filename*=UTF-8''a%5Cb.png"
        );
    }
}
