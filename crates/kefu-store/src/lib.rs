//! Kefu's persistence layer: one [`Store`] API over SQLite and PostgreSQL.
//!
//! Both backends share every query (written once, against sqlx's `Any` driver, with `$n`
//! placeholders numbered in order of first use, which both databases accept) and differ only in
//! their migration folders, where column types differ (BOOLEAN vs INTEGER). Times are stored as
//! fixed-width RFC 3339 text and ids as UUID text, so ordering and comparison behave the same
//! on both. Each concept has its own module with its `impl Store` block.

mod agents;
mod ai;
mod analytics;
mod attachments;
mod audit;
mod auth;
mod canned_replies;
mod chunk_vectors;
mod conversations;
mod csat;
mod error;
mod eval_runs;
mod feedback;
mod jobs;
mod kb_entries;
mod kb_lexicon;
mod kb_report;
mod login_throttle;
mod messages;
mod retention;
mod row;
mod sites;
mod sql;
mod tags;
#[doc(hidden)]
pub mod test_support;
mod totp;
mod unanswered;
mod visitor_data;
mod visitors;

use std::time::Duration;

use sqlx::any::{AnyPoolOptions, install_default_drivers};
use sqlx::{AnyPool, Executor};

pub use agents::NewAgent;
pub use ai::{AiProviderRow, AiUsageDay, ClassificationCount};
pub use analytics::{AnalyticsFacts, ConversationFacts, LogFact, UsageDayFacts};
pub use attachments::NewAttachment;
pub use audit::{
    AuditEvent, AuditPage, AuditQuery, AuditVerification, INSTANCE_CHAIN, NewAuditEvent,
};
pub use auth::{Session, TokenGrant};
pub use conversations::{ConversationPage, ConversationQuery, Transition};
pub use csat::{ConversationRating, CsatSummary};
pub use error::StoreError;
pub use eval_runs::EvalRun;
pub use jobs::{Job, JobFile, JobInput, PendingInput};
pub use kb_entries::{EntryPage, EntryQuery, EntrySource};
pub use kb_report::{KbReport, ReportList};
pub use messages::{AppendOutcome, MessagePage, NewMessage};
pub use totp::{LoginChallenge, TotpRecord};
pub use unanswered::UnansweredQuestion;
pub use visitor_data::{
    ConversationRecord, DeletedRows, MessageClassification, MessageFeedback, VisitorRecord,
};
pub use visitors::VisitorSeen;

/// Result type of every store call.
pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// Which database a [`Store`] talks to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    /// Picks the backend from a database URL's scheme.
    pub fn from_url(url: &str) -> Result<Self> {
        if url.starts_with("sqlite:") {
            Ok(Backend::Sqlite)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(Backend::Postgres)
        } else {
            Err(StoreError::UnsupportedUrl(
                url.split(':').next().unwrap_or_default().to_owned(),
            ))
        }
    }
}

/// Handle to the database; cheap to clone (a connection pool inside).
#[derive(Clone, Debug)]
pub struct Store {
    pool: AnyPool,
    backend: Backend,
}

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

impl Store {
    /// Opens a pool to `url` (`sqlite://path?mode=rwc` or `postgres://…`). For SQLite the
    /// parent folder is created and the database put in WAL mode, so readers never block the
    /// writer.
    pub async fn connect(url: &str) -> Result<Self> {
        install_default_drivers();
        let backend = Backend::from_url(url)?;
        if backend == Backend::Sqlite {
            create_sqlite_parent_dir(url)?;
        }
        let options = AnyPoolOptions::new()
            .max_connections(match backend {
                Backend::Sqlite => 8,
                Backend::Postgres => 16,
            })
            .acquire_timeout(Duration::from_secs(10))
            .after_connect(move |conn, _meta| {
                Box::pin(async move {
                    if backend == Backend::Sqlite {
                        conn.execute("PRAGMA journal_mode = WAL; PRAGMA foreign_keys = ON;")
                            .await?;
                    }
                    Ok(())
                })
            });
        let pool = options.connect(url).await?;
        Ok(Self { pool, backend })
    }

    /// Opens and migrates in one step.
    pub async fn open(url: &str) -> Result<Self> {
        let store = Self::connect(url).await?;
        store.migrate().await?;
        Ok(store)
    }

    /// Applies pending migrations for this backend.
    pub async fn migrate(&self) -> Result<()> {
        let migrator = match self.backend {
            Backend::Sqlite => &SQLITE_MIGRATIONS,
            Backend::Postgres => &POSTGRES_MIGRATIONS,
        };
        migrator.run(&self.pool).await?;
        Ok(())
    }

    /// The backend in use.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Checks the database answers (for health checks).
    pub async fn ping(&self) -> Result<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    /// Closes every pooled connection.
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

fn create_sqlite_parent_dir(url: &str) -> Result<()> {
    let path = url
        .trim_start_matches("sqlite://")
        .trim_start_matches("sqlite:")
        .split('?')
        .next()
        .unwrap_or_default();
    if path.is_empty() || path == ":memory:" {
        return Ok(());
    }
    if let Some(parent) = std::path::Path::new(path).parent()
        && !parent.as_os_str().is_empty()
    {
        std::fs::create_dir_all(parent).map_err(|e| StoreError::Io(e.to_string()))?;
    }
    Ok(())
}
