//! Console sessions and API tokens. Only SHA-256 hashes of the secrets are stored, so a
//! leaked database copy cannot be replayed as a login.

use kefu_core::domain::{Agent, ApiToken, Scope};
use kefu_core::{AgentId, ApiTokenId, Timestamp};

use crate::agents;
use crate::row::{opt_time, parsed, text, time};
use crate::{Result, Store, StoreError};

/// A signed-in console session.
#[derive(Clone, Debug)]
pub struct Session {
    pub agent: Agent,
    /// Must accompany every cookie-authenticated write (`X-CSRF-Token`).
    pub csrf_token: String,
    pub expires_at: Timestamp,
}

/// What a live API token grants: its agent, narrowed to its scopes.
#[derive(Clone, Debug)]
pub struct TokenGrant {
    pub token_id: ApiTokenId,
    pub agent: Agent,
    pub scopes: Vec<Scope>,
}

impl Store {
    /// Records a new session for `agent`.
    pub async fn create_session(
        &self,
        agent: AgentId,
        token_hash: &str,
        csrf_token: &str,
        expires_at: Timestamp,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO sessions (token_hash, agent_id, csrf_token, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(token_hash.to_owned())
        .bind(agent.to_string())
        .bind(csrf_token.to_owned())
        .bind(Timestamp::now().to_string())
        .bind(expires_at.to_string())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The live session with this token hash, with its agent; `NotFound` when unknown,
    /// expired, or the agent is disabled.
    pub async fn get_session(&self, token_hash: &str) -> Result<Session> {
        let row = sqlx::query(
            "SELECT a.id, a.email, a.name, a.role, a.presence, a.disabled, a.created_at, \
                    s.csrf_token, s.expires_at \
             FROM sessions s JOIN agents a ON a.id = s.agent_id \
             WHERE s.token_hash = $1 AND s.expires_at > $2 AND NOT a.disabled",
        )
        .bind(token_hash.to_owned())
        .bind(Timestamp::now().to_string())
        .fetch_optional(&self.pool)
        .await?
        .ok_or(StoreError::NotFound("session"))?;
        Ok(Session {
            agent: agents::from_row(&row)?,
            csrf_token: text(&row, "csrf_token")?,
            expires_at: time(&row, "expires_at")?,
        })
    }

    /// Ends one session.
    pub async fn delete_session(&self, token_hash: &str) -> Result<()> {
        sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
            .bind(token_hash.to_owned())
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Ends every session of an agent (sign out everywhere, password change, disabling).
    pub async fn delete_agent_sessions(&self, agent: AgentId) -> Result<u64> {
        let done = sqlx::query("DELETE FROM sessions WHERE agent_id = $1")
            .bind(agent.to_string())
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected())
    }

    /// Records a new API token.
    pub async fn create_api_token(
        &self,
        agent: AgentId,
        name: &str,
        token_hash: &str,
        scopes: &[Scope],
    ) -> Result<ApiToken> {
        let token = ApiToken {
            id: ApiTokenId::new(),
            agent_id: agent,
            name: name.to_owned(),
            scopes: Scope::split(&Scope::join(scopes)),
            created_at: Timestamp::now(),
            last_used_at: None,
        };
        sqlx::query(
            "INSERT INTO api_tokens (id, agent_id, name, token_hash, created_at, scopes) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(token.id.to_string())
        .bind(agent.to_string())
        .bind(token.name.clone())
        .bind(token_hash.to_owned())
        .bind(token.created_at.to_string())
        .bind(Scope::join(&token.scopes))
        .execute(&self.pool)
        .await?;
        Ok(token)
    }

    /// The agent behind a live API token, noting its use.
    pub async fn agent_for_api_token(&self, token_hash: &str) -> Result<Agent> {
        Ok(self.api_token_grant(token_hash).await?.agent)
    }

    /// The agent behind a live API token and the token's scopes, noting its use.
    pub async fn api_token_grant(&self, token_hash: &str) -> Result<TokenGrant> {
        let row = sqlx::query(
            "SELECT a.id, a.email, a.name, a.role, a.presence, a.disabled, a.created_at, \
                    t.id AS token_id, t.scopes \
             FROM api_tokens t JOIN agents a ON a.id = t.agent_id \
             WHERE t.token_hash = $1 AND t.revoked_at IS NULL AND NOT a.disabled",
        )
        .bind(token_hash.to_owned())
        .fetch_optional(&self.pool)
        .await?
        .ok_or(StoreError::NotFound("api token"))?;
        let token_id: ApiTokenId = parsed(&row, "token_id")?;
        sqlx::query("UPDATE api_tokens SET last_used_at = $1 WHERE id = $2")
            .bind(Timestamp::now().to_string())
            .bind(token_id.to_string())
            .execute(&self.pool)
            .await?;
        Ok(TokenGrant {
            token_id,
            agent: agents::from_row(&row)?,
            scopes: Scope::split(&text(&row, "scopes")?),
        })
    }

    /// An agent's live tokens, newest first.
    pub async fn list_api_tokens(&self, agent: AgentId) -> Result<Vec<ApiToken>> {
        let rows = sqlx::query(
            "SELECT id, agent_id, name, scopes, created_at, last_used_at FROM api_tokens \
             WHERE agent_id = $1 AND revoked_at IS NULL ORDER BY created_at DESC, id DESC",
        )
        .bind(agent.to_string())
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(ApiToken {
                    id: parsed(row, "id")?,
                    agent_id: parsed(row, "agent_id")?,
                    name: text(row, "name")?,
                    scopes: Scope::split(&text(row, "scopes")?),
                    created_at: time(row, "created_at")?,
                    last_used_at: opt_time(row, "last_used_at")?,
                })
            })
            .collect()
    }

    /// Revokes one of an agent's tokens.
    pub async fn revoke_api_token(&self, agent: AgentId, id: ApiTokenId) -> Result<()> {
        let done = sqlx::query(
            "UPDATE api_tokens SET revoked_at = $1 \
             WHERE id = $2 AND agent_id = $3 AND revoked_at IS NULL",
        )
        .bind(Timestamp::now().to_string())
        .bind(id.to_string())
        .bind(agent.to_string())
        .execute(&self.pool)
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound("api token"));
        }
        Ok(())
    }
}
