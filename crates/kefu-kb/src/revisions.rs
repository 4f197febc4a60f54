//! Comparing revisions of an entry: a canonical text rendering of a revision's content and a
//! unified diff between two of them, plus the list of fields that changed, so an editor sees
//! at a glance what an edit (or a rollback) did.

use kefu_core::domain::EntryContent;
use serde::Serialize;
use similar::TextDiff;

/// What changed between two revisions.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct RevisionDiff {
    pub from: i64,
    pub to: i64,
    /// Names of the fields whose value differs.
    pub changed_fields: Vec<&'static str>,
    /// Unified diff of the canonical renderings (empty when nothing changed).
    pub unified: String,
}

/// A stable, human-readable rendering of a revision's content, one field per block.
pub fn render(content: &EntryContent) -> String {
    let mut out = String::new();
    let mut field = |name: &str, value: &str| {
        out.push_str(name);
        out.push_str(": ");
        out.push_str(value);
        out.push('\n');
    };
    field("title", &content.title);
    field("category", &content.category);
    field("status", content.status.as_str());
    field("visibility", content.visibility.as_str());
    field("language", content.language.as_deref().unwrap_or(""));
    field("source", content.source.as_deref().unwrap_or(""));
    let review = content
        .review_due
        .map(|t| t.to_string())
        .unwrap_or_default();
    field("review_due", &review);
    let owner = content.owner_id.map(|a| a.to_string()).unwrap_or_default();
    field("owner_id", &owner);
    if let Some(faq) = &content.faq {
        field("faq.question", &faq.question);
        for alternative in &faq.alternatives {
            field("faq.alternative", alternative);
        }
        field("faq.answer", "");
        out.push_str(&faq.answer);
        out.push('\n');
    }
    out.push_str("body:\n");
    out.push_str(&content.body);
    if !content.body.ends_with('\n') {
        out.push('\n');
    }
    out
}

fn changed_fields(a: &EntryContent, b: &EntryContent) -> Vec<&'static str> {
    let mut fields = Vec::new();
    let mut check = |name: &'static str, differs: bool| {
        if differs {
            fields.push(name);
        }
    };
    check("title", a.title != b.title);
    check("category", a.category != b.category);
    check("status", a.status != b.status);
    check("visibility", a.visibility != b.visibility);
    check("language", a.language != b.language);
    check("source", a.source != b.source);
    check("review_due", a.review_due != b.review_due);
    check("owner_id", a.owner_id != b.owner_id);
    check("faq", a.faq != b.faq);
    check("body", a.body != b.body);
    fields
}

/// Diffs revision `from` (content `a`) against revision `to` (content `b`).
pub fn diff(from: i64, a: &EntryContent, to: i64, b: &EntryContent) -> RevisionDiff {
    let (left, right) = (render(a), render(b));
    let unified = if left == right {
        String::new()
    } else {
        TextDiff::from_lines(&left, &right)
            .unified_diff()
            .context_radius(3)
            .header(&format!("revision {from}"), &format!("revision {to}"))
            .to_string()
    };
    RevisionDiff {
        from,
        to,
        changed_fields: changed_fields(a, b),
        unified,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kefu_core::domain::{EntryStatus, Faq, Visibility};

    fn content(answer: &str) -> EntryContent {
        EntryContent {
            category: "faq".into(),
            title: "退款".into(),
            body: String::new(),
            language: Some("zh-CN".into()),
            source: None,
            visibility: Visibility::Public,
            status: EntryStatus::Published,
            faq: Some(Faq {
                question: "怎么退款？".into(),
                alternatives: vec![],
                answer: answer.into(),
            }),
            review_due: None,
            owner_id: None,
        }
    }

    #[test]
    fn diff_names_changed_fields_and_shows_lines() {
        let d = diff(1, &content("7天内退款"), 2, &content("30天内退款"));
        assert_eq!(d.changed_fields, vec!["faq"]);
        assert!(d.unified.contains("-7天内退款"), "{}", d.unified);
        assert!(d.unified.contains("+30天内退款"));
        assert!(d.unified.contains("revision 1") && d.unified.contains("revision 2"));
    }

    #[test]
    fn identical_revisions_have_an_empty_diff() {
        let d = diff(3, &content("a"), 4, &content("a"));
        assert!(d.changed_fields.is_empty());
        assert!(d.unified.is_empty());
    }
}
