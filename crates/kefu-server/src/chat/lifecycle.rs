//! A conversation's life cycle: hand-off to a human, routing to the least busy online agent,
//! assignment and transfer, resolve, reopen, hand back to the bot. Each step is one log
//! entry plus its status change, committed together and guarded against racing steps.

use kefu_core::domain::{Conversation, ConversationStatus, SystemEvent};
use kefu_core::{AgentId, ConversationId, SiteId};
use kefu_store::{AppendOutcome, NewMessage, StoreError, Transition};

use super::commit;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

use ConversationStatus::{Assigned, Bot, Resolved, Waiting};

fn conversation_of(outcome: AppendOutcome) -> Option<Conversation> {
    match outcome {
        AppendOutcome::Created { conversation, .. } => Some(conversation),
        AppendOutcome::Duplicate { .. } => None,
    }
}

/// Moves a conversation to the human queue (from the bot, or a resolved one) and routes it.
/// Asking again while a human is already involved changes nothing: hand-offs cannot loop.
pub async fn request_human(
    state: &AppState,
    id: ConversationId,
    reason: &str,
) -> ApiResult<Conversation> {
    let current = state.store.get_conversation(id).await?;
    if matches!(current.status, Waiting | Assigned) {
        return Ok(current);
    }
    let text = "The conversation was handed to a human agent.";
    let result = commit(
        state,
        id,
        NewMessage::system(
            SystemEvent::HandoffRequested {
                reason: reason.to_owned(),
            },
            text,
        ),
        Some(Transition {
            to: Waiting,
            assignee: None,
            only_from: vec![Bot, Resolved],
        }),
    )
    .await;
    match result {
        Ok(_) => {}
        // Someone else moved it first; whatever state it is in now already involves a human.
        Err(e) if e.code == "invalid_state" => return Ok(state.store.get_conversation(id).await?),
        Err(e) => return Err(e),
    }
    route(state, id).await
}

/// Gives a waiting conversation to the least busy online agent when the site auto-assigns;
/// tells the visitor when nobody is online. Leaves it in the queue otherwise.
pub async fn route(state: &AppState, id: ConversationId) -> ApiResult<Conversation> {
    route_with(state, id, true).await
}

async fn route_with(
    state: &AppState,
    id: ConversationId,
    announce_offline: bool,
) -> ApiResult<Conversation> {
    let conversation = state.store.get_conversation(id).await?;
    if conversation.status != Waiting {
        return Ok(conversation);
    }
    let site = state.store.get_site(conversation.site_id).await?;
    let pick = state
        .store
        .least_busy_online_agent(site.id, site.settings.max_open_per_agent)
        .await?;
    match pick {
        Some(agent) if site.settings.auto_assign => {
            match assign_guarded(state, id, agent.id, None, vec![Waiting]).await {
                Ok(conversation) => Ok(conversation),
                // Taken by someone in the meantime: fine, it is no longer waiting.
                Err(e) if e.code == "invalid_state" => Ok(state.store.get_conversation(id).await?),
                Err(e) => Err(e),
            }
        }
        None if announce_offline => {
            let outcome = commit(
                state,
                id,
                NewMessage::system(SystemEvent::NoAgentOnline, site.settings.offline_message),
                None,
            )
            .await?;
            Ok(conversation_of(outcome).unwrap_or(conversation))
        }
        _ => Ok(conversation),
    }
}

/// Assigns (or transfers) a conversation to an agent who works on its site.
pub async fn assign(
    state: &AppState,
    id: ConversationId,
    agent: AgentId,
    by: Option<AgentId>,
) -> ApiResult<Conversation> {
    assign_guarded(state, id, agent, by, vec![]).await
}

