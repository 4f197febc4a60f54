//! Filters are enforced inside the search: site isolation, internal entries and drafts never
//! reach visitors, even when they would outrank everything the visitor may see.

use kefu_search::{ChunkIndex, Filter, Lexicon, SearchQuery, Status, Visibility};

use crate::support::{chunk, ids, with};

fn index() -> ChunkIndex {
    let index = ChunkIndex::in_ram(&Lexicon::new()).unwrap();
    let mut docs = vec![
        chunk("s1", "public", 1, "退款", "退款流程：申请后三天到账。"),
        with(
            chunk(
                "s1",
                "internal",
                1,
                "退款 退款 退款",
                "退款 退款 内部退款审批流程。",
            ),
            Visibility::Internal,
            Status::Published,
        ),
        with(
            chunk(
                "s1",
                "draft",
                1,
                "退款 退款",
                "退款 退款 新版退款流程草稿。",
            ),
            Visibility::Public,
            Status::Draft,
        ),
        with(
            chunk("s1", "archived", 1, "退款", "旧的退款流程。"),
            Visibility::Public,
            Status::Archived,
        ),
        chunk(
            "s2",
            "other-site",
            1,
            "退款 退款 退款",
            "退款 退款 另一个站点的退款。",
        ),
    ];
    let mut english = chunk("s1", "english", 1, "Refund", "退款 refund in English");
    english.meta.language = "en".into();
    english.meta.category = "billing".into();
    docs.push(english);
    // Many more internal matches than the limit: a post-filter over a truncated top list
    // would come back empty here.
    for n in 0..50 {
        docs.push(with(
            chunk(
                "s1",
                &format!("internal-{n}"),
                1,
                "退款 退款",
                "退款 退款 退款",
            ),
            Visibility::Internal,
            Status::Published,
        ));
    }
    index.rebuild(docs).unwrap();
    index
}

#[test]
fn visitors_never_see_internal_draft_archived_or_other_sites() {
    let index = index();
    let hits = index
        .search(&SearchQuery::new("退款", Filter::visitor("s1")).with_limit(3))
        .unwrap();
    let mut found = ids(&hits);
    found.sort_unstable();
    assert_eq!(found, ["english-1", "public-1"]);
}

#[test]
fn agents_see_internal_but_still_not_drafts_or_other_sites() {
    let index = index();
    let hits = index
        .search(&SearchQuery::new("退款", Filter::agent("s1")).with_limit(100))
        .unwrap();
    let found = ids(&hits);
    assert!(found.contains(&"internal-1"));
    assert!(found.contains(&"public-1"));
    assert!(!found.contains(&"draft-1"));
    assert!(!found.contains(&"other-site-1"));
    assert_eq!(found.len(), 53);
}

#[test]
fn sites_are_isolated() {
    let index = index();
    let hits = index
        .search(&SearchQuery::new("退款", Filter::visitor("s2")))
        .unwrap();
    assert_eq!(ids(&hits), ["other-site-1"]);
    let none = index
        .search(&SearchQuery::new("退款", Filter::visitor("nope")))
        .unwrap();
    assert!(none.is_empty());
}

#[test]
fn drafts_only_when_asked_for() {
    let index = index();
    let filter = Filter::visitor("s1").with_statuses(vec![Status::Draft]);
    let hits = index.search(&SearchQuery::new("退款", filter)).unwrap();
    assert_eq!(ids(&hits), ["draft-1"]);
}

#[test]
fn category_and_language_narrow_results() {
    let index = index();
    let by_language = Filter::visitor("s1").with_language("en");
    let hits = index
        .search(&SearchQuery::new("退款", by_language))
        .unwrap();
    assert_eq!(ids(&hits), ["english-1"]);
    let by_category = Filter::visitor("s1").with_categories(["billing"]);
    let hits = index
        .search(&SearchQuery::new("退款", by_category))
        .unwrap();
    assert_eq!(ids(&hits), ["english-1"]);
}

#[test]
fn empty_visibility_set_fails_closed() {
    let index = index();
    let filter = Filter::agent("s1").with_visibilities(vec![]);
    assert!(
        index
            .search(&SearchQuery::new("退款", filter))
            .unwrap()
            .is_empty()
    );
}
