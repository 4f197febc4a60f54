//! The hub: one bounded broadcast channel per topic (a site's inbox stream for agents, a
//! conversation's log for everyone subscribed to it). Publishing never blocks: a subscriber
//! that falls a full channel behind is told it lagged and its connection closes, so one slow
//! client costs bounded memory and resumes from the database.
//!
//! Besides topics, the hub carries sign-out signals: when an agent signs out (one session,
//! everywhere, or by changing the password), each of that agent's connections re-checks its
//! credential and closes with 4001 if it is gone. (In-process for now; with several nodes the
//! signal must travel like the topics do.)

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use kefu_core::domain::{Conversation, Message};
use kefu_core::protocol::ServerFrame;
use kefu_core::{AgentId, ConversationId, SiteId};
use tokio::sync::broadcast;

/// What a connection can listen to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Topic {
    /// Inbox updates and presence for a site's agents.
    Site(SiteId),
    /// A conversation's log entries and typing/read signals.
    Conversation(ConversationId),
}

/// A published frame, shared by every receiver.
pub type Frame = Arc<ServerFrame>;

/// The in-process fan-out.
pub struct Hub {
    topics: Mutex<HashMap<Topic, broadcast::Sender<Frame>>>,
    agent_connections: Mutex<HashMap<AgentId, usize>>,
    sign_outs: broadcast::Sender<AgentId>,
    capacity: usize,
}

/// Sign-outs buffered per connection; one that lags re-checks its credential anyway.
const SIGN_OUT_CAPACITY: usize = 64;

impl Hub {
    /// A hub whose per-topic channels hold `capacity` frames.
    pub fn new(capacity: usize) -> Self {
        Self {
            topics: Mutex::new(HashMap::new()),
            agent_connections: Mutex::new(HashMap::new()),
            sign_outs: broadcast::channel(SIGN_OUT_CAPACITY).0,
            capacity,
        }
    }

    /// Starts receiving a topic's frames from now on.
    pub fn subscribe(&self, topic: Topic) -> broadcast::Receiver<Frame> {
        let mut topics = self.topics.lock().unwrap_or_else(|p| p.into_inner());
        topics
            .entry(topic)
            .or_insert_with(|| broadcast::channel(self.capacity).0)
            .subscribe()
    }

    /// Sends a frame to a topic's current subscribers (none is fine).
    pub fn publish(&self, topic: Topic, frame: ServerFrame) {
        let mut topics = self.topics.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(sender) = topics.get(&topic)
            && sender.send(Arc::new(frame)).is_err()
        {
            // Nobody listens any more: drop the channel so idle topics cost nothing.
            topics.remove(&topic);
        }
    }

    /// Publishes a committed log entry: the entry to the conversation's subscribers and the
    /// updated inbox row to the site's agents.
    pub fn publish_message(&self, message: &Message, conversation: &Conversation) {
        self.publish(
            Topic::Conversation(message.conversation_id),
            ServerFrame::Message {
                message: message.clone(),
            },
        );
        self.publish_conversation(conversation);
    }

    /// Publishes an inbox row change to the site's agents.
    pub fn publish_conversation(&self, conversation: &Conversation) {
        self.publish(
            Topic::Site(conversation.site_id),
            ServerFrame::ConversationUpdated {
                conversation: conversation.clone(),
            },
        );
    }

    /// Counts an agent's new connection; returns true for the first one.
    pub fn agent_connected(&self, agent: AgentId) -> bool {
        let mut counts = self
            .agent_connections
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        let n = counts.entry(agent).or_insert(0);
        *n += 1;
        *n == 1
    }

    /// Counts an agent's closed connection; returns true when it was the last one.
    pub fn agent_disconnected(&self, agent: AgentId) -> bool {
        let mut counts = self
            .agent_connections
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        match counts.get_mut(&agent) {
            Some(n) if *n > 1 => {
                *n -= 1;
                false
            }
            Some(_) => {
                counts.remove(&agent);
                true
            }
            None => false,
        }
    }

    /// Starts receiving sign-out signals (agent connections listen from their start).
    pub fn sign_outs(&self) -> broadcast::Receiver<AgentId> {
        self.sign_outs.subscribe()
    }

    /// Tells the agent's connections that some of its sessions or tokens ended.
    pub fn agent_signed_out(&self, agent: AgentId) {
        // No receiver (no socket open anywhere) is fine.
        let _ = self.sign_outs.send(agent);
    }

    /// Number of topics with a live channel (for metrics and tests).
    pub fn topic_count(&self) -> usize {
        self.topics.lock().unwrap_or_else(|p| p.into_inner()).len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn publishes_to_subscribers_and_forgets_idle_topics() {
        let hub = Hub::new(4);
        let topic = Topic::Conversation(ConversationId::new());
        let mut rx = hub.subscribe(topic);
        hub.publish(topic, ServerFrame::Pong { nonce: None });
        assert_eq!(*rx.recv().await.unwrap(), ServerFrame::Pong { nonce: None });
        drop(rx);
        hub.publish(topic, ServerFrame::Pong { nonce: None });
        assert_eq!(hub.topic_count(), 0);
    }

    #[tokio::test]
    async fn a_slow_subscriber_is_told_it_lagged() {
        let hub = Hub::new(2);
        let topic = Topic::Site(SiteId::new());
        let mut rx = hub.subscribe(topic);
        for _ in 0..5 {
            hub.publish(topic, ServerFrame::Pong { nonce: None });
        }
        assert!(matches!(
            rx.recv().await,
            Err(broadcast::error::RecvError::Lagged(_))
        ));
    }

    #[tokio::test]
    async fn sign_outs_reach_listeners() {
        let hub = Hub::new(2);
        let a = AgentId::new();
        hub.agent_signed_out(a); // nobody listening yet: no error, nothing kept
        let mut rx = hub.sign_outs();
        hub.agent_signed_out(a);
        assert_eq!(rx.recv().await.unwrap(), a);
    }

    #[test]
    fn counts_agent_connections() {
        let hub = Hub::new(2);
        let a = AgentId::new();
        assert!(hub.agent_connected(a));
        assert!(!hub.agent_connected(a));
        assert!(!hub.agent_disconnected(a));
        assert!(hub.agent_disconnected(a));
        assert!(!hub.agent_disconnected(a));
    }
}
