//! Fresh databases for tests, shared by this crate's tests and the server's `TestApp`:
//! a temp SQLite file, or a new schema on the PostgreSQL server named by
//! `KEFU_TEST_DATABASE_URL`, so tests never see each other's rows.

use sqlx::Connection;

use crate::{Result, Store, StoreError};

/// A migrated store on a fresh database, and the temp folder that must outlive it.
pub struct FreshStore {
    pub store: Store,
    /// The URL the store was opened with (for opening a second handle, e.g. after a restart).
    pub url: String,
    pub dir: Option<tempfile::TempDir>,
}

/// Opens a fresh, migrated store: PostgreSQL when `KEFU_TEST_DATABASE_URL` is set, else a
/// temp SQLite file.
pub async fn fresh_store() -> Result<FreshStore> {
    match std::env::var("KEFU_TEST_DATABASE_URL") {
        Ok(base) if !base.trim().is_empty() => {
            let schema = format!("t_{}", uuid::Uuid::now_v7().simple());
            let mut conn = sqlx::postgres::PgConnection::connect(&base).await?;
            sqlx::query(sqlx::AssertSqlSafe(format!("CREATE SCHEMA {schema}")))
                .execute(&mut conn)
                .await?;
            conn.close().await?;
            let sep = if base.contains('?') { '&' } else { '?' };
            let url = format!("{base}{sep}options=-c%20search_path%3D{schema}");
            Ok(FreshStore {
                store: Store::open(&url).await?,
                url,
                dir: None,
            })
        }
        _ => {
            let dir = tempfile::tempdir().map_err(|e| StoreError::Io(e.to_string()))?;
            let url = format!("sqlite://{}?mode=rwc", dir.path().join("kefu.db").display());
            Ok(FreshStore {
                store: Store::open(&url).await?,
                url,
                dir: Some(dir),
            })
        }
    }
}
