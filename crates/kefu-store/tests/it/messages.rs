//! The conversation log: sequence numbers, idempotent client ids, private notes, paging,
//! guarded transitions.

use std::collections::HashSet;

use kefu_core::domain::{AuthorKind, ConversationStatus, SystemEvent};
use kefu_store::{AppendOutcome, NewMessage, StoreError, Transition, VisitorSeen};

use crate::support::store;

fn visitor_msg(visitor: &str, text: &str, client_id: Option<&str>) -> NewMessage {
    NewMessage {
        author_kind: Some(AuthorKind::Visitor),
        author_id: Some(visitor.to_owned()),
        text: text.to_owned(),
        client_id: client_id.map(str::to_owned),
        ..NewMessage::default()
    }
}

#[tokio::test]
async fn seqs_increase_and_client_ids_deduplicate() {
    let db = store().await;
    let s = &db.store;
    let site = s.create_site("s", &[]).await.unwrap();
    let v = s
        .create_visitor(site.id, "v1", &VisitorSeen::default())
        .await
        .unwrap();
    let vid = v.id.to_string();
    let c = s
        .create_conversation(site.id, v.id, ConversationStatus::Waiting, "web")
        .await
        .unwrap();
    let first = s
        .append_message(c.id, visitor_msg(&vid, "hello", Some("c-1")), None)
        .await
        .unwrap();
    let AppendOutcome::Created {
        message,
        conversation,
    } = first
    else {
        panic!("created")
    };
    assert_eq!(message.seq, 1);
    assert_eq!(conversation.last_seq, 1);
    assert_eq!(conversation.last_message_preview.as_deref(), Some("hello"));

    let again = s
        .append_message(c.id, visitor_msg(&vid, "hello (retry)", Some("c-1")), None)
        .await
        .unwrap();
    let AppendOutcome::Duplicate { message: dup } = again else {
        panic!("duplicate")
    };
    assert_eq!(dup.id, message.id);
    assert_eq!(dup.text, "hello", "the original is returned untouched");

    let other_author = NewMessage {
        author_id: Some("someone-else".into()),
        ..visitor_msg(&vid, "x", Some("c-1"))
    };
    assert!(matches!(
        s.append_message(c.id, other_author, None).await,
        Err(StoreError::Conflict(_))
    ));

    let second = s
        .append_message(c.id, visitor_msg(&vid, "again", Some("c-2")), None)
        .await
        .unwrap();
    assert_eq!(second.message().seq, 2);
    let page = s.list_messages_after(c.id, 0, 50, false).await.unwrap();
    assert_eq!(
        page.items.iter().map(|m| m.seq).collect::<Vec<_>>(),
        vec![1, 2]
    );
    assert!(!page.has_more);
}

#[tokio::test]
async fn concurrent_appends_get_distinct_seqs_and_retries_stay_single() {
    let db = store().await;
    let s = db.store.clone();
    let site = s.create_site("s", &[]).await.unwrap();
    let v = s
        .create_visitor(site.id, "v1", &VisitorSeen::default())
        .await
        .unwrap();
    let c = s
        .create_conversation(site.id, v.id, ConversationStatus::Waiting, "web")
        .await
        .unwrap();
    let mut tasks = Vec::new();
    for i in 0..20 {
        let s = s.clone();
        let vid = v.id.to_string();
        // Every message is sent twice at once, as a client retrying over a flaky link would.
        for _ in 0..2 {
            let s = s.clone();
            let vid = vid.clone();
            tasks.push(tokio::spawn(async move {
                let cid = format!("client-{i}");
                s.append_message(c.id, visitor_msg(&vid, &format!("m{i}"), Some(&cid)), None)
                    .await
                    .unwrap()
                    .message()
                    .clone()
            }));
        }
    }
    let mut results = Vec::new();
    for t in tasks {
        results.push(t.await.unwrap());
    }
    let page = s.list_messages_after(c.id, 0, 500, true).await.unwrap();
    assert_eq!(page.items.len(), 20, "one entry per client id");
    let seqs: Vec<i64> = page.items.iter().map(|m| m.seq).collect();
    assert_eq!(seqs, (1..=20).collect::<Vec<_>>());
    let ids: HashSet<_> = results.iter().map(|m| m.id).collect();
    assert_eq!(ids.len(), 20, "both sends of a pair saw the same entry");
}

