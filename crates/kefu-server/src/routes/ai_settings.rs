//! A site's language-model setup (admin): the provider chain the assistant tries in order,
//! token and cost usage per day, and what the assistant read into visitor messages (intent and
//! sentiment counts). API keys go in and never come out: responses say only whether a key is
//! stored, and an update that leaves `api_key` out keeps the stored key of that provider.

use std::collections::{HashMap, HashSet};

use axum::Json;
use axum::extract::State;
use kefu_core::domain::Role;
use kefu_core::{SiteId, Timestamp};
use kefu_store::{AiProviderRow, AiUsageDay, ClassificationCount};
use serde::{Deserialize, Deserializer, Serialize};

use crate::audit::Target;
use crate::auth::AgentAuth;
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiJson, ApiPath, ApiQuery};
use crate::state::AppState;

/// Longest fallback chain: more providers only lengthen the worst-case wait.
const MAX_PROVIDERS: usize = 5;

/// A provider as the API shows it.
#[derive(Serialize)]
pub struct ProviderView {
    name: String,
    base_url: String,
    model: String,
    azure_api_version: Option<String>,
    has_api_key: bool,
    input_per_million: f64,
    output_per_million: f64,
    max_output_tokens: i64,
    enabled: bool,
}

impl From<&AiProviderRow> for ProviderView {
    fn from(r: &AiProviderRow) -> Self {
        Self {
            name: r.name.clone(),
            base_url: r.base_url.clone(),
            model: r.model.clone(),
            azure_api_version: r.azure_api_version.clone(),
            has_api_key: r.api_key_sealed.is_some(),
            input_per_million: r.input_per_million,
            output_per_million: r.output_per_million,
            max_output_tokens: r.max_output_tokens,
            enabled: r.enabled,
        }
    }
}

/// `api_key`: absent = keep, `null` = remove, a string = replace.
#[derive(Debug, Default, PartialEq)]
enum KeyChange {
    #[default]
    Keep,
    Remove,
    Set(String),
}

