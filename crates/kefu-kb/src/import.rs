//! Applying an imported file to a site's knowledge base: each document becomes an entry (an
//! article) or one entry per Q&A pair, keyed by its source so that re-importing the same file
//! updates those entries — with a new revision only when the content hash changed — instead of
//! duplicating them. Parsing runs off the async workers and under a time limit, so one hostile
//! file cannot stall the batch. Web pages ([`import_url`]) go the same way, keyed by their
//! address, after a fetch held to the site's host allow-list ([`crate::url_fetch`]).

use std::time::Duration;

use kefu_core::domain::{EntryContent, EntryStatus, Faq, KbEntry, Visibility};
use kefu_core::{AgentId, KbEntryId, SiteId};
use kefu_import::{
    DocumentKind, Format, ImportOptions, ImportedDocument, Sitemap, content_hash, import_as,
    parse_sitemap,
};
use kefu_store::{EntrySource, Store};
use serde::{Deserialize, Serialize};

use crate::url_fetch::Fetcher;

/// Longest a single file may take to parse.
const PARSE_TIME_LIMIT: Duration = Duration::from_secs(120);

/// How imported entries are filed. Unknown fields are refused.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct ImportSettings {
    /// Category of articles (Q&A pairs use their own category column, else `faq`).
    pub category: String,
    pub status: EntryStatus,
    pub visibility: Visibility,
}

impl Default for ImportSettings {
    fn default() -> Self {
        Self {
            category: "tech_doc".to_owned(),
            status: EntryStatus::Published,
            visibility: Visibility::Public,
        }
    }
}

/// What importing one file did.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct FileOutcome {
    pub ok: bool,
    pub format: Option<String>,
    /// Stable code when the file failed (`corrupt_file`, `too_large`, `unsupported_type`…).
    pub error_code: Option<String>,
    pub error: Option<String>,
    pub created: Vec<KbEntryId>,
    pub updated: Vec<KbEntryId>,
    /// Entries whose content was already identical.
    pub unchanged: usize,
    pub warnings: Vec<String>,
}

impl FileOutcome {
    /// A failed outcome with its code and message.
    pub fn failed(code: &str, message: impl Into<String>) -> Self {
        Self {
            ok: false,
            error_code: Some(code.to_owned()),
            error: Some(message.into()),
            ..Self::default()
        }
    }
}

/// One entry to write: its source key, content and content hash.
struct Planned {
    key: String,
    content: EntryContent,
    hash: String,
}

/// `prefix` names the kind of source in the entry's key: `file` or `url`.
fn plan(
    doc: &ImportedDocument,
    position: usize,
    settings: &ImportSettings,
    prefix: &str,
) -> Vec<Planned> {
    let language = (doc.language != "unknown").then(|| doc.language.clone());
    let base = |category: String, title: String, body: String, faq: Option<Faq>| EntryContent {
        category,
        title,
        body,
        language: language.clone(),
        source: Some(doc.source.clone()),
        visibility: settings.visibility,
        status: settings.status,
        faq,
        review_due: None,
        owner_id: None,
    };
    match &doc.kind {
        DocumentKind::Article => {
            let key = if position == 0 {
                format!("{prefix}:{}", doc.source)
            } else {
                format!("{prefix}:{}#{position}", doc.source)
            };
            let content = base(
                settings.category.clone(),
                doc.title.clone(),
                doc.body_markdown.clone(),
                None,
            );
            vec![Planned {
                key,
                content,
                hash: doc.content_hash.clone(),
            }]
        }
        DocumentKind::QaPairs(pairs) => pairs
            .iter()
            .map(|pair| {
                let question_key = content_hash(&pair.question.trim().to_lowercase());
                let key = format!("{prefix}:{}#q:{}", doc.source, &question_key[..16]);
                let category = pair
                    .category
                    .as_deref()
                    .map(|c| c.trim().to_lowercase().replace(char::is_whitespace, "_"))
                    .filter(|c| !c.is_empty())
                    .unwrap_or_else(|| "faq".to_owned());
                let faq = Faq {
                    question: pair.question.clone(),
                    alternatives: pair.alternatives.clone(),
                    answer: pair.answer.clone(),
                };
                let hash = content_hash(&format!(
                    "{}\n{}\n{}\n{category}",
                    pair.question,
                    pair.alternatives.join("\n"),
                    pair.answer
                ));
                Planned {
                    key,
                    content: base(category, pair.question.clone(), String::new(), Some(faq)),
                    hash,
                }
            })
            .collect(),
    }
}

/// Imports one file into a site. Returns the outcome and the entries that changed (for the
/// caller to index). A store failure is returned as an error (the job retries the file);
/// anything wrong with the file itself is a failed outcome.
pub async fn import_into(
    store: &Store,
    site: SiteId,
    name: &str,
    bytes: Vec<u8>,
    settings: &ImportSettings,
    author: Option<AgentId>,
) -> Result<(FileOutcome, Vec<KbEntry>), kefu_store::StoreError> {
    import_source(store, site, name, bytes, None, "file", settings, author).await
}

