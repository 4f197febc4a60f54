//! Agents: the people who work in the console, their roles and presence, and the API tokens
//! integrations use on their behalf.

use serde::{Deserialize, Serialize};

use super::text_enum;
use crate::{AgentId, ApiTokenId, Timestamp};

text_enum!(
    /// What an agent may do. Ordered from most to least powerful.
    Role {
        /// Everything, including sites, agents and settings.
        Admin => "admin",
        /// Agent work plus writing the knowledge base.
        Editor => "editor",
        /// Conversations and reading the knowledge base.
        Agent => "agent",
    }
);

impl Role {
    /// Whether this role includes everything `other` may do.
    pub fn at_least(self, other: Role) -> bool {
        self.rank() >= other.rank()
    }

    fn rank(self) -> u8 {
        match self {
            Role::Admin => 3,
            Role::Editor => 2,
            Role::Agent => 1,
        }
    }
}

text_enum!(
    /// Whether an agent can take conversations now.
    Presence {
        Online => "online",
        Away => "away",
        Offline => "offline",
    }
);

/// An agent account. The password hash never leaves the store crate's row type.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Agent {
    pub id: AgentId,
    pub email: String,
    pub name: String,
    pub role: Role,
    pub presence: Presence,
    pub disabled: bool,
    pub created_at: Timestamp,
}

text_enum!(
    /// What an API token may do, on top of its agent's role: a token acts with the agent's
    /// role, narrowed to its scopes (docs/API.md, "API tokens and scopes").
    Scope {
        /// Safe requests (GET): read conversations, the knowledge base, settings.
        Read => "read",
        /// Writes (POST, PUT, PATCH, DELETE) the agent's role allows.
        Write => "write",
        /// What only the admin role may do (sites, agents, settings, audit, privacy),
        /// read or write.
        Admin => "admin",
    }
);

impl Scope {
    /// The stored form of a scope set: names separated by single spaces, in canonical order.
    pub fn join(scopes: &[Scope]) -> String {
        Scope::ALL
            .iter()
            .filter(|s| scopes.contains(s))
            .map(|s| s.as_str())
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// Parses the stored form; unknown names are skipped (a newer server's scope means
    /// nothing to this one, and granting nothing is the safe reading).
    pub fn split(text: &str) -> Vec<Scope> {
        let mut scopes: Vec<Scope> = text
            .split_whitespace()
            .filter_map(|s| s.parse().ok())
            .collect();
        scopes.sort_by_key(|s| Scope::ALL.iter().position(|a| a == s));
        scopes.dedup();
        scopes
    }
}

/// A bearer token's public description; the secret is shown once at creation.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct ApiToken {
    pub id: ApiTokenId,
    pub agent_id: AgentId,
    pub name: String,
    /// What the token may do (never more than its agent's role).
    pub scopes: Vec<Scope>,
    pub created_at: Timestamp,
    pub last_used_at: Option<Timestamp>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scope_sets_round_trip_in_canonical_order() {
        let text = Scope::join(&[Scope::Admin, Scope::Read]);
        assert_eq!(text, "read admin");
        assert_eq!(Scope::split(&text), vec![Scope::Read, Scope::Admin]);
        assert_eq!(
            Scope::split("write  read bogus write"),
            vec![Scope::Read, Scope::Write]
        );
        assert!(Scope::split("").is_empty());
    }

    #[test]
    fn roles_are_ordered() {
        assert!(Role::Admin.at_least(Role::Editor));
        assert!(Role::Editor.at_least(Role::Agent));
        assert!(!Role::Agent.at_least(Role::Editor));
        assert_eq!("editor".parse::<Role>().unwrap(), Role::Editor);
        assert!("root".parse::<Role>().is_err());
    }
}
