//! Uploaded files on disk, outside anything served statically: `<data_dir>/attachments/<id>`,
//! named by the upload's random id (never by the client's name), with the database row as
//! the only thing that keeps a file alive.
//!
//! An upload streams into `attachments/tmp/` while its size is counted against the site's cap
//! (a body that passes the cap is cut off there and its partial file removed), is recognised
//! by its bytes, gets its row, and only then is renamed into place. So every file in the
//! folder has had a row, and a file whose row is gone belongs to a deleted conversation or
//! message: [`sweep`] removes those. Deleting conversations therefore needs nothing from
//! whoever deletes them (the rows cascade); the sweep runs at start, every
//! [`SWEEP_EVERY`], and can be called right after a bulk delete.

pub mod sniff;

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use axum::body::Body;
use axum::http::StatusCode;
use futures_util::StreamExt;
use kefu_core::domain::{Attachment, AuthorKind, Conversation};
use kefu_core::{AttachmentId, validate};
use sha2::{Digest, Sha256};
use tokio::io::AsyncWriteExt;

use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

/// How often orphaned files are looked for.
pub const SWEEP_EVERY: Duration = Duration::from_secs(10 * 60);
/// Temp files older than this are left-overs of a crash mid-upload.
const STALE_TEMP: Duration = Duration::from_secs(60 * 60);

/// The folder holding uploads.
pub fn dir(state: &AppState) -> PathBuf {
    state.config.data_dir.join("attachments")
}

/// Where one upload's bytes live.
pub fn path(state: &AppState, id: AttachmentId) -> PathBuf {
    dir(state).join(id.to_string())
}

/// A body received into a temp file. Dropping it removes the file unless it was kept.
pub struct Received {
    temp: PathBuf,
    kept: bool,
    pub size: u64,
    pub sha256: String,
    /// The first [`sniff::HEAD_BYTES`] bytes.
    pub head: Vec<u8>,
}

impl Received {
    /// Moves the file into place as upload `id`.
    pub async fn keep(mut self, state: &AppState, id: AttachmentId) -> std::io::Result<()> {
        tokio::fs::rename(&self.temp, path(state, id)).await?;
        self.kept = true;
        Ok(())
    }
}

impl Drop for Received {
    fn drop(&mut self) {
        if !self.kept {
            // Refused or failed uploads leave nothing behind.
            let _ = std::fs::remove_file(&self.temp);
        }
    }
}

fn too_large(max: u64) -> ApiError {
    ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "attachment_too_large",
        format!("files may be at most {max} bytes"),
    )
}

/// Streams `body` into a temp file, refusing it (413, `attachment_too_large`) as soon as it
/// is known to exceed `max` bytes: at once from `Content-Length`, else when the count passes.
pub async fn receive(
    state: &AppState,
    body: Body,
    content_length: Option<u64>,
    max: u64,
) -> ApiResult<Received> {
    if content_length.is_some_and(|len| len > max) {
        return Err(too_large(max));
    }
    let tmp = dir(state).join("tmp");
    tokio::fs::create_dir_all(&tmp)
        .await
        .map_err(ApiError::internal)?;
    let mut received = Received {
        temp: tmp.join(AttachmentId::new().to_string()),
        kept: false,
        size: 0,
        sha256: String::new(),
        head: Vec::new(),
    };
    let mut file = create_private(&received.temp)
        .await
        .map_err(ApiError::internal)?;
    let mut hash = Sha256::new();
    let mut stream = body.into_data_stream();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| {
            ApiError::bad_request("invalid_body", format!("the upload broke off: {e}"))
        })?;
        received.size += chunk.len() as u64;
        if received.size > max {
            return Err(too_large(max));
        }
        if received.head.len() < sniff::HEAD_BYTES {
            let take = (sniff::HEAD_BYTES - received.head.len()).min(chunk.len());
            received.head.extend_from_slice(&chunk[..take]);
        }
        hash.update(&chunk);
        file.write_all(&chunk).await.map_err(ApiError::internal)?;
    }
    file.sync_all().await.map_err(ApiError::internal)?;
    received.sha256 = hex::encode(hash.finalize());
    Ok(received)
}