fn key_change<'de, D: Deserializer<'de>>(d: D) -> Result<KeyChange, D::Error> {
    Ok(match Option::<String>::deserialize(d)? {
        None => KeyChange::Remove,
        Some(k) => KeyChange::Set(k),
    })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProviderInput {
    name: String,
    base_url: String,
    model: String,
    #[serde(default, deserialize_with = "key_change")]
    api_key: KeyChange,
    azure_api_version: Option<String>,
    #[serde(default)]
    input_per_million: f64,
    #[serde(default)]
    output_per_million: f64,
    max_output_tokens: Option<u32>,
    enabled: Option<bool>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProvidersInput {
    providers: Vec<ProviderInput>,
}

/// Same status and code as every other field check (`ValidationError`).
fn invalid(message: impl Into<String>) -> ApiError {
    ApiError::new(
        axum::http::StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_field",
        message,
    )
}

fn check(p: &ProviderInput) -> ApiResult<()> {
    let name = p.name.trim();
    if name.is_empty() || name.chars().count() > 50 {
        return Err(invalid("provider name must be 1-50 characters"));
    }
    let url = p.base_url.trim();
    if !(url.starts_with("http://") || url.starts_with("https://")) || url.len() > 500 {
        return Err(invalid(format!(
            "provider {name}: base_url must be an http(s) URL"
        )));
    }
    if p.model.trim().is_empty() || p.model.len() > 200 {
        return Err(invalid(format!(
            "provider {name}: model must be 1-200 characters"
        )));
    }
    if let KeyChange::Set(k) = &p.api_key
        && (k.trim().is_empty() || k.len() > 1000)
    {
        return Err(invalid(format!(
            "provider {name}: api_key must be 1-1000 characters (null removes it)"
        )));
    }
    let price_ok = |v: f64| v.is_finite() && (0.0..=1_000_000.0).contains(&v);
    if !price_ok(p.input_per_million) || !price_ok(p.output_per_million) {
        return Err(invalid(format!(
            "provider {name}: prices must be between 0 and 1000000"
        )));
    }
    if p.max_output_tokens
        .is_some_and(|t| !(16..=32_000).contains(&t))
    {
        return Err(invalid(format!(
            "provider {name}: max_output_tokens must be 16-32000"
        )));
    }
    Ok(())
}

/// `GET /api/v1/sites/{id}/ai/providers` (admin)
pub async fn list_providers(
    State(state): State<AppState>,
    auth: AgentAuth,
    ApiPath(site): ApiPath<SiteId>,
) -> ApiResult<Json<Vec<ProviderView>>> {
    auth.require_site(&state, site).await?;
    auth.require_role(Role::Admin)?;
    let rows = state.store.list_ai_providers(site).await?;
    Ok(Json(rows.iter().map(ProviderView::from).collect()))
}

/// `PUT /api/v1/sites/{id}/ai/providers` (admin): replaces the chain.
pub async fn replace_providers(
    State(state): State<AppState>,
    auth: AgentAuth,
    ApiPath(site): ApiPath<SiteId>,
    ApiJson(input): ApiJson<ProvidersInput>,
) -> ApiResult<Json<Vec<ProviderView>>> {
    auth.require_site(&state, site).await?;
    auth.require_role(Role::Admin)?;
    if input.providers.len() > MAX_PROVIDERS {
        return Err(invalid(format!(
            "at most {MAX_PROVIDERS} providers in a chain"
        )));
    }
    let mut names = HashSet::new();
    for p in &input.providers {
        check(p)?;
        if !names.insert(p.name.trim().to_lowercase()) {
            return Err(invalid(format!("provider name {} is used twice", p.name)));
        }
    }
    let existing: HashMap<String, AiProviderRow> = state
        .store
        .list_ai_providers(site)
        .await?
        .into_iter()
        .map(|r| (r.name.clone(), r))
        .collect();
    // Names and what happened to each key; never a key.
    let audited = serde_json::json!({ "providers": input.providers.iter().map(|p| serde_json::json!({
        "name": p.name.trim(),
        "key_change": match p.api_key { KeyChange::Keep => "kept", KeyChange::Remove => "removed", KeyChange::Set(_) => "set" },
    })).collect::<Vec<_>>() });
    let now = Timestamp::now();
    let rows: Vec<AiProviderRow> = input
        .providers
        .into_iter()
        .enumerate()
        .map(|(position, p)| {
            let name = p.name.trim().to_owned();
            let before = existing.get(&name);
            let api_key_sealed = match p.api_key {
                KeyChange::Keep => before.and_then(|b| b.api_key_sealed.clone()),
                KeyChange::Remove => None,
                KeyChange::Set(key) => Some(state.gateways.secrets().seal(key.trim())),
            };
            AiProviderRow {
                id: before.map_or_else(|| uuid::Uuid::now_v7().to_string(), |b| b.id.clone()),
                site_id: site,
                position: position as i64,
                base_url: p.base_url.trim().trim_end_matches('/').to_owned(),
                model: p.model.trim().to_owned(),
                azure_api_version: p.azure_api_version.filter(|v| !v.trim().is_empty()),
                api_key_sealed,
                input_per_million: p.input_per_million,
                output_per_million: p.output_per_million,
                max_output_tokens: i64::from(p.max_output_tokens.unwrap_or(1024)),
                enabled: p.enabled.unwrap_or(true),
                created_at: before.map_or(now, |b| b.created_at),
                updated_at: now,
                name,
            }
        })
        .collect();
    let saved = state.store.replace_ai_providers(site, &rows).await?;
    state.gateways.invalidate(site);
    tracing::info!(site = %site, providers = saved.len(), agent = %auth.agent.id, "provider chain changed");
    state
        .audit(&auth, "ai.providers.update", Target::site(site), audited)
        .await;
    Ok(Json(saved.iter().map(ProviderView::from).collect()))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DaysParams {
    pub(super) days: Option<u32>,
}

/// The start of a period of `days` UTC days ending today (default 30).
pub(super) fn since_days(days: Option<u32>) -> Timestamp {
    let days = i64::from(days.unwrap_or(30).clamp(1, 366));
    Timestamp::now().plus_seconds(-(days - 1) * 86_400)
}

/// Usage over a period.
#[derive(Serialize)]
pub struct UsageReport {
    days: Vec<AiUsageDay>,
    totals: AiUsageDay,
}

/// `GET /api/v1/sites/{id}/ai/usage?days=30` (admin)
pub async fn get_usage(
    State(state): State<AppState>,
    auth: AgentAuth,
    ApiPath(site): ApiPath<SiteId>,
    ApiQuery(p): ApiQuery<DaysParams>,
) -> ApiResult<Json<UsageReport>> {
    auth.require_site(&state, site).await?;
    auth.require_role(Role::Admin)?;
    // Timestamps are fixed-width RFC 3339, so the first ten characters are the UTC day.
    let since: String = since_days(p.days).to_string().chars().take(10).collect();
    let days = state.store.list_ai_usage(site, &since).await?;
    let mut totals = AiUsageDay {
        day: since,
        provider: String::new(),
        model: String::new(),
        requests: 0,
        cache_hits: 0,
        failures: 0,
        prompt_tokens: 0,
        completion_tokens: 0,
        cost_micros: 0,
    };
    for d in &days {
        totals.requests += d.requests;
        totals.cache_hits += d.cache_hits;
        totals.failures += d.failures;
        totals.prompt_tokens += d.prompt_tokens;
        totals.completion_tokens += d.completion_tokens;
        totals.cost_micros += d.cost_micros;
    }
    Ok(Json(UsageReport { days, totals }))
}

/// `GET /api/v1/sites/{id}/ai/classifications?days=30`: visitor messages per intent and
/// sentiment (any site member).
pub async fn get_classifications(
    State(state): State<AppState>,
    auth: AgentAuth,
    ApiPath(site): ApiPath<SiteId>,
    ApiQuery(p): ApiQuery<DaysParams>,
) -> ApiResult<Json<Vec<ClassificationCount>>> {
    auth.require_site(&state, site).await?;
    let since = since_days(p.days);
    Ok(Json(state.store.count_classifications(site, since).await?))
}
