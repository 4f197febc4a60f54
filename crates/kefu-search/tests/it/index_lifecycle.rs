//! Index maintenance: entry upserts replace old chunks, deletes, and recovery from a missing,
//! corrupt, foreign or outdated index directory by rebuilding from the caller's chunks.

use kefu_search::{ChunkIndex, Filter, IndexState, Lexicon, SearchError, SearchQuery};

use crate::support::{chunk, ids};

fn search(index: &ChunkIndex, text: &str) -> Vec<kefu_search::Hit> {
    index
        .search(&SearchQuery::new(text, Filter::visitor("s1")).with_limit(50))
        .unwrap()
}

fn database() -> Vec<kefu_search::ChunkDoc> {
    vec![
        chunk("s1", "e1", 1, "退款", "退款三天到账。"),
        chunk("s1", "e2", 1, "发票", "发票在订单页下载。"),
    ]
}

#[test]
fn upsert_replaces_all_old_chunks_of_the_entry() {
    let index = ChunkIndex::in_ram(&Lexicon::new()).unwrap();
    index
        .upsert_entry(
            "e1",
            &[
                chunk("s1", "e1", 1, "退款", "过期退款说明。"),
                chunk("s1", "e1", 2, "退款", "过期的第二段退款说明。"),
            ],
        )
        .unwrap();
    index
        .upsert_entry("e2", &[chunk("s1", "e2", 1, "发票", "发票说明")])
        .unwrap();
    assert_eq!(index.doc_count(), 3);

    let mut revised = chunk("s1", "e1", 3, "退款", "新的退款说明。");
    revised.meta.revision = 2;
    index.upsert_entry("e1", &[revised]).unwrap();

    assert_eq!(index.doc_count(), 2);
    let hits = search(&index, "退款");
    assert_eq!(ids(&hits), ["e1-3"]);
    assert_eq!(hits[0].revision, 2);
    assert!(search(&index, "过期").is_empty());
    assert_eq!(ids(&search(&index, "发票")), ["e2-1"]);
}

#[test]
fn upsert_rejects_chunks_of_another_entry_and_changes_nothing() {
    let index = ChunkIndex::in_ram(&Lexicon::new()).unwrap();
    index
        .upsert_entry("e1", &[chunk("s1", "e1", 1, "退款", "退款")])
        .unwrap();
    let err = index
        .upsert_entry("e1", &[chunk("s1", "e9", 1, "x", "y")])
        .unwrap_err();
    assert!(matches!(err, SearchError::InvalidInput(_)), "{err}");
    assert_eq!(ids(&search(&index, "退款")), ["e1-1"]);
}

#[test]
fn delete_entry_removes_it() {
    let index = ChunkIndex::in_ram(&Lexicon::new()).unwrap();
    index.rebuild(database()).unwrap();
    index.delete_entry("e1").unwrap();
    assert_eq!(index.doc_count(), 1);
    assert!(search(&index, "退款").is_empty());
}

#[test]
fn persisted_index_survives_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("index");
    let lexicon = Lexicon::new();
    {
        let index = ChunkIndex::open_or_create(&path, &lexicon).unwrap();
        assert_eq!(index.state(), IndexState::Missing);
        assert_eq!(index.rebuild(database()).unwrap(), 2);
        assert!(!index.is_stale());
    }
    let index = ChunkIndex::open_or_create(&path, &lexicon).unwrap();
    assert_eq!(index.state(), IndexState::Ready);
    assert_eq!(index.doc_count(), 2);
    assert_eq!(ids(&search(&index, "退款")), ["e1-1"]);
}

#[test]
fn recovers_after_the_directory_is_deleted() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("index");
    let lexicon = Lexicon::new();
    {
        let index = ChunkIndex::open_or_create(&path, &lexicon).unwrap();
        index.rebuild(database()).unwrap();
    }
    std::fs::remove_dir_all(&path).unwrap();
    assert_eq!(ChunkIndex::inspect(&path, &lexicon), IndexState::Missing);

    let index = ChunkIndex::open_or_create(&path, &lexicon).unwrap();
    assert!(index.is_stale());
    assert_eq!(index.doc_count(), 0);
    index.rebuild(database()).unwrap();
    assert!(!index.is_stale());
    assert_eq!(ids(&search(&index, "发票")), ["e2-1"]);
    drop(index);
    assert_eq!(ChunkIndex::inspect(&path, &lexicon), IndexState::Ready);
}

#[test]
fn recovers_from_corrupt_metadata() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("index");
    let lexicon = Lexicon::new();
    {
        let index = ChunkIndex::open_or_create(&path, &lexicon).unwrap();
        index.rebuild(database()).unwrap();
    }
    std::fs::write(path.join("meta.json"), b"{ not json").unwrap();
    let index = ChunkIndex::open_or_create(&path, &lexicon).unwrap();
    assert!(
        matches!(index.state(), IndexState::Corrupt(_)),
        "{:?}",
        index.state()
    );
    assert_eq!(index.doc_count(), 0);
    index.rebuild(database()).unwrap();
    assert_eq!(ids(&search(&index, "退款")), ["e1-1"]);
}

#[test]
fn interrupted_rebuild_is_detected() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("index");
    let lexicon = Lexicon::new();
    {
        // Created and written to, but never completed by a rebuild: no marker.
        let index = ChunkIndex::open_or_create(&path, &lexicon).unwrap();
        index
            .upsert_entry("e1", &[chunk("s1", "e1", 1, "退款", "退款")])
            .unwrap();
    }
    assert_eq!(ChunkIndex::inspect(&path, &lexicon), IndexState::Incomplete);
    let index = ChunkIndex::open_or_create(&path, &lexicon).unwrap();
    assert!(index.is_stale());
}

#[test]
fn dictionary_change_requires_rebuild_but_synonym_change_does_not() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("index");
    let lexicon = Lexicon::new().with_word("蚂蚁花呗");
    {
        let index = ChunkIndex::open_or_create(&path, &lexicon).unwrap();
        index.rebuild(database()).unwrap();
    }
    let synonyms_added = lexicon.clone().with_synonyms(["花呗", "蚂蚁花呗"]);
    assert_eq!(
        ChunkIndex::inspect(&path, &synonyms_added),
        IndexState::Ready
    );
    let word_added = lexicon.with_word("上海交通大学");
    assert_eq!(
        ChunkIndex::inspect(&path, &word_added),
        IndexState::DictionaryChanged
    );
    let index = ChunkIndex::open_or_create(&path, &word_added).unwrap();
    assert!(index.is_stale());
}

#[test]
fn refuses_to_wipe_a_foreign_directory() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("precious.txt"), b"do not delete").unwrap();
    let err = ChunkIndex::open_or_create(dir.path(), &Lexicon::new()).unwrap_err();
    assert!(matches!(err, SearchError::ForeignDirectory(_)), "{err}");
    assert!(dir.path().join("precious.txt").exists());
}
