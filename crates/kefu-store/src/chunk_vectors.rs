//! Durable sentence embeddings of knowledge-base chunks, keyed by (model, hash of the text
//! embedded). The vector search index in memory is rebuilt from these rows at start-up, so a
//! restart never re-embeds what was already embedded, and a model change re-embeds everything
//! because no row carries the new model's name.

use std::collections::HashMap;

use kefu_core::Timestamp;
use sqlx::Row;

use crate::sql::{Param, Sql};
use crate::{Result, Store, StoreError};

/// Rows looked up or written per statement, well under both backends' parameter limits.
const BATCH: usize = 400;

fn encode(vector: &[f32]) -> Vec<u8> {
    vector.iter().flat_map(|x| x.to_le_bytes()).collect()
}

fn decode(bytes: &[u8], dimensions: usize) -> Result<Vec<f32>> {
    if bytes.len() != dimensions * 4 {
        return Err(StoreError::Corrupt(format!(
            "chunk vector has {} bytes, expected {}",
            bytes.len(),
            dimensions * 4
        )));
    }
    Ok(bytes
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect())
}

impl Store {
    /// The stored vectors of `model` for the given text hashes (missing ones are absent).
    pub async fn get_chunk_vectors(
        &self,
        model: &str,
        hashes: &[String],
    ) -> Result<HashMap<String, Vec<f32>>> {
        let mut found = HashMap::with_capacity(hashes.len());
        for batch in hashes.chunks(BATCH) {
            let mut sql = Sql::new(
                "SELECT text_hash, dimensions, vector FROM kb_chunk_vectors WHERE model = ",
            );
            sql.bind(Param::Text(model.to_owned()))
                .push(" AND text_hash IN (");
            for (i, hash) in batch.iter().enumerate() {
                if i > 0 {
                    sql.push(", ");
                }
                sql.bind(Param::Text(hash.clone()));
            }
            sql.push(")");
            for row in sql.query().fetch_all(&self.pool).await? {
                let hash: String = row.try_get("text_hash")?;
                let dimensions: i64 = row.try_get("dimensions")?;
                let bytes: Vec<u8> = row.try_get("vector")?;
                let dimensions = usize::try_from(dimensions)
                    .map_err(|_| StoreError::Corrupt("negative vector dimensions".into()))?;
                found.insert(hash, decode(&bytes, dimensions)?);
            }
        }
        Ok(found)
    }

    /// Stores vectors of `model`; a hash already stored keeps its first vector (the same text
    /// under the same model embeds the same way).
    pub async fn put_chunk_vectors(&self, model: &str, items: &[(String, Vec<f32>)]) -> Result<()> {
        let now = Timestamp::now().to_string();
        let mut tx = self.pool.begin().await?;
        for (hash, vector) in items {
            let dimensions = i64::try_from(vector.len()).unwrap_or(i64::MAX);
            sqlx::query(
                "INSERT INTO kb_chunk_vectors (model, text_hash, dimensions, vector, created_at) \
                 VALUES ($1, $2, $3, $4, $5) ON CONFLICT (model, text_hash) DO NOTHING",
            )
            .bind(model.to_owned())
            .bind(hash.clone())
            .bind(dimensions)
            .bind(encode(vector))
            .bind(now.clone())
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// How many vectors of `model` are stored.
    pub async fn count_chunk_vectors(&self, model: &str) -> Result<i64> {
        let row = sqlx::query("SELECT COUNT(*) AS n FROM kb_chunk_vectors WHERE model = $1")
            .bind(model.to_owned())
            .fetch_one(&self.pool)
            .await?;
        Ok(row.try_get("n")?)
    }

    /// Deletes the vectors of every model but `model` (after a model change has re-embedded
    /// everything); returns how many rows went.
    pub async fn delete_chunk_vectors_except(&self, model: &str) -> Result<u64> {
        let done = sqlx::query("DELETE FROM kb_chunk_vectors WHERE model <> $1")
            .bind(model.to_owned())
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vectors_round_trip_through_bytes() {
        let v = vec![0.25_f32, -1.5, 3.0e-8, f32::MAX];
        assert_eq!(decode(&encode(&v), 4).unwrap(), v);
        assert!(decode(&encode(&v), 3).is_err());
    }
}