async fn assign_guarded(
    state: &AppState,
    id: ConversationId,
    agent_id: AgentId,
    by: Option<AgentId>,
    only_from: Vec<ConversationStatus>,
) -> ApiResult<Conversation> {
    let current = state.store.get_conversation(id).await?;
    if current.status == Assigned && current.assignee_id == Some(agent_id) {
        return Ok(current);
    }
    let agent = match state.store.get_agent(agent_id).await {
        Ok(agent) => agent,
        Err(StoreError::NotFound(_)) => {
            return Err(ApiError::bad_request("unknown_agent", "no such agent"));
        }
        Err(e) => return Err(e.into()),
    };
    if agent.disabled
        || !state
            .store
            .is_site_member(current.site_id, agent.id)
            .await?
    {
        return Err(ApiError::bad_request(
            "unknown_agent",
            "that agent does not work on this conversation's site",
        ));
    }
    let text = format!("{} joined the conversation.", agent.name);
    let outcome = commit(
        state,
        id,
        NewMessage::system(
            SystemEvent::Assigned {
                agent_id: agent.id,
                agent_name: agent.name.clone(),
                by,
            },
            text,
        ),
        Some(Transition {
            to: Assigned,
            assignee: Some(agent.id),
            only_from,
        }),
    )
    .await?;
    state.store.touch_last_assigned(agent.id).await?;
    Ok(conversation_of(outcome).unwrap_or(current))
}

/// Puts an assigned conversation back in the queue, unheld.
pub async fn unassign(
    state: &AppState,
    id: ConversationId,
    by: Option<AgentId>,
) -> ApiResult<Conversation> {
    let outcome = commit(
        state,
        id,
        NewMessage::system(
            SystemEvent::Unassigned { by },
            "The conversation is back in the queue.",
        ),
        Some(Transition {
            to: Waiting,
            assignee: None,
            only_from: vec![Assigned],
        }),
    )
    .await?;
    Ok(conversation_of(outcome).unwrap_or(state.store.get_conversation(id).await?))
}

/// Marks a conversation done (keeps its assignee for the record).
pub async fn resolve(
    state: &AppState,
    id: ConversationId,
    by: Option<AgentId>,
) -> ApiResult<Conversation> {
    let current = state.store.get_conversation(id).await?;
    let outcome = commit(
        state,
        id,
        NewMessage::system(
            SystemEvent::Resolved { by },
            "The conversation was resolved.",
        ),
        Some(Transition {
            to: Resolved,
            assignee: current.assignee_id,
            only_from: vec![Bot, Waiting, Assigned],
        }),
    )
    .await?;
    Ok(conversation_of(outcome).unwrap_or(current))
}

/// Opens a resolved conversation again: held by the agent who reopens it, or back in the
/// queue (and routed) when the visitor does.
pub async fn reopen(
    state: &AppState,
    id: ConversationId,
    by: Option<AgentId>,
) -> ApiResult<Conversation> {
    let (to, assignee) = match by {
        Some(agent) => (Assigned, Some(agent)),
        None => (Waiting, None),
    };
    let outcome = commit(
        state,
        id,
        NewMessage::system(
            SystemEvent::Reopened { by },
            "The conversation was reopened.",
        ),
        Some(Transition {
            to,
            assignee,
            only_from: vec![Resolved],
        }),
    )
    .await?;
    let conversation = conversation_of(outcome).unwrap_or(state.store.get_conversation(id).await?);
    if to == Waiting {
        route(state, id).await
    } else {
        Ok(conversation)
    }
}

/// Gives a conversation back to the assistant, when the site has one.
pub async fn hand_to_bot(
    state: &AppState,
    id: ConversationId,
    by: Option<AgentId>,
) -> ApiResult<Conversation> {
    let current = state.store.get_conversation(id).await?;
    let site = state.store.get_site(current.site_id).await?;
    if !site.settings.bot_enabled {
        return Err(ApiError::conflict(
            "bot_disabled",
            "this site has no assistant enabled",
        ));
    }
    let outcome = commit(
        state,
        id,
        NewMessage::system(
            SystemEvent::HandedToBot { by },
            "The assistant is answering again.",
        ),
        Some(Transition {
            to: Bot,
            assignee: None,
            only_from: vec![Waiting, Assigned],
        }),
    )
    .await?;
    Ok(conversation_of(outcome).unwrap_or(current))
}

/// Routes a site's waiting conversations, oldest first, e.g. when an agent comes online.
pub async fn route_queue(state: &AppState, site: SiteId) -> ApiResult<()> {
    for id in state.store.list_waiting(site, 100).await? {
        if route_with(state, id, false).await?.status == Waiting {
            break; // nobody can take more
        }
    }
    Ok(())
}
