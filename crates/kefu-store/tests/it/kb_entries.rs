//! Knowledge-base entries: dense immutable revisions, optimistic concurrency, filters,
//! re-import by source key.

use kefu_core::domain::{EntryContent, EntryStatus, Faq, Visibility};
use kefu_store::{EntryQuery, EntrySource, StoreError};

use crate::support::store;

fn faq(title: &str, answer: &str) -> EntryContent {
    EntryContent {
        category: "faq".into(),
        title: title.into(),
        body: String::new(),
        language: Some("zh-CN".into()),
        source: None,
        visibility: Visibility::Public,
        status: EntryStatus::Published,
        faq: Some(Faq {
            question: title.into(),
            alternatives: vec!["花呗怎么还款".into()],
            answer: answer.into(),
        }),
        review_due: None,
        owner_id: None,
    }
}

#[tokio::test]
async fn every_change_is_a_new_immutable_revision() {
    let db = store().await;
    let s = &db.store;
    let site = s.create_site("s", &[]).await.unwrap();
    let e = s
        .create_kb_entry(
            site.id,
            &faq("如何还款", "在App里还款"),
            None,
            Some("created"),
            &EntrySource::default(),
        )
        .await
        .unwrap();
    assert_eq!(e.revision, 1);
    let e2 = s
        .update_kb_entry(
            e.id,
            &faq("如何还款", "在App首页点击还款"),
            None,
            None,
            Some(1),
            None,
        )
        .await
        .unwrap();
    assert_eq!(e2.revision, 2);
    assert_eq!(e2.content.faq.as_ref().unwrap().answer, "在App首页点击还款");
    let r1 = s.get_kb_revision(e.id, 1).await.unwrap();
    assert_eq!(
        r1.content.faq.unwrap().answer,
        "在App里还款",
        "old revision unchanged"
    );
    assert_eq!(r1.note.as_deref(), Some("created"));
    let history = s.list_kb_revisions(e.id).await.unwrap();
    assert_eq!(
        history.iter().map(|r| r.revision).collect::<Vec<_>>(),
        vec![2, 1]
    );

    // A stale editor is refused and writes nothing.
    let err = s
        .update_kb_entry(e.id, &faq("x", "y"), None, None, Some(1), None)
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::InvalidState(_)), "{err:?}");
    assert_eq!(s.get_kb_entry(e.id).await.unwrap().revision, 2);
    assert!(matches!(
        s.get_kb_revision(e.id, 3).await,
        Err(StoreError::NotFound(_))
    ));
}

#[tokio::test]
async fn lists_filter_and_page() {
    let db = store().await;
    let s = &db.store;
    let site = s.create_site("s", &[]).await.unwrap();
    let other = s.create_site("o", &[]).await.unwrap();
    for i in 0..5 {
        let mut c = faq(&format!("Question {i}"), "a");
        if i % 2 == 0 {
            c.visibility = Visibility::Internal;
        }
        s.create_kb_entry(site.id, &c, None, None, &EntrySource::default())
            .await
            .unwrap();
    }
    s.create_kb_entry(
        other.id,
        &faq("elsewhere", "a"),
        None,
        None,
        &EntrySource::default(),
    )
    .await
    .unwrap();
    let mut q = EntryQuery {
        site: Some(site.id),
        limit: 2,
        ..EntryQuery::default()
    };
    let mut seen = 0;
    loop {
        let page = s.list_kb_entries(&q).await.unwrap();
        seen += page.items.len();
        match page.next_cursor {
            Some(c) => q.cursor = Some(c),
            None => break,
        }
    }
    assert_eq!(seen, 5);
    let public = EntryQuery {
        site: Some(site.id),
        visibility: Some("public".into()),
        limit: 50,
        ..EntryQuery::default()
    };
    assert_eq!(s.list_kb_entries(&public).await.unwrap().items.len(), 2);
    let titled = EntryQuery {
        site: Some(site.id),
        title_contains: Some("QUESTION 3".into()),
        limit: 50,
        ..EntryQuery::default()
    };
    assert_eq!(s.list_kb_entries(&titled).await.unwrap().items.len(), 1);
    assert_eq!(s.list_site_kb_entries(other.id).await.unwrap().len(), 1);
}

#[tokio::test]
async fn a_source_key_identifies_an_imported_entry() {
    let db = store().await;
    let s = &db.store;
    let site = s.create_site("s", &[]).await.unwrap();
    let source = EntrySource {
        key: Some("file:handbook.md".into()),
        content_hash: Some("h1".into()),
    };
    let e = s
        .create_kb_entry(site.id, &faq("q", "a"), None, None, &source)
        .await
        .unwrap();
    let err = s
        .create_kb_entry(site.id, &faq("q", "a"), None, None, &source)
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Conflict(_)));
    let (found, hash) = s
        .find_kb_entry_by_source(site.id, "file:handbook.md")
        .await
        .unwrap()
        .unwrap();
    assert_eq!((found.id, hash.as_deref()), (e.id, Some("h1")));
    s.update_kb_entry(e.id, &faq("q", "b"), None, None, None, Some("h2"))
        .await
        .unwrap();
    let (_, hash) = s
        .find_kb_entry_by_source(site.id, "file:handbook.md")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(hash.as_deref(), Some("h2"));
    s.record_kb_hit(e.id).await.unwrap();
    assert_eq!(s.get_kb_entry(e.id).await.unwrap().hit_count, 1);
}
