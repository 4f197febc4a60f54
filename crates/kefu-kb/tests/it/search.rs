//! The search index is derived data: every revision is indexed, and an index deleted while
//! the server was down is rebuilt from the database on the next open.

use kefu_core::domain::{EntryContent, EntryStatus, Faq, Visibility};
use kefu_import::ChunkOptions;
use kefu_kb::Audience;
use kefu_kb::search::KbSearch;
use kefu_store::EntrySource;
use kefu_store::test_support::fresh_store;

fn content(title: &str, body: &str, visibility: Visibility) -> EntryContent {
    EntryContent {
        category: "policy".into(),
        title: title.into(),
        body: body.into(),
        language: None,
        source: None,
        visibility,
        status: EntryStatus::Published,
        faq: None,
        review_due: None,
        owner_id: None,
    }
}

#[tokio::test]
async fn index_recovers_after_being_deleted_while_down() {
    let db = fresh_store().await.unwrap();
    let store = &db.store;
    let site = store.create_site("s", &[]).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let index_dir = dir.path().join("index");

    let (search, rebuilt) = KbSearch::open(store, &index_dir, ChunkOptions::default())
        .await
        .unwrap();
    assert_eq!(
        rebuilt,
        Some(0),
        "a fresh index is built (empty) on first open"
    );
    let entry = store
        .create_kb_entry(
            site.id,
            &content(
                "上海交通大学校区",
                "闵行校区位于上海市闵行区东川路800号。",
                Visibility::Public,
            ),
            None,
            None,
            &EntrySource::default(),
        )
        .await
        .unwrap();
    search.index_entry(&entry).await.unwrap();
    let faq = EntryContent {
        category: "faq".into(),
        faq: Some(Faq {
            question: "How do refunds work?".into(),
            alternatives: vec!["money back".into()],
            answer: "Within 30 days.".into(),
        }),
        ..content("Refunds", "", Visibility::Public)
    };
    let faq_entry = store
        .create_kb_entry(site.id, &faq, None, None, &EntrySource::default())
        .await
        .unwrap();
    search.index_entry(&faq_entry).await.unwrap();
    let hits = search
        .search(store, site.id, "交通大学", Audience::Visitor, 5)
        .await
        .unwrap();
    assert_eq!(hits[0].entry_id, entry.id);
    drop(search); // the server stops

    std::fs::remove_dir_all(&index_dir).unwrap(); // someone deletes the index meanwhile

    let (search, rebuilt) = KbSearch::open(store, &index_dir, ChunkOptions::default())
        .await
        .unwrap();
    assert_eq!(rebuilt, Some(2), "rebuilt from the database");
    let hits = search
        .search(store, site.id, "交通大学", Audience::Visitor, 5)
        .await
        .unwrap();
    assert_eq!(hits[0].entry_id, entry.id);
    assert!(hits[0].text.contains("东川路800号"));
    let refunds = search
        .search(store, site.id, "refunds", Audience::Visitor, 5)
        .await
        .unwrap();
    assert_eq!(refunds[0].entry_id, faq_entry.id);
    assert!(refunds[0].text.contains("Within 30 days."));
    drop(search);

    // A clean reopen does not rebuild.
    let (_, rebuilt) = KbSearch::open(store, &index_dir, ChunkOptions::default())
        .await
        .unwrap();
    assert_eq!(rebuilt, None);
}

#[tokio::test]
async fn internal_entries_never_surface_for_visitors() {
    let db = fresh_store().await.unwrap();
    let store = &db.store;
    let site = store.create_site("s", &[]).await.unwrap();
    let search = KbSearch::in_ram(ChunkOptions::default()).unwrap();
    for i in 0..20 {
        let e = store
            .create_kb_entry(
                site.id,
                &content(
                    &format!("refund override {i}"),
                    "refund refund refund override code",
                    Visibility::Internal,
                ),
                None,
                None,
                &EntrySource::default(),
            )
            .await
            .unwrap();
        search.index_entry(&e).await.unwrap();
    }
    let public = store
        .create_kb_entry(
            site.id,
            &content("Refunds", "A refund takes 5 days.", Visibility::Public),
            None,
            None,
            &EntrySource::default(),
        )
        .await
        .unwrap();
    search.index_entry(&public).await.unwrap();
    let visitor = search
        .search(store, site.id, "refund", Audience::Visitor, 3)
        .await
        .unwrap();
    assert_eq!(visitor.len(), 1);
    assert_eq!(visitor[0].entry_id, public.id);
    let agent = search
        .search(store, site.id, "refund", Audience::Agent, 50)
        .await
        .unwrap();
    assert_eq!(agent.len(), 21);
}
