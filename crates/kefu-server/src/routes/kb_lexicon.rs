//! A site's search vocabulary: custom dictionary words (kept whole by the Chinese segmenter)
//! and synonym groups (searched as one). Every member reads it; editors and admins replace
//! it. Synonyms apply from the next search; changed words re-index the knowledge base in the
//! background (`reindexing` says it is still running).

use axum::Json;
use axum::extract::State;
use kefu_core::SiteId;
use kefu_core::domain::{KbLexicon, Role};
use serde::Serialize;

use crate::auth::AgentAuth;
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiJson, ApiPath};
use crate::state::AppState;

/// A lexicon and whether the index is still being rebuilt for its words.
#[derive(Serialize)]
pub struct LexiconView {
    #[serde(flatten)]
    lexicon: KbLexicon,
    reindexing: bool,
}

/// `GET /api/v1/sites/{id}/kb/lexicon`
pub async fn get_kb_lexicon(
    State(state): State<AppState>,
    auth: AgentAuth,
    ApiPath(site): ApiPath<SiteId>,
) -> ApiResult<Json<LexiconView>> {
    auth.require_site(&state, site).await?;
    let lexicon = state.store.get_kb_lexicon(site).await?;
    Ok(Json(LexiconView {
        lexicon,
        reindexing: state.search.index_is_stale(),
    }))
}

/// `PUT /api/v1/sites/{id}/kb/lexicon` (editor): replaces the lexicon.
pub async fn put_kb_lexicon(
    State(state): State<AppState>,
    auth: AgentAuth,
    ApiPath(site): ApiPath<SiteId>,
    ApiJson(lexicon): ApiJson<KbLexicon>,
) -> ApiResult<Json<LexiconView>> {
    auth.require_site(&state, site).await?;
    auth.require_role(Role::Editor)?;
    let lexicon = lexicon.validated()?;
    state
        .store
        .put_kb_lexicon(site, &lexicon, Some(auth.agent.id))
        .await?;
    // The FAQ matcher folds synonyms while training: retrain on next use.
    state.faq.invalidate(site);
    let words_changed = state
        .search
        .lexicon_changed(&state.store, site)
        .await
        .map_err(ApiError::internal)?;
    if words_changed {
        let state = state.clone();
        tokio::spawn(async move {
            match state.search.rebuild(&state.store).await {
                Ok(chunks) => tracing::info!(chunks, "search index rebuilt for new custom words"),
                Err(e) => {
                    tracing::error!(error = %e, "rebuilding the search index failed; a restart rebuilds it")
                }
            }
        });
    }
    Ok(Json(LexiconView {
        lexicon,
        reindexing: words_changed || state.search.index_is_stale(),
    }))
}
