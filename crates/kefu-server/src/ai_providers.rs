//! Each site's language-model gateway, built from its provider chain in the database (keys
//! opened with the secret box only here, in memory) and kept until an admin changes the chain.
//! A site without enabled providers gets `None`: the assistant runs offline.
//!
//! Usage from every call flows to the database through a channel and one writer task, because
//! the gateway reports usage on the request path and must not wait for a database write.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use kefu_ai::gateway::{
    Gateway, GatewayConfig, ProviderConfig, RateLimit, RateLimits, UsageRecord, UsageSink,
};
use kefu_core::SiteId;
use kefu_store::{AiProviderRow, AiUsageDay, Store};
use tokio::sync::mpsc;

use crate::secrets::SecretBox;

/// Provider calls one visitor may cause per minute (a burst of a few, then a steady trickle):
/// enough for a brisk conversation, too few for a script to run up the bill.
const VISITOR_LIMIT: RateLimit = RateLimit {
    per_minute: 20,
    burst: 6,
};
/// Provider calls per site per minute.
const SITE_LIMIT: RateLimit = RateLimit {
    per_minute: 600,
    burst: 60,
};

/// Per-site gateways.
pub struct SiteGateways {
    store: Store,
    secrets: SecretBox,
    cache: Mutex<HashMap<SiteId, Option<Gateway>>>,
    usage: mpsc::UnboundedSender<UsageRecord>,
}

impl SiteGateways {
    /// Starts the usage writer; call inside the runtime.
    pub fn new(store: Store, secrets: SecretBox) -> Self {
        let (usage, rx) = mpsc::unbounded_channel();
        tokio::spawn(write_usage(store.clone(), rx));
        Self {
            store,
            secrets,
            cache: Mutex::new(HashMap::new()),
            usage,
        }
    }

    /// The secret box (for sealing keys an admin sends).
    pub fn secrets(&self) -> &SecretBox {
        &self.secrets
    }

    /// The site's gateway, or `None` when it has no enabled provider.
    pub async fn get(&self, site: SiteId) -> kefu_store::Result<Option<Gateway>> {
        if let Some(found) = self.lock().get(&site) {
            return Ok(found.clone());
        }
        let rows = self.store.list_ai_providers(site).await?;
        let gateway = self.build(&rows);
        self.lock().insert(site, gateway.clone());
        Ok(gateway)
    }

    /// Forgets the site's gateway after its chain changed.
    pub fn invalidate(&self, site: SiteId) {
        self.lock().remove(&site);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<SiteId, Option<Gateway>>> {
        // A panic while holding this lock cannot leave the map half-written.
        self.cache
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn build(&self, rows: &[AiProviderRow]) -> Option<Gateway> {
        let providers: Vec<ProviderConfig> = rows
            .iter()
            .filter(|r| r.enabled)
            .filter_map(|r| self.provider(r))
            .collect();
        if providers.is_empty() {
            return None;
        }
        let mut config = GatewayConfig::new(providers);
        config.rate_limits = RateLimits {
            per_site: Some(SITE_LIMIT),
            per_visitor: Some(VISITOR_LIMIT),
        };
        // A visitor waits for the answer: bound the whole call well below a minute.
        config.deadline = std::time::Duration::from_secs(45);
        let sink: Arc<dyn UsageSink> = Arc::new(ChannelSink(self.usage.clone()));
        match Gateway::builder(config).usage_sink(sink).build() {
            Ok(g) => Some(g),
            Err(e) => {
                tracing::error!(error = %e, "provider chain is unusable; the assistant runs offline");
                None
            }
        }
    }

    fn provider(&self, row: &AiProviderRow) -> Option<ProviderConfig> {
        let mut p = ProviderConfig::new(&row.name, &row.base_url, &row.model)
            .with_pricing(row.input_per_million, row.output_per_million);
        p.max_output_tokens = u32::try_from(row.max_output_tokens).unwrap_or(1024);
        if let Some(version) = &row.azure_api_version {
            p = p.azure(version.clone());
        }
        if let Some(sealed) = &row.api_key_sealed {
            match self.secrets.open(sealed) {
                Ok(key) => p = p.with_api_key(key),
                Err(e) => {
                    // Calling without the key would only collect 401s; skip the provider.
                    tracing::error!(provider = %row.name, error = %e, "cannot open the provider's API key; skipping it");
                    return None;
                }
            }
        }
        Some(p)
    }
}

struct ChannelSink(mpsc::UnboundedSender<UsageRecord>);

impl UsageSink for ChannelSink {
    fn record(&self, record: &UsageRecord) {
        let _ = self.0.send(record.clone());
    }
}

async fn write_usage(store: Store, mut rx: mpsc::UnboundedReceiver<UsageRecord>) {
    while let Some(r) = rx.recv().await {
        let day = AiUsageDay {
            day: r.day.to_string(),
            provider: r.provider.clone(),
            model: r.model.clone(),
            requests: 1,
            cache_hits: i64::from(r.cache_hit),
            failures: i64::from(r.failed),
            prompt_tokens: i64::from(r.usage.prompt_tokens),
            completion_tokens: i64::from(r.usage.completion_tokens),
            cost_micros: i64::try_from(r.cost_micros).unwrap_or(i64::MAX),
        };
        if let Err(e) = store.add_ai_usage(r.site, &day).await {
            tracing::warn!(site = %r.site, error = %e, "recording provider usage failed");
        }
    }
}
