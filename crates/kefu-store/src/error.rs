//! The store's error type. The server maps these to HTTP statuses in one place.

/// Why a store call failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The row asked for does not exist (or is not visible to the caller).
    #[error("{0} not found")]
    NotFound(&'static str),
    /// A uniqueness rule was broken (duplicate e-mail, shortcut, tag…).
    #[error("{0} already exists")]
    Conflict(&'static str),
    /// The change is not allowed from the row's current state (e.g. resolving twice).
    #[error("{0}")]
    InvalidState(String),
    /// The URL names a database this build cannot talk to.
    #[error("unsupported database URL scheme `{0}`: use sqlite:// or postgres://")]
    UnsupportedUrl(String),
    /// A stored value could not be read back (corrupt or hand-edited row).
    #[error("stored value is invalid: {0}")]
    Corrupt(String),
    /// Filesystem trouble creating the database folder.
    #[error("i/o: {0}")]
    Io(String),
    /// Anything the database driver reports.
    #[error(transparent)]
    Database(#[from] sqlx::Error),
    /// A migration failed.
    #[error(transparent)]
    Migrate(#[from] sqlx::migrate::MigrateError),
}

impl StoreError {
    /// Whether this is the database refusing a duplicate key.
    pub(crate) fn is_unique_violation(err: &sqlx::Error) -> bool {
        match err {
            sqlx::Error::Database(db) => db.is_unique_violation(),
            _ => false,
        }
    }
}

/// Maps a unique-key violation to [`StoreError::Conflict`], anything else unchanged.
pub(crate) fn conflict_on_unique(what: &'static str) -> impl FnOnce(sqlx::Error) -> StoreError {
    move |err| {
        if StoreError::is_unique_violation(&err) {
            StoreError::Conflict(what)
        } else {
            StoreError::Database(err)
        }
    }
}
