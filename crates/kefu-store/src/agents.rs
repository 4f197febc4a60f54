//! Agent accounts, presence, and the pick of the least busy agent for routing.

use kefu_core::domain::{Agent, Presence, Role};
use kefu_core::{AgentId, SiteId, Timestamp};
use sqlx::any::AnyRow;

use crate::error::conflict_on_unique;
use crate::row::{boolean, int, parsed, text, time};
use crate::{Result, Store, StoreError};

const COLUMNS: &str = "id, email, name, role, presence, disabled, created_at";

pub(crate) fn from_row(row: &AnyRow) -> Result<Agent> {
    Ok(Agent {
        id: parsed(row, "id")?,
        email: text(row, "email")?,
        name: text(row, "name")?,
        role: parsed(row, "role")?,
        presence: parsed(row, "presence")?,
        disabled: boolean(row, "disabled")?,
        created_at: time(row, "created_at")?,
    })
}

/// What it takes to create an agent. The caller hashes the password (argon2id lives in the
/// server crate, beside the login code that verifies it).
#[derive(Clone, Debug)]
pub struct NewAgent {
    pub email: String,
    pub name: String,
    pub password_hash: String,
    pub role: Role,
}

impl Store {
    /// Creates an agent; `Conflict` if the e-mail is taken.
    pub async fn create_agent(&self, new: NewAgent) -> Result<Agent> {
        let now = Timestamp::now();
        let agent = Agent {
            id: AgentId::new(),
            email: new.email.to_lowercase(),
            name: new.name,
            role: new.role,
            presence: Presence::Offline,
            disabled: false,
            created_at: now,
        };
        sqlx::query(
            "INSERT INTO agents (id, email, name, password_hash, role, presence, disabled, \
             created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(agent.id.to_string())
        .bind(agent.email.clone())
        .bind(agent.name.clone())
        .bind(new.password_hash)
        .bind(agent.role.as_str())
        .bind(agent.presence.as_str())
        .bind(false)
        .bind(now.to_string())
        .bind(now.to_string())
        .execute(&self.pool)
        .await
        .map_err(conflict_on_unique("agent e-mail"))?;
        Ok(agent)
    }

    /// How many agent accounts exist (zero means first start).
    pub async fn count_agents(&self) -> Result<i64> {
        let row = sqlx::query("SELECT COUNT(*) AS n FROM agents")
            .fetch_one(&self.pool)
            .await?;
        int(&row, "n")
    }

    /// One agent.
    pub async fn get_agent(&self, id: AgentId) -> Result<Agent> {
        let sql = format!("SELECT {COLUMNS} FROM agents WHERE id = $1");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(id.to_string())
            .fetch_optional(&self.pool)
            .await?
            .ok_or(StoreError::NotFound("agent"))?;
        from_row(&row)
    }

    /// An agent and its password hash, by e-mail (case-insensitive), for login.
    pub async fn get_agent_credentials(&self, email: &str) -> Result<(Agent, String)> {
        let sql = format!("SELECT {COLUMNS}, password_hash FROM agents WHERE email = $1");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(email.trim().to_lowercase())
            .fetch_optional(&self.pool)
            .await?
            .ok_or(StoreError::NotFound("agent"))?;
        Ok((from_row(&row)?, text(&row, "password_hash")?))
    }

    /// The password hash of an agent, for password changes.
    pub async fn get_password_hash(&self, id: AgentId) -> Result<String> {
        let row = sqlx::query("SELECT password_hash FROM agents WHERE id = $1")
            .bind(id.to_string())
            .fetch_optional(&self.pool)
            .await?
            .ok_or(StoreError::NotFound("agent"))?;
        text(&row, "password_hash")
    }

    /// Members of a site, by name.
    pub async fn list_site_agents(&self, site: SiteId) -> Result<Vec<Agent>> {
        let sql = format!(
            "SELECT {COLUMNS} FROM agents WHERE id IN \
             (SELECT agent_id FROM site_members WHERE site_id = $1) ORDER BY name, id"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(site.to_string())
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(from_row).collect()
    }

    /// Updates name, role and the disabled flag.
    pub async fn update_agent(&self, agent: &Agent) -> Result<Agent> {
        let done = sqlx::query(
            "UPDATE agents SET name = $1, role = $2, disabled = $3, updated_at = $4 WHERE id = $5",
        )
        .bind(agent.name.clone())
        .bind(agent.role.as_str())
        .bind(agent.disabled)
        .bind(Timestamp::now().to_string())
        .bind(agent.id.to_string())
        .execute(&self.pool)
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound("agent"));
        }
        self.get_agent(agent.id).await
    }

    /// Replaces an agent's password hash.
    pub async fn set_password_hash(&self, id: AgentId, hash: &str) -> Result<()> {
        let done =
            sqlx::query("UPDATE agents SET password_hash = $1, updated_at = $2 WHERE id = $3")
                .bind(hash.to_owned())
                .bind(Timestamp::now().to_string())
                .bind(id.to_string())
                .execute(&self.pool)
                .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound("agent"));
        }
        Ok(())
    }

    /// Sets presence; returns whether it changed.
    pub async fn set_presence(&self, id: AgentId, presence: Presence) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE agents SET presence = $1, updated_at = $2 WHERE id = $3 AND presence <> $1",
        )
        .bind(presence.as_str())
        .bind(Timestamp::now().to_string())
        .bind(id.to_string())
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() > 0)
    }

    /// Sets every agent offline (at start-up: no connection survives a restart).
    pub async fn reset_presence(&self) -> Result<()> {
        sqlx::query("UPDATE agents SET presence = 'offline' WHERE presence = 'online'")
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// The online, enabled member of `site` holding the fewest assigned conversations, with
    /// ties going to whoever was assigned longest ago (round robin). `max_open` > 0 skips
    /// agents already at that many.
    pub async fn least_busy_online_agent(
        &self,
        site: SiteId,
        max_open: u32,
    ) -> Result<Option<Agent>> {
        let sql = format!(
            "SELECT {COLUMNS}, \
               (SELECT COUNT(*) FROM conversations c \
                 WHERE c.assignee_id = a.id AND c.status = 'assigned') AS open_count \
             FROM agents a \
             WHERE a.presence = 'online' AND NOT a.disabled \
               AND a.id IN (SELECT agent_id FROM site_members WHERE site_id = $1) \
             ORDER BY open_count ASC, COALESCE(a.last_assigned_at, '') ASC, a.id ASC"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(site.to_string())
            .fetch_all(&self.pool)
            .await?;
        for row in &rows {
            let open = int(row, "open_count")?;
            if max_open == 0 || open < i64::from(max_open) {
                return Ok(Some(from_row(row)?));
            }
        }
        Ok(None)
    }

    /// Notes when an agent was last given a conversation (for round-robin tie-breaks).
    pub async fn touch_last_assigned(&self, id: AgentId) -> Result<()> {
        sqlx::query("UPDATE agents SET last_assigned_at = $1 WHERE id = $2")
            .bind(Timestamp::now().to_string())
            .bind(id.to_string())
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}
