//! The visitor extractor: `Authorization: Bearer kefu_vt_…`, the token the widget received
//! when its session started. Visitors can only ever reach their own conversations.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use kefu_core::ConversationId;
use kefu_core::domain::{Conversation, Visitor};
use kefu_store::StoreError;

use super::{VISITOR_TOKEN_PREFIX, bearer_token, hash_secret};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

/// An authenticated visitor.
#[derive(Clone, Debug)]
pub struct VisitorAuth {
    pub visitor: Visitor,
}

impl VisitorAuth {
    /// Resolves a visitor token.
    pub async fn from_token(state: &AppState, token: &str) -> ApiResult<Self> {
        if !token.starts_with(VISITOR_TOKEN_PREFIX) {
            return Err(ApiError::unauthenticated());
        }
        match state.store.get_visitor_by_token(&hash_secret(token)).await {
            Ok(visitor) => Ok(Self { visitor }),
            Err(StoreError::NotFound(_)) => Err(ApiError::unauthenticated()),
            Err(other) => Err(other.into()),
        }
    }

    /// The conversation, if it is this visitor's; another visitor's conversation is a 403
    /// (the id was valid, the caller is not allowed), an unknown id a 404.
    pub async fn own_conversation(
        &self,
        state: &AppState,
        id: ConversationId,
    ) -> ApiResult<Conversation> {
        let conversation = state.store.get_conversation(id).await?;
        if conversation.visitor_id != self.visitor.id {
            return Err(ApiError::forbidden(
                "this conversation belongs to someone else",
            ));
        }
        Ok(conversation)
    }
}

impl FromRequestParts<AppState> for VisitorAuth {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        // Already resolved (and its origin checked) by the visitor API's CORS layer.
        if let Some(auth) = parts.extensions.get::<VisitorAuth>() {
            return Ok(auth.clone());
        }
        let token = bearer_token(&parts.headers).ok_or_else(ApiError::unauthenticated)?;
        Self::from_token(state, token).await
    }
}
