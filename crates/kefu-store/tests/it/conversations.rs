//! Conversations: inbox filters, cursor pages, tags, read marks, membership scoping.

use kefu_core::domain::{AuthorKind, ConversationFilter, ConversationStatus, Role, SystemEvent};
use kefu_store::{ConversationQuery, NewMessage, StoreError, Transition, VisitorSeen};

use crate::support::{agent, store};

fn query(agent: kefu_core::AgentId, filter: ConversationFilter) -> ConversationQuery {
    ConversationQuery {
        agent,
        site: None,
        filter,
        tag: None,
        visitor: None,
        cursor: None,
        limit: 50,
    }
}

#[tokio::test]
async fn inbox_filters_and_membership() {
    let db = store().await;
    let s = &db.store;
    let site = s.create_site("s", &[]).await.unwrap();
    let foreign = s.create_site("foreign", &[]).await.unwrap();
    let me = agent(s, "me@x.io", Role::Agent).await;
    s.add_site_member(site.id, me.id).await.unwrap();
    let v = s
        .create_visitor(site.id, "v1", &VisitorSeen::default())
        .await
        .unwrap();
    let fv = s
        .create_visitor(foreign.id, "v2", &VisitorSeen::default())
        .await
        .unwrap();

    let bot = s
        .create_conversation(site.id, v.id, ConversationStatus::Bot, "web")
        .await
        .unwrap();
    let waiting = s
        .create_conversation(site.id, v.id, ConversationStatus::Waiting, "web")
        .await
        .unwrap();
    let mine = s
        .create_conversation(site.id, v.id, ConversationStatus::Waiting, "web")
        .await
        .unwrap();
    s.append_message(
        mine.id,
        NewMessage::system(
            SystemEvent::Assigned {
                agent_id: me.id,
                agent_name: "me".into(),
                by: None,
            },
            "assigned",
        ),
        Some(Transition {
            to: ConversationStatus::Assigned,
            assignee: Some(me.id),
            only_from: vec![ConversationStatus::Waiting],
        }),
    )
    .await
    .unwrap();
    let done = s
        .create_conversation(site.id, v.id, ConversationStatus::Waiting, "web")
        .await
        .unwrap();
    s.append_message(
        done.id,
        NewMessage::system(SystemEvent::Resolved { by: None }, "resolved"),
        Some(Transition {
            to: ConversationStatus::Resolved,
            assignee: None,
            only_from: vec![],
        }),
    )
    .await
    .unwrap();
    s.create_conversation(foreign.id, fv.id, ConversationStatus::Waiting, "web")
        .await
        .unwrap();

    let ids = |f| {
        let q = query(me.id, f);
        async move {
            let mut ids: Vec<_> = s
                .list_conversations(&q)
                .await
                .unwrap()
                .items
                .into_iter()
                .map(|c| c.id)
                .collect();
            ids.sort();
            ids
        }
    };
    assert_eq!(
        ids(ConversationFilter::All).await.len(),
        4,
        "foreign site is not visible"
    );
    assert_eq!(ids(ConversationFilter::Bot).await, vec![bot.id]);
    assert_eq!(ids(ConversationFilter::Waiting).await, vec![waiting.id]);
    assert_eq!(ids(ConversationFilter::Mine).await, vec![mine.id]);
    assert_eq!(
        ids(ConversationFilter::Unassigned).await,
        vec![bot.id, waiting.id]
    );
    assert_eq!(ids(ConversationFilter::Resolved).await, vec![done.id]);
    assert_eq!(ids(ConversationFilter::Open).await.len(), 3);
    let resolved = s.get_conversation(done.id).await.unwrap();
    assert!(resolved.resolved_at.is_some());
}

#[tokio::test]
async fn cursor_pages_cover_everything_once() {
    let db = store().await;
    let s = &db.store;
    let site = s.create_site("s", &[]).await.unwrap();
    let me = agent(s, "me@x.io", Role::Agent).await;
    s.add_site_member(site.id, me.id).await.unwrap();
    let v = s
        .create_visitor(site.id, "v1", &VisitorSeen::default())
        .await
        .unwrap();
    let mut all = Vec::new();
    for _ in 0..7 {
        all.push(
            s.create_conversation(site.id, v.id, ConversationStatus::Waiting, "web")
                .await
                .unwrap()
                .id,
        );
    }
    let mut seen = Vec::new();
    let mut q = query(me.id, ConversationFilter::All);
    q.limit = 3;
    loop {
        let page = s.list_conversations(&q).await.unwrap();
        assert!(page.items.len() <= 3);
        seen.extend(page.items.iter().map(|c| c.id));
        match page.next_cursor {
            Some(c) => q.cursor = Some(c),
            None => break,
        }
    }
    all.reverse();
    assert_eq!(seen, all, "newest first, each once");
    q.cursor = Some("garbage".into());
    assert!(matches!(
        s.list_conversations(&q).await,
        Err(StoreError::InvalidState(_))
    ));
}

#[tokio::test]
async fn tags_are_created_filtered_and_replaced() {
    let db = store().await;
    let s = &db.store;
    let site = s.create_site("s", &[]).await.unwrap();
    let me = agent(s, "me@x.io", Role::Agent).await;
    s.add_site_member(site.id, me.id).await.unwrap();
    let v = s
        .create_visitor(site.id, "v1", &VisitorSeen::default())
        .await
        .unwrap();
    let a = s
        .create_conversation(site.id, v.id, ConversationStatus::Waiting, "web")
        .await
        .unwrap();
    let b = s
        .create_conversation(site.id, v.id, ConversationStatus::Waiting, "web")
        .await
        .unwrap();
    let a = s
        .set_conversation_tags(a.id, &["vip".into(), "billing".into()])
        .await
        .unwrap();
    assert_eq!(a.tags, vec!["billing", "vip"]);
    s.set_conversation_tags(b.id, &["billing".into()])
        .await
        .unwrap();
    let mut q = query(me.id, ConversationFilter::All);
    q.tag = Some("vip".into());
    let page = s.list_conversations(&q).await.unwrap();
    assert_eq!(page.items.len(), 1);
    assert_eq!(page.items[0].tags, vec!["billing", "vip"]);
    assert_eq!(s.list_tags(site.id).await.unwrap().len(), 2);
    let a = s.set_conversation_tags(a.id, &[]).await.unwrap();
    assert!(a.tags.is_empty());
}

#[tokio::test]
async fn read_marks_only_move_forward_and_stop_at_the_newest_entry() {
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
    for i in 0..3 {
        s.append_message(
            c.id,
            NewMessage {
                author_kind: Some(AuthorKind::Visitor),
                author_id: Some(v.id.to_string()),
                text: format!("m{i}"),
                ..NewMessage::default()
            },
            None,
        )
        .await
        .unwrap();
    }
    assert_eq!(s.mark_read(c.id, AuthorKind::Agent, 2).await.unwrap(), 2);
    assert_eq!(s.mark_read(c.id, AuthorKind::Agent, 1).await.unwrap(), 2);
    assert_eq!(s.mark_read(c.id, AuthorKind::Agent, 99).await.unwrap(), 3);
    assert_eq!(s.mark_read(c.id, AuthorKind::Visitor, 1).await.unwrap(), 1);
    let c = s.get_conversation(c.id).await.unwrap();
    assert_eq!((c.agent_last_read_seq, c.visitor_last_read_seq), (3, 1));
}
