//! Knowledge-base entries: list and read (every member, internal entries included: agents
//! need them), create, edit, roll back (editors and admins), history and diffs. Every write is
//! a new immutable revision.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use kefu_core::domain::{EntryContent, EntryStatus, KbEntry, KbRevision, Role, Visibility};
use kefu_core::{KbEntryId, SiteId, Timestamp, validate};
use kefu_kb::Audience;
use kefu_kb::revisions::{self, RevisionDiff};
use kefu_kb::search::SearchResult;
use kefu_store::{EntryQuery, EntrySource, StoreError};
use serde::{Deserialize, Serialize};

use crate::audit::Target;
use crate::auth::AgentAuth;
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiJson, ApiPath, ApiQuery};
use crate::state::AppState;

/// A save refused because someone else saved first.
fn revision_conflict(e: StoreError) -> ApiError {
    match e {
        StoreError::InvalidState(m) => ApiError::conflict("revision_conflict", m),
        other => other.into(),
    }
}

/// Loads an entry on one of the agent's sites (others are 404).
async fn load(state: &AppState, auth: &AgentAuth, id: KbEntryId) -> ApiResult<KbEntry> {
    let entry = state.store.get_kb_entry(id).await?;
    auth.require_site(state, entry.site_id)
        .await
        .map_err(|_| ApiError::not_found("knowledge-base entry"))?;
    Ok(entry)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListParams {
    category: Option<String>,
    status: Option<EntryStatus>,
    visibility: Option<Visibility>,
    /// Title contains (case-insensitive).
    q: Option<String>,
    /// Only entries due for review before this time (RFC 3339); `now` for overdue ones.
    review_due_before: Option<String>,
    cursor: Option<String>,
    limit: Option<u32>,
}

#[derive(Serialize)]
pub struct EntryList {
    items: Vec<KbEntry>,
    next_cursor: Option<String>,
}

/// `GET /api/v1/sites/{id}/kb/entries`
pub async fn list_kb_entries(
    State(state): State<AppState>,
    auth: AgentAuth,
    ApiPath(site): ApiPath<SiteId>,
    ApiQuery(p): ApiQuery<ListParams>,
) -> ApiResult<Json<EntryList>> {
    auth.require_site(&state, site).await?;
    let review_due_before = match p.review_due_before.as_deref() {
        None => None,
        Some("now") => Some(Timestamp::now()),
        Some(text) => Some(
            Timestamp::parse(text)
                .map_err(|e| ApiError::bad_request("invalid_query", e.to_string()))?,
        ),
    };
    let page = state
        .store
        .list_kb_entries(&EntryQuery {
            site: Some(site),
            category: p.category.map(|c| c.trim().to_lowercase()),
            status: p.status.map(|s| s.as_str().to_owned()),
            visibility: p.visibility.map(|v| v.as_str().to_owned()),
            title_contains: p.q,
            review_due_before,
            cursor: p.cursor,
            limit: p.limit.unwrap_or(50),
        })
        .await
        .map_err(|e| match e {
            StoreError::InvalidState(m) => ApiError::bad_request("invalid_cursor", m),
            other => other.into(),
        })?;
    Ok(Json(EntryList {
        items: page.items,
        next_cursor: page.next_cursor,
    }))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewEntry {
    #[serde(flatten)]
    content: EntryContent,
    /// Why, for the history ("first version", "from the 2026 price list"…).
    note: Option<String>,
}

fn check_note(note: Option<String>) -> ApiResult<Option<String>> {
    Ok(note
        .map(|n| validate::short_text("note", &n, 300))
        .transpose()?)
}

/// `POST /api/v1/sites/{id}/kb/entries` (editor)
pub async fn create_kb_entry(
    State(state): State<AppState>,
    auth: AgentAuth,
    ApiPath(site): ApiPath<SiteId>,
    ApiJson(req): ApiJson<NewEntry>,
) -> ApiResult<(StatusCode, Json<KbEntry>)> {
    auth.require_site(&state, site).await?;
    auth.require_role(Role::Editor)?;
    let content = req.content.validated()?;
    let note = check_note(req.note)?;
    let entry = state
        .store
        .create_kb_entry(
            site,
            &content,
            Some(auth.agent.id),
            note.as_deref(),
            &EntrySource::default(),
        )
        .await?;
    state.knowledge_changed(&entry).await;
    state
        .audit(
            &auth,
            "kb.entry.create",
            Target::in_site(site, "kb_entry", entry.id),
            serde_json::json!({ "revision": entry.revision }),
        )
        .await;
    Ok((StatusCode::CREATED, Json(entry)))
}

/// `GET /api/v1/kb/entries/{id}`
pub async fn get_kb_entry(
    State(state): State<AppState>,
    auth: AgentAuth,
    ApiPath(id): ApiPath<KbEntryId>,
) -> ApiResult<Json<KbEntry>> {
    Ok(Json(load(&state, &auth, id).await?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EntryUpdate {
    #[serde(flatten)]
    content: EntryContent,
    /// The revision the editor started from; a later save by someone else is a 409.
    expected_revision: Option<i64>,
    note: Option<String>,
}

/// `PUT /api/v1/kb/entries/{id}` (editor): writes the next revision.
pub async fn update_kb_entry(
    State(state): State<AppState>,
    auth: AgentAuth,
    ApiPath(id): ApiPath<KbEntryId>,
    ApiJson(req): ApiJson<EntryUpdate>,
) -> ApiResult<Json<KbEntry>> {
    load(&state, &auth, id).await?;
    auth.require_role(Role::Editor)?;
    let content = req.content.validated()?;
    let note = check_note(req.note)?;
    let entry = state
        .store
        .update_kb_entry(
            id,
            &content,
            Some(auth.agent.id),
            note.as_deref(),
            req.expected_revision,
            None,
        )
        .await
        .map_err(revision_conflict)?;
    state.knowledge_changed(&entry).await;
    state
        .audit(
            &auth,
            "kb.entry.update",
            Target::in_site(entry.site_id, "kb_entry", entry.id),
            serde_json::json!({ "revision": entry.revision }),
        )
        .await;
    Ok(Json(entry))
}

/// `GET /api/v1/kb/entries/{id}/revisions` (newest first)
pub async fn list_kb_revisions(
    State(state): State<AppState>,
    auth: AgentAuth,
    ApiPath(id): ApiPath<KbEntryId>,
) -> ApiResult<Json<Vec<KbRevision>>> {
    load(&state, &auth, id).await?;
    Ok(Json(state.store.list_kb_revisions(id).await?))
}

/// `GET /api/v1/kb/entries/{id}/revisions/{revision}`: the exact text a citation used.
pub async fn get_kb_revision(
    State(state): State<AppState>,
    auth: AgentAuth,
    ApiPath((id, revision)): ApiPath<(KbEntryId, i64)>,
) -> ApiResult<Json<KbRevision>> {
    load(&state, &auth, id).await?;
    Ok(Json(state.store.get_kb_revision(id, revision).await?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DiffParams {
    from: i64,
    /// Default: the current revision.
    to: Option<i64>,
}

/// `GET /api/v1/kb/entries/{id}/diff?from=&to=`
pub async fn diff_kb_revisions(
    State(state): State<AppState>,
    auth: AgentAuth,
    ApiPath(id): ApiPath<KbEntryId>,
    ApiQuery(p): ApiQuery<DiffParams>,
) -> ApiResult<Json<RevisionDiff>> {
    let entry = load(&state, &auth, id).await?;
    let to = p.to.unwrap_or(entry.revision);
    let a = state.store.get_kb_revision(id, p.from).await?;
    let b = state.store.get_kb_revision(id, to).await?;
    Ok(Json(revisions::diff(
        a.revision, &a.content, b.revision, &b.content,
    )))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RollbackRequest {
    /// The revision whose content becomes current again (as a new revision).
    revision: i64,
    note: Option<String>,
}

/// `POST /api/v1/kb/entries/{id}/rollback` (editor): history is never rewritten; the old
/// content comes back as the next revision.
pub async fn rollback_kb_entry(
    State(state): State<AppState>,
    auth: AgentAuth,
    ApiPath(id): ApiPath<KbEntryId>,
    ApiJson(req): ApiJson<RollbackRequest>,
) -> ApiResult<Json<KbEntry>> {
    let entry = load(&state, &auth, id).await?;
    auth.require_role(Role::Editor)?;
    let old = state.store.get_kb_revision(id, req.revision).await?;
    let note =
        check_note(req.note)?.unwrap_or_else(|| format!("rollback to revision {}", old.revision));
    let entry = state
        .store
        .update_kb_entry(
            id,
            &old.content,
            Some(auth.agent.id),
            Some(&note),
            Some(entry.revision),
            None,
        )
        .await
        .map_err(revision_conflict)?;
    state.knowledge_changed(&entry).await;
    state
        .audit(
            &auth,
            "kb.entry.rollback",
            Target::in_site(entry.site_id, "kb_entry", entry.id),
            serde_json::json!({ "revision": entry.revision, "from_revision": old.revision }),
        )
        .await;
    Ok(Json(entry))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SearchParams {
    q: String,
    /// `visitor` (what the assistant may use: published, public) or `agent` (default).
    audience: Option<String>,
    limit: Option<usize>,
}

/// `GET /api/v1/sites/{id}/kb/search?q=&audience=`: the retrieval test — ranked chunks with
/// scores, the revision they come from, and the query terms each matched.
pub async fn search_kb(
    State(state): State<AppState>,
    auth: AgentAuth,
    ApiPath(site): ApiPath<SiteId>,
    ApiQuery(p): ApiQuery<SearchParams>,
) -> ApiResult<Json<Vec<SearchResult>>> {
    auth.require_site(&state, site).await?;
    let audience = match p.audience.as_deref() {
        None | Some("agent") => Audience::Agent,
        Some("visitor") => Audience::Visitor,
        Some(other) => {
            return Err(ApiError::bad_request(
                "invalid_query",
                format!("unknown audience `{other}`"),
            ));
        }
    };
    if p.q.trim().is_empty() || p.q.chars().count() > 1000 {
        return Err(ApiError::bad_request(
            "invalid_query",
            "q must be 1-1000 characters",
        ));
    }
    let limit = p.limit.unwrap_or(10).clamp(1, 50);
    let results = state
        .search
        .search(&state.store, site, &p.q, audience, limit)
        .await
        .map_err(ApiError::internal)?;
    Ok(Json(results))
}

/// What `GET /api/v1/kb/embeddings` reports.
#[derive(serde::Serialize)]
pub struct EmbeddingStatus {
    /// False: no embedding model is configured and search is full text only.
    pub enabled: bool,
    #[serde(flatten)]
    pub status: Option<kefu_kb::vectors::VectorStatus>,
}

/// `GET /api/v1/kb/embeddings`: the embedding model hybrid search uses and how far the
/// background embedding has got (chunks indexed, entries waiting, last error).
pub async fn get_embedding_status(
    State(state): State<AppState>,
    _auth: AgentAuth,
) -> ApiResult<Json<EmbeddingStatus>> {
    let status = state.search.vectors().map(|v| v.status());
    Ok(Json(EmbeddingStatus {
        enabled: status.is_some(),
        status,
    }))
}
