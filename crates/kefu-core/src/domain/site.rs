//! Sites: one business website, with the origins allowed to embed its widget and the
//! settings its widget and routing follow.

use serde::{Deserialize, Serialize};

use crate::{SiteId, Timestamp};

/// A site as stored and shown to its agents.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Site {
    pub id: SiteId,
    pub name: String,
    /// Origins (`https://shop.example`) allowed to embed the widget. Empty: any origin.
    pub allowed_origins: Vec<String>,
    pub settings: SiteSettings,
    pub created_at: crate::Timestamp,
    pub updated_at: Timestamp,
}

impl Site {
    /// Whether a browser `Origin` header value may use this site's widget.
    pub fn allows_origin(&self, origin: Option<&str>) -> bool {
        if self.allowed_origins.is_empty() {
            return true;
        }
        let Some(origin) = origin else { return false };
        let origin = origin.trim_end_matches('/');
        self.allowed_origins
            .iter()
            .any(|allowed| allowed.trim_end_matches('/').eq_ignore_ascii_case(origin))
    }
}

/// Longest retention period a site may set (ten years).
pub const MAX_RETENTION_DAYS: u32 = 3650;

/// Per-site behaviour. Every field has a default that works out of the box, and unknown
/// fields are refused so a typo in an admin's PATCH is an error, not a silent no-op.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct SiteSettings {
    /// Conversations start with the assistant (`bot` state) instead of waiting for a human.
    /// Off until an answer engine is configured for the site.
    pub bot_enabled: bool,
    /// Assign a conversation that needs a human to the least busy online agent.
    pub auto_assign: bool,
    /// Most open conversations auto-assignment gives one agent; 0 means no limit.
    pub max_open_per_agent: u32,
    /// First message the widget shows.
    pub welcome_message: String,
    /// Shown when a human is needed and nobody is online; the visitor may leave an e-mail.
    pub offline_message: String,
    /// Widget accent colour (CSS colour).
    pub widget_color: String,
    /// Widget title.
    pub widget_title: String,
    /// Which bottom corner of the page the widget sits in: `right` or `left`.
    pub widget_position: String,
    /// Picture beside the widget's title and the assistant's answers: an https address, or
    /// empty for none.
    pub widget_avatar_url: String,
    /// The assistant answers when its confidence is at least this (0–1). The default is the
    /// operating point chosen on BANKING77 by cross-validation: at most 5% wrong answers.
    pub answer_threshold: f32,
    /// Below the answer threshold but at least this, the assistant asks the visitor to pick
    /// from its best guesses instead of handing over at once.
    pub clarify_threshold: f32,
    /// The assistant's instructions when a language model is configured: brand voice and
    /// guardrails. Grounding rules (answer only from the knowledge base, cite, say when it
    /// does not know) are always added by Kefu and cannot be switched off here.
    pub system_prompt: String,
    /// Topics the assistant never answers: a visitor message naming one (case-insensitive
    /// substring) goes to a human with reason `sensitive_topic`.
    pub forbidden_topics: Vec<String>,
    /// Hand a conversation to a human when a visitor message reads as clearly negative.
    pub escalate_on_negative_sentiment: bool,
    /// Tokens of earlier conversation the language model sees; older messages are left out.
    pub context_budget_tokens: u32,
    /// Strip personal data (phones, e-mails, ID and card numbers) from everything sent to a
    /// language-model provider. On by default; turning it off is an admin's explicit choice.
    pub redact_provider_input: bool,
    /// Visitors must accept the privacy notice before their first message.
    pub consent_required: bool,
    /// The notice the widget shows (plain text).
    pub consent_notice: String,
    /// Changing the version asks every visitor to accept the new notice.
    pub consent_version: String,
    /// Linked from the widget when set.
    pub privacy_policy_url: String,
    /// Conversations resolved longer ago than this many days are deleted with everything
    /// hanging off them by the retention job. `None`: kept until erased.
    pub retention_days: Option<u32>,
    /// This site's audit events older than this many days are deleted by the retention job.
    /// `None`: kept for ever.
    pub audit_retention_days: Option<u32>,
    /// Hosts the knowledge base may fetch pages and sitemaps from (URL and sitemap imports):
    /// `help.example.com`, or `*.example.com` for its subdomains. Empty: no fetching at all.
    /// Names resolving to private or loopback addresses are refused; such an address is
    /// reachable only when listed literally (`127.0.0.1`, `10.0.0.8`).
    pub import_allowed_hosts: Vec<String>,
    /// File types visitors and agents may upload, recognised by content. Empty: no uploads.
    pub attachment_types: Vec<super::FileKind>,
    /// Largest upload in bytes.
    pub attachment_max_bytes: u64,
}

