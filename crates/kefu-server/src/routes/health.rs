//! Liveness and readiness: answers 200 when the database answers.

use axum::Json;
use axum::extract::State;
use serde_json::{Value, json};

use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

/// `GET /healthz`
pub async fn get_health(State(state): State<AppState>) -> ApiResult<Json<Value>> {
    state.store.ping().await.map_err(ApiError::internal)?;
    Ok(Json(
        json!({ "status": "ok", "version": env!("CARGO_PKG_VERSION") }),
    ))
}
