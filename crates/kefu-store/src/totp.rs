//! The TOTP second factor's records: each agent's sealed secret and whether it is confirmed,
//! the last accepted time step (so a code is accepted once), hashed one-time recovery codes,
//! and the short-lived login challenges between a correct password and the second code.
//! Secrets arrive sealed and codes arrive hashed: the store never sees either in clear.

use kefu_core::domain::Agent;
use kefu_core::{AgentId, Timestamp};

use crate::agents;
use crate::row::{boolean, int, text};
use crate::{Result, Store, StoreError};

/// An agent's TOTP record.
#[derive(Clone, Debug)]
pub struct TotpRecord {
    /// The secret as sealed by the server.
    pub secret_sealed: String,
    /// Confirmed with a first code; only then does sign-in ask for one.
    pub enabled: bool,
    /// Highest time step accepted so far.
    pub last_step: i64,
}

/// A pending second-factor challenge.
#[derive(Clone, Debug)]
pub struct LoginChallenge {
    pub agent: Agent,
    /// Wrong codes sent against this challenge so far.
    pub attempts: i64,
}

impl Store {
    /// Starts (or restarts) setting up TOTP with a new sealed secret, not yet enabled.
    /// `InvalidState` when TOTP is already enabled: it must be disabled first.
    pub async fn begin_totp_setup(&self, agent: AgentId, secret_sealed: &str) -> Result<()> {
        let done = sqlx::query(
            "INSERT INTO agent_totp (agent_id, secret_sealed, enabled, last_step, created_at) \
             VALUES ($1, $2, $3, 0, $4) \
             ON CONFLICT (agent_id) DO UPDATE SET secret_sealed = excluded.secret_sealed, \
               last_step = 0, created_at = excluded.created_at \
             WHERE NOT agent_totp.enabled",
        )
        .bind(agent.to_string())
        .bind(secret_sealed.to_owned())
        .bind(false)
        .bind(Timestamp::now().to_string())
        .execute(&self.pool)
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::InvalidState(
                "two-factor sign-in is already on; turn it off first".into(),
            ));
        }
        Ok(())
    }

    /// The agent's TOTP record; `NotFound` when setup never started.
    pub async fn get_totp(&self, agent: AgentId) -> Result<TotpRecord> {
        let row = sqlx::query(
            "SELECT secret_sealed, enabled, last_step FROM agent_totp WHERE agent_id = $1",
        )
        .bind(agent.to_string())
        .fetch_optional(&self.pool)
        .await?
        .ok_or(StoreError::NotFound("two-factor setup"))?;
        Ok(TotpRecord {
            secret_sealed: text(&row, "secret_sealed")?,
            enabled: boolean(&row, "enabled")?,
            last_step: int(&row, "last_step")?,
        })
    }

    /// Whether sign-in asks this agent for a second factor.
    pub async fn totp_enabled(&self, agent: AgentId) -> Result<bool> {
        match self.get_totp(agent).await {
            Ok(record) => Ok(record.enabled),
            Err(StoreError::NotFound(_)) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Records that a code for time step `step` was accepted, if no code of that step or a
    /// later one was accepted before. False means a replay: refuse the code.
    pub async fn use_totp_step(&self, agent: AgentId, step: i64) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE agent_totp SET last_step = $1 WHERE agent_id = $2 AND last_step < $1",
        )
        .bind(step)
        .bind(agent.to_string())
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Turns TOTP on (its first code was accepted at `step`) and replaces the recovery codes
    /// with `recovery_hashes`, in one transaction. `InvalidState` when it was already on or
    /// the step was already used.
    pub async fn enable_totp(
        &self,
        agent: AgentId,
        step: i64,
        recovery_hashes: &[String],
    ) -> Result<()> {
        let now = Timestamp::now().to_string();
        let mut tx = self.pool.begin().await?;
        let done = sqlx::query(
            "UPDATE agent_totp SET enabled = $1, enabled_at = $2, last_step = $3 \
             WHERE agent_id = $4 AND NOT enabled AND last_step < $3",
        )
        .bind(true)
        .bind(now.clone())
        .bind(step)
        .bind(agent.to_string())
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::InvalidState(
                "two-factor sign-in is already on, or this code was used".into(),
            ));
        }
        sqlx::query("DELETE FROM totp_recovery_codes WHERE agent_id = $1")
            .bind(agent.to_string())
            .execute(&mut *tx)
            .await?;
        for hash in recovery_hashes {
            sqlx::query(
                "INSERT INTO totp_recovery_codes (agent_id, code_hash, created_at) \
                 VALUES ($1, $2, $3)",
            )
            .bind(agent.to_string())
            .bind(hash.clone())
            .bind(now.clone())
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Spends a recovery code: true the first time a valid one is used, false after.
    pub async fn use_recovery_code(&self, agent: AgentId, code_hash: &str) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE totp_recovery_codes SET used_at = $1 \
             WHERE agent_id = $2 AND code_hash = $3 AND used_at IS NULL",
        )
        .bind(Timestamp::now().to_string())
        .bind(agent.to_string())
        .bind(code_hash.to_owned())
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Recovery codes not yet spent.
    pub async fn count_recovery_codes(&self, agent: AgentId) -> Result<i64> {
        let row = sqlx::query(
            "SELECT COUNT(*) AS n FROM totp_recovery_codes WHERE agent_id = $1 AND used_at IS NULL",
        )
        .bind(agent.to_string())
        .fetch_one(&self.pool)
        .await?;
        int(&row, "n")
    }

    /// Turns TOTP off: forgets the secret, the recovery codes and pending challenges.
    pub async fn disable_totp(&self, agent: AgentId) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        for sql in [
            "DELETE FROM agent_totp WHERE agent_id = $1",
            "DELETE FROM totp_recovery_codes WHERE agent_id = $1",
            "DELETE FROM login_challenges WHERE agent_id = $1",
        ] {
            sqlx::query(sql)
                .bind(agent.to_string())
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Records a challenge issued after a correct password; also drops expired ones.
    pub async fn create_login_challenge(
        &self,
        agent: AgentId,
        token_hash: &str,
        expires_at: Timestamp,
    ) -> Result<()> {
        let now = Timestamp::now().to_string();
        sqlx::query("DELETE FROM login_challenges WHERE expires_at <= $1")
            .bind(now.clone())
            .execute(&self.pool)
            .await?;
        sqlx::query(
            "INSERT INTO login_challenges (token_hash, agent_id, attempts, created_at, expires_at) \
             VALUES ($1, $2, 0, $3, $4)",
        )
        .bind(token_hash.to_owned())
        .bind(agent.to_string())
        .bind(now)
        .bind(expires_at.to_string())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The live challenge with this hash and its (enabled) agent; `NotFound` when unknown,
    /// expired, spent, or the agent is disabled.
    pub async fn get_login_challenge(&self, token_hash: &str) -> Result<LoginChallenge> {
        let row = sqlx::query(
            "SELECT a.id, a.email, a.name, a.role, a.presence, a.disabled, a.created_at, \
                    c.attempts \
             FROM login_challenges c JOIN agents a ON a.id = c.agent_id \
             WHERE c.token_hash = $1 AND c.expires_at > $2 AND NOT a.disabled",
        )
        .bind(token_hash.to_owned())
        .bind(Timestamp::now().to_string())
        .fetch_optional(&self.pool)
        .await?
        .ok_or(StoreError::NotFound("challenge"))?;
        Ok(LoginChallenge {
            agent: agents::from_row(&row)?,
            attempts: int(&row, "attempts")?,
        })
    }

    /// Counts a wrong code against a challenge; returns the attempts so far.
    pub async fn fail_login_challenge(&self, token_hash: &str) -> Result<i64> {
        let row = sqlx::query(
            "UPDATE login_challenges SET attempts = attempts + 1 WHERE token_hash = $1 \
             RETURNING attempts",
        )
        .bind(token_hash.to_owned())
        .fetch_optional(&self.pool)
        .await?;
        match row {
            Some(row) => int(&row, "attempts"),
            None => Ok(0),
        }
    }

    /// Spends a challenge: true for the one caller that removed it.
    pub async fn consume_login_challenge(&self, token_hash: &str) -> Result<bool> {
        let done = sqlx::query("DELETE FROM login_challenges WHERE token_hash = $1")
            .bind(token_hash.to_owned())
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() == 1)
    }
}
