//! Reading typed values out of `AnyRow`s. The `Any` driver only knows a few primitive types,
//! so ids, times, enums and JSON are decoded here from their text forms, and booleans from
//! either a real BOOLEAN (PostgreSQL) or an INTEGER 0/1 (SQLite).

use std::str::FromStr;

use kefu_core::Timestamp;
use serde::de::DeserializeOwned;
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::{Result, StoreError};

pub(crate) fn text(row: &AnyRow, col: &str) -> Result<String> {
    Ok(row.try_get::<String, _>(col)?)
}

pub(crate) fn opt_text(row: &AnyRow, col: &str) -> Result<Option<String>> {
    Ok(row.try_get::<Option<String>, _>(col)?)
}

pub(crate) fn int(row: &AnyRow, col: &str) -> Result<i64> {
    Ok(row.try_get::<i64, _>(col)?)
}

pub(crate) fn boolean(row: &AnyRow, col: &str) -> Result<bool> {
    match row.try_get::<bool, _>(col) {
        Ok(b) => Ok(b),
        Err(_) => Ok(row.try_get::<i64, _>(col)? != 0),
    }
}

/// Any `FromStr` value stored as text: ids and domain enums.
pub(crate) fn parsed<T>(row: &AnyRow, col: &str) -> Result<T>
where
    T: FromStr,
    T::Err: std::fmt::Display,
{
    let raw = text(row, col)?;
    raw.parse()
        .map_err(|e| StoreError::Corrupt(format!("{col}: {e}")))
}

pub(crate) fn opt_parsed<T>(row: &AnyRow, col: &str) -> Result<Option<T>>
where
    T: FromStr,
    T::Err: std::fmt::Display,
{
    match opt_text(row, col)? {
        Some(raw) => raw
            .parse()
            .map(Some)
            .map_err(|e| StoreError::Corrupt(format!("{col}: {e}"))),
        None => Ok(None),
    }
}

pub(crate) fn time(row: &AnyRow, col: &str) -> Result<Timestamp> {
    let raw = text(row, col)?;
    Timestamp::parse(&raw).map_err(|e| StoreError::Corrupt(format!("{col}: {e}")))
}

pub(crate) fn opt_time(row: &AnyRow, col: &str) -> Result<Option<Timestamp>> {
    match opt_text(row, col)? {
        Some(raw) => Timestamp::parse(&raw)
            .map(Some)
            .map_err(|e| StoreError::Corrupt(format!("{col}: {e}"))),
        None => Ok(None),
    }
}

pub(crate) fn json<T: DeserializeOwned>(row: &AnyRow, col: &str) -> Result<T> {
    let raw = text(row, col)?;
    serde_json::from_str(&raw).map_err(|e| StoreError::Corrupt(format!("{col}: {e}")))
}

pub(crate) fn opt_json<T: DeserializeOwned>(row: &AnyRow, col: &str) -> Result<Option<T>> {
    match opt_text(row, col)? {
        Some(raw) => serde_json::from_str(&raw)
            .map(Some)
            .map_err(|e| StoreError::Corrupt(format!("{col}: {e}"))),
        None => Ok(None),
    }
}

/// Serialises a value for a JSON text column.
pub(crate) fn to_json<T: serde::Serialize>(value: &T) -> Result<String> {
    serde_json::to_string(value).map_err(|e| StoreError::Corrupt(e.to_string()))
}
