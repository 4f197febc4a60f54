//! Agent presence: stored, announced to the agent's sites, and an agent coming online picks
//! up the waiting queue.

use kefu_core::domain::{Agent, Presence};
use kefu_core::protocol::ServerFrame;

use super::lifecycle;
use crate::error::ApiResult;
use crate::realtime::Topic;
use crate::state::AppState;

/// Stores a presence change and tells the agent's sites; an agent coming online also picks
/// up the queue.
pub async fn set_presence(state: &AppState, agent: &Agent, presence: Presence) -> ApiResult<()> {
    if !state.store.set_presence(agent.id, presence).await? {
        return Ok(());
    }
    let sites = state.store.list_agent_sites(agent.id).await?;
    for site in &sites {
        state.hub.publish(
            Topic::Site(site.id),
            ServerFrame::Presence {
                agent_id: agent.id,
                presence,
            },
        );
    }
    if presence == Presence::Online {
        for site in &sites {
            lifecycle::route_queue(state, site.id).await?;
        }
    }
    Ok(())
}
