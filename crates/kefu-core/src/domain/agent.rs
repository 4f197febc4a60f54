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

/// A bearer token's public description; the secret is shown once at creation.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct ApiToken {
    pub id: ApiTokenId,
    pub agent_id: AgentId,
    pub name: String,
    pub created_at: Timestamp,
    pub last_used_at: Option<Timestamp>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_are_ordered() {
        assert!(Role::Admin.at_least(Role::Editor));
        assert!(Role::Editor.at_least(Role::Agent));
        assert!(!Role::Agent.at_least(Role::Editor));
        assert_eq!("editor".parse::<Role>().unwrap(), Role::Editor);
        assert!("root".parse::<Role>().is_err());
    }
}