#[tokio::test]
async fn private_notes_are_hidden_from_visitor_reads_and_previews() {
    let db = store().await;
    let s = &db.store;
    let site = s.create_site("s", &[]).await.unwrap();
    let v = s
        .create_visitor(site.id, "v1", &VisitorSeen::default())
        .await
        .unwrap();
    let c = s
        .create_conversation(site.id, v.id, ConversationStatus::Waiting, "web")
        .await
        .unwrap();
    s.append_message(c.id, visitor_msg(&v.id.to_string(), "public", None), None)
        .await
        .unwrap();
    let note = NewMessage {
        author_kind: Some(AuthorKind::Agent),
        author_id: Some("agent".into()),
        text: "secret note".into(),
        private: true,
        ..NewMessage::default()
    };
    let out = s.append_message(c.id, note, None).await.unwrap();
    let AppendOutcome::Created { conversation, .. } = out else {
        panic!()
    };
    assert_eq!(conversation.last_message_preview.as_deref(), Some("public"));
    assert_eq!(
        s.list_messages_after(c.id, 0, 50, false)
            .await
            .unwrap()
            .items
            .len(),
        1
    );
    assert_eq!(
        s.list_messages_after(c.id, 0, 50, true)
            .await
            .unwrap()
            .items
            .len(),
        2
    );
}

#[tokio::test]
async fn paging_backwards_and_forwards() {
    let db = store().await;
    let s = &db.store;
    let site = s.create_site("s", &[]).await.unwrap();
    let v = s
        .create_visitor(site.id, "v1", &VisitorSeen::default())
        .await
        .unwrap();
    let c = s
        .create_conversation(site.id, v.id, ConversationStatus::Waiting, "web")
        .await
        .unwrap();
    for i in 0..10 {
        s.append_message(
            c.id,
            visitor_msg(&v.id.to_string(), &format!("m{i}"), None),
            None,
        )
        .await
        .unwrap();
    }
    let after = s.list_messages_after(c.id, 4, 3, false).await.unwrap();
    assert_eq!(
        after.items.iter().map(|m| m.seq).collect::<Vec<_>>(),
        vec![5, 6, 7]
    );
    assert!(after.has_more);
    let before = s.list_messages_before(c.id, 4, 10, false).await.unwrap();
    assert_eq!(
        before.items.iter().map(|m| m.seq).collect::<Vec<_>>(),
        vec![1, 2, 3]
    );
    assert!(!before.has_more);
}

#[tokio::test]
async fn guarded_transition_refuses_the_wrong_state_and_writes_nothing() {
    let db = store().await;
    let s = &db.store;
    let site = s.create_site("s", &[]).await.unwrap();
    let v = s
        .create_visitor(site.id, "v1", &VisitorSeen::default())
        .await
        .unwrap();
    let c = s
        .create_conversation(site.id, v.id, ConversationStatus::Resolved, "web")
        .await
        .unwrap();
    let err = s
        .append_message(
            c.id,
            NewMessage::system(SystemEvent::Resolved { by: None }, "resolved"),
            Some(Transition {
                to: ConversationStatus::Resolved,
                assignee: None,
                only_from: vec![ConversationStatus::Waiting, ConversationStatus::Assigned],
            }),
        )
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::InvalidState(_)), "{err:?}");
    let after = s.get_conversation(c.id).await.unwrap();
    assert_eq!(after.last_seq, 0, "no entry was written");
    let missing = s
        .append_message(
            kefu_core::ConversationId::new(),
            visitor_msg("v", "x", None),
            None,
        )
        .await
        .unwrap_err();
    assert!(matches!(missing, StoreError::NotFound(_)));
}
