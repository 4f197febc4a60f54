//! Shared state handed to every handler: the store, the realtime hub, the configuration and
//! the per-visitor message limiter.

use std::sync::Arc;

use kefu_ai::AnswerEngine;
use kefu_core::config::Config;
use kefu_kb::{FaqIndexes, MatcherConfig};
use kefu_store::Store;

use crate::chat::bot::KnowledgeRetriever;

use crate::rate_limit::VisitorLimiter;
use crate::realtime::Hub;

/// Cheap to clone: one `Arc` inside.
#[derive(Clone)]
pub struct AppState(Arc<Inner>);

/// What the state holds.
pub struct Inner {
    pub store: Store,
    pub hub: Hub,
    pub config: Config,
    pub limiter: VisitorLimiter,
    /// Trained FAQ indexes per site; invalidated whenever a site's knowledge changes.
    pub faq: Arc<FaqIndexes>,
    /// Decides the assistant's replies.
    pub answers: AnswerEngine,
}

impl AppState {
    /// Builds the state for a configuration and an opened, migrated store.
    pub fn new(config: Config, store: Store) -> Self {
        let limiter = VisitorLimiter::new(
            config.visitor_messages_per_minute,
            config.visitor_message_burst,
        );
        let hub = Hub::new(config.ws_send_queue.max(16));
        let faq = Arc::new(FaqIndexes::new(store.clone(), MatcherConfig::default()));
        let answers = AnswerEngine::new(Arc::new(KnowledgeRetriever(faq.clone())));
        Self(Arc::new(Inner {
            store,
            hub,
            config,
            limiter,
            faq,
            answers,
        }))
    }
}

impl std::ops::Deref for AppState {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}