/// The most a site may allow per upload (files are buffered on disk, never in memory).
pub const MAX_ATTACHMENT_BYTES: u64 = 100 * 1024 * 1024;

impl SiteSettings {
    /// Checks values serde cannot: ranges and lengths. Called before settings are saved.
    pub fn validate(&self) -> Result<(), crate::validate::ValidationError> {
        use crate::validate::ValidationError as E;
        for (field, v) in [
            ("answer_threshold", self.answer_threshold),
            ("clarify_threshold", self.clarify_threshold),
        ] {
            if !(0.0..=1.0).contains(&v) {
                return Err(E::invalid(field, "must be between 0 and 1"));
            }
        }
        if self.clarify_threshold > self.answer_threshold {
            return Err(E::invalid(
                "clarify_threshold",
                "must not be above answer_threshold",
            ));
        }
        if self.system_prompt.chars().count() > 8_000 {
            return Err(E::invalid("system_prompt", "at most 8000 characters"));
        }
        if self.forbidden_topics.len() > 200
            || self
                .forbidden_topics
                .iter()
                .any(|t| t.trim().is_empty() || t.chars().count() > 100)
        {
            return Err(E::invalid(
                "forbidden_topics",
                "at most 200 topics of 1-100 characters",
            ));
        }
        if !(100..=32_000).contains(&self.context_budget_tokens) {
            return Err(E::invalid(
                "context_budget_tokens",
                "must be between 100 and 32000",
            ));
        }
        if self.consent_notice.trim().is_empty() || self.consent_notice.chars().count() > 2_000 {
            return Err(E::invalid("consent_notice", "1-2000 characters"));
        }
        let version = self.consent_version.trim();
        if version.is_empty() || version.chars().count() > 40 {
            return Err(E::invalid("consent_version", "1-40 characters"));
        }
        if !matches!(self.widget_position.as_str(), "right" | "left") {
            return Err(E::invalid("widget_position", "`right` or `left`"));
        }
        let avatar = self.widget_avatar_url.trim();
        // https only: the widget runs on customers' pages, where http would be mixed content.
        if !avatar.is_empty() && (!avatar.starts_with("https://") || avatar.len() > 500) {
            return Err(E::invalid(
                "widget_avatar_url",
                "an https address of at most 500 characters, or empty",
            ));
        }
        let url = self.privacy_policy_url.trim();
        if !url.is_empty()
            && (!(url.starts_with("https://") || url.starts_with("http://")) || url.len() > 500)
        {
            return Err(E::invalid(
                "privacy_policy_url",
                "an http(s) address of at most 500 characters, or empty",
            ));
        }
        for (field, days) in [
            ("retention_days", self.retention_days),
            ("audit_retention_days", self.audit_retention_days),
        ] {
            if days.is_some_and(|d| !(1..=MAX_RETENTION_DAYS).contains(&d)) {
                return Err(E::invalid(field, "between 1 and 3650 days, or null"));
            }
        }
        if self.import_allowed_hosts.len() > 100
            || self
                .import_allowed_hosts
                .iter()
                .any(|h| !is_host_pattern(h))
        {
            return Err(E::invalid(
                "import_allowed_hosts",
                "at most 100 host names (help.example.com, *.example.com) or IP addresses, \
                 without scheme, port or path",
            ));
        }
        if !(1024..=MAX_ATTACHMENT_BYTES).contains(&self.attachment_max_bytes) {
            return Err(E::invalid(
                "attachment_max_bytes",
                format!("must be between 1024 and {MAX_ATTACHMENT_BYTES}"),
            ));
        }
        Ok(())
    }
}