/// Fetches a web page and imports it like a file, keyed by its address (`url:…`), so
/// fetching it again updates the same entry (a new revision only when the text changed). A
/// page refused by the host policy or failing to load is a failed outcome, not an error.
pub async fn import_url(
    store: &Store,
    site: SiteId,
    fetcher: &Fetcher,
    url: &str,
    settings: &ImportSettings,
    author: Option<AgentId>,
) -> Result<(FileOutcome, Vec<KbEntry>), kefu_store::StoreError> {
    let fetched = match fetcher.fetch(url).await {
        Ok(fetched) => fetched,
        Err(e) => return Ok((FileOutcome::failed(e.code(), e.to_string()), Vec::new())),
    };
    // The server's word decides for HTML: help centres serve pages at addresses without an
    // extension, or with one that names the source format (`/guide.md` rendered as HTML).
    let format = match fetched.content_type.as_deref() {
        Some("text/html" | "application/xhtml+xml") => Some(Format::Html),
        Some("application/pdf") => Some(Format::Pdf),
        _ => None,
    };
    let (mut outcome, changed) = import_source(
        store,
        site,
        url,
        fetched.bytes,
        format,
        "url",
        settings,
        author,
    )
    .await?;
    if fetched.final_url != url {
        outcome
            .warnings
            .push(format!("redirected to {}", fetched.final_url));
    }
    Ok((outcome, changed))
}

/// Fetches and reads a sitemap: the pages (and nested sitemaps) it lists, or why not.
pub async fn read_sitemap(fetcher: &Fetcher, url: &str) -> Result<Sitemap, FileOutcome> {
    let fetched = fetcher
        .fetch(url)
        .await
        .map_err(|e| FileOutcome::failed(e.code(), e.to_string()))?;
    parse_sitemap(&fetched.bytes).map_err(|e| FileOutcome::failed(e.code(), e.to_string()))
}

#[allow(clippy::too_many_arguments)]
async fn import_source(
    store: &Store,
    site: SiteId,
    name: &str,
    bytes: Vec<u8>,
    format: Option<Format>,
    prefix: &str,
    settings: &ImportSettings,
    author: Option<AgentId>,
) -> Result<(FileOutcome, Vec<KbEntry>), kefu_store::StoreError> {
    let owned_name = name.to_owned();
    let parsing = tokio::task::spawn_blocking(move || {
        import_as(&owned_name, &bytes, format, &ImportOptions::default())
    });
    let parsed = match tokio::time::timeout(PARSE_TIME_LIMIT, parsing).await {
        Ok(Ok(outcome)) => outcome,
        Ok(Err(e)) => {
            return Ok((
                FileOutcome::failed("parser_crashed", e.to_string()),
                Vec::new(),
            ));
        }
        Err(_) => {
            return Ok((
                FileOutcome::failed(
                    "timed_out",
                    format!("parsing took longer than {}s", PARSE_TIME_LIMIT.as_secs()),
                ),
                Vec::new(),
            ));
        }
    };
    let format = parsed.format.map(|f| f.name().to_owned());
    let documents = match parsed.result {
        Ok(documents) => documents,
        Err(e) => {
            return Ok((
                FileOutcome {
                    format,
                    ..FileOutcome::failed(e.code(), e.to_string())
                },
                Vec::new(),
            ));
        }
    };
    let mut outcome = FileOutcome {
        ok: true,
        format,
        ..FileOutcome::default()
    };
    let mut changed = Vec::new();
    let note = format!("import {name}");
    for (position, doc) in documents.iter().enumerate() {
        outcome
            .warnings
            .extend(doc.warnings.iter().map(|w| match w.row {
                Some(row) => format!("row {row}: {}", w.message),
                None => w.message.clone(),
            }));
        for planned in plan(doc, position, settings, prefix) {
            let content = match planned.content.validated() {
                Ok(content) => content,
                Err(e) => {
                    outcome
                        .warnings
                        .push(format!("skipped \"{}\": {e}", planned.key));
                    continue;
                }
            };
            match store.find_kb_entry_by_source(site, &planned.key).await? {
                Some((_, Some(hash))) if hash == planned.hash => outcome.unchanged += 1,
                Some((entry, _)) => {
                    let entry = store
                        .update_kb_entry(
                            entry.id,
                            &content,
                            author,
                            Some(&note),
                            None,
                            Some(&planned.hash),
                        )
                        .await?;
                    outcome.updated.push(entry.id);
                    changed.push(entry);
                }
                None => {
                    let source = EntrySource {
                        key: Some(planned.key),
                        content_hash: Some(planned.hash),
                    };
                    let entry = store
                        .create_kb_entry(site, &content, author, Some(&note), &source)
                        .await?;
                    outcome.created.push(entry.id);
                    changed.push(entry);
                }
            }
        }
    }
    Ok((outcome, changed))
}
