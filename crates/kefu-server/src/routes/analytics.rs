//! A site's analytics for its members: `GET /api/v1/sites/{id}/analytics` as JSON for the
//! console's charts, or as CSV (one row per day) for spreadsheets. The figures and their
//! definitions live in `crate::analytics`.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use kefu_core::SiteId;
use serde::Deserialize;
use time::{Date, Duration, OffsetDateTime};

use crate::analytics::{self, MAX_DAYS, Period};
use crate::auth::AgentAuth;
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiPath, ApiQuery};
use crate::state::AppState;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AnalyticsParams {
    /// First local day, `YYYY-MM-DD` (default: 29 days before `to`).
    from: Option<String>,
    /// Last local day, included (default: today at `offset`).
    to: Option<String>,
    /// Minutes east of UTC the days are counted in (default 0, at most ±14 h).
    offset: Option<i32>,
    /// `json` (default) or `csv`.
    format: Option<String>,
}

fn invalid(message: impl Into<String>) -> ApiError {
    ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_field", message)
}

fn date(name: &str, text: &str) -> ApiResult<Date> {
    Date::parse(text, &time::format_description::well_known::Iso8601::DATE).map_err(|_| {
        invalid(format!(
            "{name} must be a date like 2026-11-25, not `{text}`"
        ))
    })
}

fn period(p: &AnalyticsParams) -> ApiResult<Period> {
    let offset_minutes = p.offset.unwrap_or(0);
    if !(-14 * 60..=14 * 60).contains(&offset_minutes) {
        return Err(invalid("offset must be between -840 and 840 minutes"));
    }
    let to = match &p.to {
        Some(text) => date("to", text)?,
        None => (OffsetDateTime::now_utc() + Duration::minutes(offset_minutes.into())).date(),
    };
    let from = match &p.from {
        Some(text) => date("from", text)?,
        None => to - Duration::days(29),
    };
    let period = Period {
        from,
        to,
        offset_minutes,
    };
    if from > to {
        return Err(invalid("from must not be after to"));
    }
    if period.days() > MAX_DAYS {
        return Err(invalid(format!(
            "a period may cover at most {MAX_DAYS} days"
        )));
    }
    Ok(period)
}

/// `GET /api/v1/sites/{id}/analytics?from=&to=&offset=&format=` (any site member)
pub async fn get_analytics(
    State(state): State<AppState>,
    auth: AgentAuth,
    ApiPath(site): ApiPath<SiteId>,
    ApiQuery(p): ApiQuery<AnalyticsParams>,
) -> ApiResult<Response> {
    auth.require_site(&state, site).await?;
    let csv = match p.format.as_deref() {
        None | Some("json") => false,
        Some("csv") => true,
        Some(other) => {
            return Err(invalid(format!(
                "format must be json or csv, not `{other}`"
            )));
        }
    };
    let period = period(&p)?;
    let (start, end) = period
        .bounds()
        .ok_or_else(|| invalid("the period is outside the supported years"))?;
    let facts = state.store.analytics_facts(site, start, end).await?;
    let figures = analytics::compute(&period, &facts);
    if !csv {
        return Ok(Json(figures).into_response());
    }
    let mut response = analytics::daily_csv(&figures).into_response();
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=utf-8"),
    );
    let name = format!(
        "attachment; filename=\"kefu-analytics-{}-{}.csv\"",
        figures.from, figures.to
    );
    if let Ok(value) = HeaderValue::from_str(&name) {
        h.insert(header::CONTENT_DISPOSITION, value);
    }
    Ok(response)
}