/// A lower-case host name (optionally `*.` + name) or an IP address: what an import
/// allow-list may hold. Schemes, ports, paths and bare `*` are refused, so an entry can only
/// ever widen access to the hosts it names.
fn is_host_pattern(pattern: &str) -> bool {
    if pattern.parse::<std::net::IpAddr>().is_ok() {
        return true;
    }
    let name = pattern.strip_prefix("*.").unwrap_or(pattern);
    !name.is_empty()
        && name.len() <= 253
        && name == name.to_ascii_lowercase()
        && name.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        })
}

impl Default for SiteSettings {
    fn default() -> Self {
        Self {
            bot_enabled: false,
            auto_assign: true,
            max_open_per_agent: 0,
            welcome_message: "Hi! How can we help you today?".to_owned(),
            offline_message:
                "No agent is online right now. Leave your e-mail and we will get back to you."
                    .to_owned(),
            widget_color: "#2563eb".to_owned(),
            widget_title: "Chat with us".to_owned(),
            widget_position: "right".to_owned(),
            widget_avatar_url: String::new(),
            answer_threshold: 0.40,
            clarify_threshold: 0.2,
            system_prompt: String::new(),
            forbidden_topics: Vec::new(),
            escalate_on_negative_sentiment: false,
            context_budget_tokens: 1500,
            redact_provider_input: true,
            consent_required: false,
            consent_notice: "We store this conversation to help you and to improve our service. \
                             Please do not share passwords or card numbers."
                .to_owned(),
            consent_version: "1".to_owned(),
            privacy_policy_url: String::new(),
            retention_days: None,
            audit_retention_days: None,
            import_allowed_hosts: Vec::new(),
            attachment_types: super::FileKind::DEFAULT_ALLOWED.to_vec(),
            attachment_max_bytes: 10 * 1024 * 1024,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn site(origins: &[&str]) -> Site {
        Site {
            id: SiteId::new(),
            name: "s".into(),
            allowed_origins: origins.iter().map(|s| s.to_string()).collect(),
            settings: SiteSettings::default(),
            created_at: Timestamp::now(),
            updated_at: Timestamp::now(),
        }
    }

    #[test]
    fn empty_origin_list_allows_all() {
        assert!(site(&[]).allows_origin(None));
        assert!(site(&[]).allows_origin(Some("https://x.example")));
    }

    #[test]
    fn origin_list_is_matched_exactly_ignoring_case_and_trailing_slash() {
        let s = site(&["https://shop.example/"]);
        assert!(s.allows_origin(Some("https://SHOP.example")));
        assert!(!s.allows_origin(Some("https://evil.example")));
        assert!(!s.allows_origin(Some("http://shop.example")));
        assert!(!s.allows_origin(None));
    }

    #[test]
    fn retention_periods_are_null_or_one_day_to_ten_years() {
        let mut s = SiteSettings::default();
        assert!(s.validate().is_ok());
        for (days, ok) in [
            (Some(1), true),
            (Some(3650), true),
            (Some(0), false),
            (Some(3651), false),
        ] {
            s.retention_days = days;
            assert_eq!(s.validate().is_ok(), ok, "retention_days {days:?}");
            s.retention_days = None;
            s.audit_retention_days = days;
            assert_eq!(s.validate().is_ok(), ok, "audit_retention_days {days:?}");
            s.audit_retention_days = None;
        }
        let parsed: SiteSettings = serde_json::from_str(r#"{"retention_days":30}"#).unwrap();
        assert_eq!(parsed.retention_days, Some(30));
        assert_eq!(parsed.audit_retention_days, None);
    }

    #[test]
    fn import_hosts_are_host_names_or_addresses_only() {
        let with = |hosts: &[&str]| SiteSettings {
            import_allowed_hosts: hosts.iter().map(|h| h.to_string()).collect(),
            ..SiteSettings::default()
        };
        assert!(
            with(&["help.example.com", "*.example.org", "127.0.0.1", "::1"])
                .validate()
                .is_ok()
        );
        for bad in [
            "*",
            "https://help.example.com",
            "help.example.com:8080",
            "help.example.com/docs",
            "Help.Example.com",
            "",
            "a..b",
        ] {
            assert!(with(&[bad]).validate().is_err(), "{bad}");
        }
    }

    #[test]
    fn settings_refuse_unknown_fields() {
        let err = serde_json::from_str::<SiteSettings>(r#"{"auto_asign":true}"#);
        assert!(err.is_err());
    }
}
