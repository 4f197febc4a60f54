//! Token and cost accounting: an in-memory aggregate per site and UTC day, plus the
//! [`UsageSink`] trait the server implements to persist the same records.
//!
//! When a provider reports no usage (some servers never do, or the stream broke before the
//! last chunk), tokens are estimated with [`estimate_tokens`]: one token per CJK character and
//! one per four other characters, rounded up, plus four per message for the chat template. It
//! is deliberately simple: it only has to be in the right range for budgets and cost, and such
//! records are flagged `estimated`.

use std::collections::HashMap;
use std::sync::Mutex;

use kefu_core::SiteId;
use time::{Date, OffsetDateTime};

use super::config::Pricing;
use super::types::{ChatMessage, Usage};

/// Chat-template overhead per message (role markers, separators), as OpenAI documents it.
const PER_MESSAGE_OVERHEAD: u32 = 4;

/// Estimated tokens of `text`: CJK characters count one each (BPE vocabularies mostly give a
/// common Han character one token), other characters a quarter each (English averages about
/// four characters per token).
pub fn estimate_tokens(text: &str) -> u32 {
    let mut cjk = 0u32;
    let mut other = 0u32;
    for c in text.chars() {
        if is_cjk(c) {
            cjk += 1;
        } else {
            other += 1;
        }
    }
    cjk + other.div_ceil(4)
}

/// Estimated prompt tokens of a message list.
pub fn estimate_prompt_tokens(messages: &[ChatMessage]) -> u32 {
    messages
        .iter()
        .map(|m| estimate_tokens(&m.content) + PER_MESSAGE_OVERHEAD)
        .sum()
}

fn is_cjk(c: char) -> bool {
    matches!(c as u32,
        0x3040..=0x30FF      // Hiragana, Katakana
        | 0x3000..=0x303F    // CJK punctuation
        | 0x3400..=0x4DBF    // Extension A
        | 0x4E00..=0x9FFF    // Unified Ideographs
        | 0xAC00..=0xD7AF    // Hangul syllables
        | 0xF900..=0xFAFF    // Compatibility Ideographs
        | 0xFF00..=0xFFEF    // Full-width forms
        | 0x20000..=0x2FFFF) // Extensions B–F
}

/// Cost in millionths of the price currency: prices are per 1M tokens, so `tokens × price`
/// is already in micro-units (exact for whole-number prices).
pub(crate) fn cost_micros(pricing: &Pricing, usage: &Usage) -> u64 {
    let micros = f64::from(usage.prompt_tokens) * pricing.input_per_million
        + f64::from(usage.completion_tokens) * pricing.output_per_million;
    if micros.is_finite() && micros > 0.0 {
        micros.round() as u64
    } else {
        0
    }
}

/// One finished gateway call, as accounting sees it (no text).
#[derive(Clone, Debug, PartialEq)]
pub struct UsageRecord {
    pub site: SiteId,
    /// The UTC day the call finished.
    pub day: Date,
    /// The provider that answered (or last failed); empty for a cache hit.
    pub provider: String,
    pub model: String,
    pub usage: Usage,
    pub cost_micros: u64,
    pub cache_hit: bool,
    /// The call ended in an error.
    pub failed: bool,
}

impl UsageRecord {
    pub(crate) fn today(site: SiteId) -> Self {
        Self {
            site,
            day: OffsetDateTime::now_utc().date(),
            provider: String::new(),
            model: String::new(),
            usage: Usage::default(),
            cost_micros: 0,
            cache_hit: false,
            failed: false,
        }
    }
}

/// Receives every finished call's usage; the server implements it to persist per-day totals.
/// Called on the request path, so implementations must not block (queue the write instead).
pub trait UsageSink: Send + Sync {
    fn record(&self, record: &UsageRecord);
}

/// Totals of one site on one UTC day.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct UsageTotals {
    /// Calls that ended (answered, cached or failed).
    pub requests: u64,
    pub cache_hits: u64,
    pub failures: u64,
    pub prompt_tokens: u64,
    pub completion_tokens: u64,
    /// Calls whose tokens were estimated rather than reported.
    pub estimated: u64,
    pub cost_micros: u64,
}

/// One row of a [`UsageLedger::snapshot`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SiteDayUsage {
    pub site: SiteId,
    pub day: Date,
    pub totals: UsageTotals,
}

/// The in-memory aggregate the gateway always keeps.
#[derive(Debug, Default)]
pub struct UsageLedger {
    totals: Mutex<HashMap<(SiteId, Date), UsageTotals>>,
}

impl UsageLedger {
    /// Every (site, day) with its totals, sorted by day then site.
    pub fn snapshot(&self) -> Vec<SiteDayUsage> {
        let map = match self.totals.lock() {
            Ok(m) => m,
            Err(poisoned) => poisoned.into_inner(),
        };
        let mut rows: Vec<SiteDayUsage> = map
            .iter()
            .map(|(&(site, day), &totals)| SiteDayUsage { site, day, totals })
            .collect();
        rows.sort_by_key(|r| (r.day, r.site));
        rows
    }

    /// One site's totals for one day (zeros when it made no calls).
    pub fn get(&self, site: SiteId, day: Date) -> UsageTotals {
        let map = match self.totals.lock() {
            Ok(m) => m,
            Err(poisoned) => poisoned.into_inner(),
        };
        map.get(&(site, day)).copied().unwrap_or_default()
    }
}

impl UsageSink for UsageLedger {
    fn record(&self, r: &UsageRecord) {
        let mut map = match self.totals.lock() {
            Ok(m) => m,
            Err(poisoned) => poisoned.into_inner(),
        };
        let t = map.entry((r.site, r.day)).or_default();
        t.requests += 1;
        t.cache_hits += u64::from(r.cache_hit);
        t.failures += u64::from(r.failed);
        t.prompt_tokens += u64::from(r.usage.prompt_tokens);
        t.completion_tokens += u64::from(r.usage.completion_tokens);
        t.estimated += u64::from(r.usage.estimated);
        t.cost_micros += r.cost_micros;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn estimates_latin_by_quarters_and_cjk_by_characters() {
        assert_eq!(estimate_tokens(""), 0);
        assert_eq!(estimate_tokens("abcd"), 1);
        assert_eq!(estimate_tokens("abcde"), 2);
        assert_eq!(estimate_tokens("退款政策"), 4);
        assert_eq!(estimate_tokens("退款 refund"), 2 + 2);
        assert_eq!(
            estimate_prompt_tokens(&[ChatMessage::user("abcd"), ChatMessage::system("你好")]),
            1 + 4 + 2 + 4
        );
    }

    #[test]
    fn cost_is_tokens_times_price_per_million_in_micros() {
        let pricing = Pricing {
            input_per_million: 2.0,
            output_per_million: 8.0,
        };
        let usage = Usage {
            prompt_tokens: 1000,
            completion_tokens: 250,
            estimated: false,
        };
        // 1000 × 2 / 1M + 250 × 8 / 1M = 0.004 = 4000 micros.
        assert_eq!(cost_micros(&pricing, &usage), 4000);
    }
}