/// Creates a file only the server's user can read.
async fn create_private(path: &Path) -> std::io::Result<tokio::fs::File> {
    let mut options = tokio::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    options.mode(0o600);
    options.open(path).await
}

/// Turns a sender's `attachment_ids` into the references a message carries. Each must be an
/// upload to this conversation by this sender; whether it is already on another message is
/// decided in the append's transaction (so a resent message stays a harmless duplicate).
/// Client-made references may not claim an upload id.
pub async fn resolve_for_message(
    state: &AppState,
    conversation: &Conversation,
    sender: (AuthorKind, &str),
    links: &[Attachment],
    ids: &[AttachmentId],
) -> ApiResult<Vec<Attachment>> {
    if links.iter().any(|a| a.id.is_some()) {
        return Err(validate::ValidationError::invalid(
            "attachments",
            "uploaded files are sent by `attachment_ids`, not `attachments[].id`",
        )
        .into());
    }
    let mut out = links.to_vec();
    for &id in ids {
        if out.iter().any(|a| a.id == Some(id)) {
            continue;
        }
        let info = match state.store.get_attachment(id).await {
            Ok(info) => info,
            Err(kefu_store::StoreError::NotFound(_)) => return Err(unknown(id)),
            Err(e) => return Err(e.into()),
        };
        if info.conversation_id != conversation.id
            || info.uploader_kind != sender.0
            || info.uploader_id != sender.1
        {
            return Err(unknown(id));
        }
        out.push(info.to_message_attachment());
    }
    Ok(out)
}

fn unknown(id: AttachmentId) -> ApiError {
    validate::ValidationError::invalid(
        "attachment_ids",
        format!("{id} is not a file you uploaded to this conversation"),
    )
    .into()
}

/// What a sweep removed.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Swept {
    /// Files whose upload row is gone (their conversation or message was deleted).
    pub orphans: usize,
    /// Temp files left by uploads interrupted by a crash.
    pub stale_temps: usize,
}

/// Removes files no upload row names any more, and stale temp files.
pub async fn sweep(state: &AppState) -> anyhow::Result<Swept> {
    sweep_dir(&state.store, &dir(state)).await
}

/// [`sweep`] for a given store and attachments folder (the CLI and tests have no state).
pub async fn sweep_dir(store: &kefu_store::Store, dir: &Path) -> anyhow::Result<Swept> {
    let mut names = Vec::new();
    let mut entries = match tokio::fs::read_dir(dir).await {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Swept::default()),
        Err(e) => return Err(e.into()),
    };
    while let Some(entry) = entries.next_entry().await? {
        let name = entry.file_name().to_string_lossy().into_owned();
        // Only names the server wrote (upload ids) are its to delete.
        if entry.file_type().await?.is_file() && name.parse::<AttachmentId>().is_ok() {
            names.push(name);
        }
    }
    let alive = store.existing_attachment_ids(&names).await?;
    let mut swept = Swept::default();
    for name in names.iter().filter(|n| !alive.contains(*n)) {
        match tokio::fs::remove_file(dir.join(name)).await {
            Ok(()) => swept.orphans += 1,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(e.into()),
        }
    }
    if let Ok(mut temps) = tokio::fs::read_dir(dir.join("tmp")).await {
        let now = SystemTime::now();
        while let Some(entry) = temps.next_entry().await? {
            let old = entry
                .metadata()
                .await?
                .modified()
                .ok()
                .and_then(|t| now.duration_since(t).ok())
                .is_some_and(|age| age > STALE_TEMP);
            if old && tokio::fs::remove_file(entry.path()).await.is_ok() {
                swept.stale_temps += 1;
            }
        }
    }
    if swept != Swept::default() {
        tracing::info!(
            orphans = swept.orphans,
            stale_temps = swept.stale_temps,
            "attachment files removed"
        );
    }
    Ok(swept)
}

/// Sweeps at start and then every [`SWEEP_EVERY`] until the process ends.
pub fn spawn_sweeper(state: AppState) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut every = tokio::time::interval(SWEEP_EVERY);
        loop {
            every.tick().await;
            if let Err(e) = sweep(&state).await {
                tracing::warn!(error = %e, "sweeping attachment files failed");
            }
        }
    })
}
