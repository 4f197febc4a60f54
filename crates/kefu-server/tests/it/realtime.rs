//! The realtime protocol end to end: round trip, ack after commit, resume from the last seq,
//! idempotent resends, inbox updates to every agent, private notes hidden from visitors.

use std::time::Duration;

use kefu_core::domain::{AuthorKind, ConversationStatus, Role};
use kefu_core::protocol::ServerFrame;
use serde_json::json;
use tokio_tungstenite::tungstenite::Message as WsMessage;

use crate::support::{TestApp, uuid_like};

#[tokio::test]
async fn visitor_to_agent_to_visitor_round_trip() {
    let app = TestApp::new().await;
    let agent = app.agent("li@shop.example", Role::Agent).await;
    let mut agent_ws = agent.socket(&app).await; // connecting brings the agent online

    let visitor = app.visitor().await;
    let conversation = visitor.open_conversation("你好，我的订单还没到").await;

    // The agent's inbox hears about it, already assigned to them (the only one online).
    let update = agent_ws
        .until(|f| matches!(f, ServerFrame::ConversationUpdated { conversation: c } if c.assignee_id.is_some()))
        .await;
    let ServerFrame::ConversationUpdated { conversation: c } = update else {
        unreachable!()
    };
    assert_eq!(c.id.to_string(), conversation);
    assert_eq!(c.status, ConversationStatus::Assigned);
    assert_eq!(c.assignee_id, Some(agent.agent.id));

    let history = agent_ws.subscribe(&conversation, 0).await;
    assert_eq!(history[0].text, "你好，我的订单还没到");
    assert_eq!(history[0].author_kind, AuthorKind::Visitor);

    let mut visitor_ws = visitor.socket(&app).await;
    let seen = visitor_ws.subscribe(&conversation, 0).await;
    let last_seen = seen.last().unwrap().seq;

    agent_ws
        .send_json(json!({ "type": "send", "conversation_id": conversation, "client_id": "reply-1", "text": "马上帮您查" }))
        .await;
    let ack = agent_ws
        .until(|f| matches!(f, ServerFrame::Ack { .. }))
        .await;
    let ServerFrame::Ack {
        message: acked,
        duplicate,
        ..
    } = ack
    else {
        unreachable!()
    };
    assert!(!duplicate);
    assert_eq!(acked.seq, last_seen + 1);

    // Acked means committed: the database has it.
    let (_, log) = visitor
        .get(&format!(
            "/api/v1/visitor/conversations/{conversation}/messages"
        ))
        .await;
    assert!(
        log["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["id"] == acked.id.to_string())
    );

    let got = visitor_ws.next_message().await;
    assert_eq!(got.id, acked.id);
    assert_eq!(got.author_name.as_deref(), Some("li"));

    // And back: the visitor answers over the socket.
    visitor_ws
        .send_json(json!({ "type": "send", "conversation_id": conversation, "client_id": "v-2", "text": "谢谢" }))
        .await;
    visitor_ws
        .until(|f| matches!(f, ServerFrame::Ack { .. }))
        .await;
    // The agent's socket carries its own reply as a log entry too; the visitor's comes next.
    let own = agent_ws.next_message().await;
    assert_eq!(own.id, acked.id);
    let reply = agent_ws.next_message().await;
    assert_eq!(reply.text, "谢谢");
}

#[tokio::test]
async fn reconnect_with_last_seq_receives_exactly_the_missed_messages() {
    let app = TestApp::new().await;
    let admin = app.admin().await;
    let visitor = app.visitor().await;
    let conversation = visitor.open_conversation("first").await;

    let mut ws = visitor.socket(&app).await;
    let before = ws.subscribe(&conversation, 0).await;
    let last_seen = before.last().unwrap().seq;
    drop(ws); // the connection drops

    let mut missed = Vec::new();
    for i in 0..5 {
        let (status, body) = admin
            .post(
                &format!("/api/v1/conversations/{conversation}/messages"),
                json!({ "client_id": format!("m{i}"), "text": format!("missed {i}") }),
            )
            .await;
        assert_eq!(status, 201, "{body}");
        missed.push(body["id"].as_str().unwrap().to_owned());
    }
    // A private note in between must not reach the visitor.
    admin
        .post(
            &format!("/api/v1/conversations/{conversation}/messages"),
            json!({ "client_id": "note", "text": "internal", "private": true }),
        )
        .await;

    let mut ws = visitor.socket(&app).await;
    let replay = ws.subscribe(&conversation, last_seen).await;
    let replay_ids: Vec<String> = replay
        .iter()
        .filter(|m| m.author_kind == AuthorKind::Agent)
        .map(|m| m.id.to_string())
        .collect();
    assert_eq!(
        replay_ids, missed,
        "exactly the missed agent messages, in order"
    );
    assert!(
        replay.iter().all(|m| m.seq > last_seen),
        "nothing seen before is repeated"
    );
    assert!(
        replay.iter().all(|m| !m.private),
        "no private notes for visitors"
    );
    let seqs: Vec<i64> = replay.iter().map(|m| m.seq).collect();
    let mut sorted = seqs.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(seqs, sorted, "strictly increasing");

    // Live from here on, no repeats.
    admin
        .post(
            &format!("/api/v1/conversations/{conversation}/messages"),
            json!({ "client_id": "live", "text": "live" }),
        )
        .await;
    let live = ws.next_message().await;
    assert_eq!(live.text, "live");
    assert!(
        ws.try_next_frame(Duration::from_millis(300))
            .await
            .is_none()
    );
}

#[tokio::test]
async fn resent_client_id_creates_no_duplicate() {
    let app = TestApp::new().await;
    let visitor = app.visitor().await;
    let conversation = visitor.open_conversation("hello").await;
    let path = format!("/api/v1/visitor/conversations/{conversation}/messages");
    let body = json!({ "client_id": "same-id", "text": "only once" });
    let (s1, first) = visitor.post(&path, body.clone()).await;
    let (s2, second) = visitor.post(&path, body.clone()).await;
    assert_eq!((s1.as_u16(), s2.as_u16()), (201, 200));
    assert_eq!(first["id"], second["id"]);

    let mut ws = visitor.socket(&app).await;
    ws.subscribe(&conversation, 0).await;
    for _ in 0..2 {
        ws.send_json(json!({ "type": "send", "conversation_id": conversation, "client_id": "same-id", "text": "only once" }))
            .await;
    }
    for _ in 0..2 {
        let ServerFrame::Ack {
            message, duplicate, ..
        } = ws.until(|f| matches!(f, ServerFrame::Ack { .. })).await
        else {
            unreachable!()
        };
        assert!(duplicate);
        assert_eq!(message.id.to_string(), first["id"].as_str().unwrap());
    }
    let (_, log) = visitor.get(&format!("{path}?after_seq=0")).await;
    let copies = log["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["text"] == "only once")
        .count();
    assert_eq!(copies, 1);
}

#[tokio::test]
async fn two_agents_both_see_inbox_updates() {
    let app = TestApp::new().await;
    let a = app.agent("a@shop.example", Role::Agent).await;
    let b = app.agent("b@shop.example", Role::Agent).await;
    let mut a_ws = a.socket(&app).await;
    let mut b_ws = b.socket(&app).await;
    let visitor = app.visitor().await;
    let conversation = visitor.open_conversation("anyone there?").await;
    for ws in [&mut a_ws, &mut b_ws] {
        let frame = ws
            .until(|f| matches!(f, ServerFrame::ConversationUpdated { conversation: c } if c.last_message_preview.as_deref() == Some("anyone there?")))
            .await;
        let ServerFrame::ConversationUpdated { conversation: c } = frame else {
            unreachable!()
        };
        assert_eq!(c.id.to_string(), conversation);
    }
    // A tag change is an inbox update too.
    let (status, _) = a
        .send(
            reqwest::Method::PUT,
            &format!("/api/v1/conversations/{conversation}/tags"),
            Some(json!({ "tags": ["VIP"] })),
        )
        .await;
    assert_eq!(status, 200);
    b_ws.until(|f| matches!(f, ServerFrame::ConversationUpdated { conversation: c } if c.tags == vec!["vip".to_owned()]))
        .await;
}

#[tokio::test]
async fn typing_and_read_receipts_reach_the_other_side() {
    let app = TestApp::new().await;
    let agent = app.agent("t@shop.example", Role::Agent).await;
    let mut agent_ws = agent.socket(&app).await;
    let visitor = app.visitor().await;
    let conversation = visitor.open_conversation("hi").await;
    agent_ws.subscribe(&conversation, 0).await;
    let mut visitor_ws = visitor.socket(&app).await;
    let seen = visitor_ws.subscribe(&conversation, 0).await;

    visitor_ws
        .send_json(json!({ "type": "typing", "conversation_id": conversation, "typing": true }))
        .await;
    let typing = agent_ws
        .until(|f| matches!(f, ServerFrame::Typing { .. }))
        .await;
    assert!(matches!(
        typing,
        ServerFrame::Typing {
            author_kind: AuthorKind::Visitor,
            typing: true,
            ..
        }
    ));

    let last = seen.last().unwrap().seq;
    visitor_ws
        .send_json(json!({ "type": "read", "conversation_id": conversation, "seq": last }))
        .await;
    let read = agent_ws
        .until(|f| matches!(f, ServerFrame::Read { .. }))
        .await;
    assert!(
        matches!(read, ServerFrame::Read { reader: AuthorKind::Visitor, seq, .. } if seq == last)
    );
    // The visitor does not hear its own typing echoed back.
    assert!(
        visitor_ws
            .try_next_frame(Duration::from_millis(300))
            .await
            .is_none_or(|f| !matches!(f, ServerFrame::Typing { .. }))
    );
}

#[tokio::test]
async fn bad_frames_get_errors_and_the_connection_survives() {
    let app = TestApp::new().await;
    let visitor = app.visitor().await;
    let conversation = visitor.open_conversation("hi").await;
    let mut ws = visitor.socket(&app).await;
    ws.send_raw(WsMessage::Text("{not json".into())).await;
    assert!(
        matches!(ws.next_frame().await, ServerFrame::Error { ref code, .. } if code == "invalid_json")
    );
    ws.send_json(json!({ "type": "send", "conversation_id": conversation, "client_id": "x", "text": "hi", "colour": "red" }))
        .await;
    assert!(
        matches!(ws.next_frame().await, ServerFrame::Error { ref code, .. } if code == "invalid_frame")
    );
    ws.send_json(json!({ "type": "send", "conversation_id": conversation, "client_id": "x", "text": "a".repeat(4001) }))
        .await;
    assert!(
        matches!(ws.next_frame().await, ServerFrame::Error { ref code, client_id: Some(_), .. } if code == "message_too_long")
    );
    ws.send_json(
        json!({ "type": "send", "conversation_id": conversation, "client_id": "x", "text": "   " }),
    )
    .await;
    assert!(
        matches!(ws.next_frame().await, ServerFrame::Error { ref code, .. } if code == "message_empty")
    );
    ws.send_raw(WsMessage::Binary(vec![0xff, 0xfe].into()))
        .await;
    assert!(
        matches!(ws.next_frame().await, ServerFrame::Error { ref code, .. } if code == "invalid_frame")
    );
    ws.send_json(json!({ "type": "subscribe", "conversation_id": uuid_like() }))
        .await;
    assert!(
        matches!(ws.next_frame().await, ServerFrame::Error { ref code, .. } if code == "not_found")
    );
    // Still alive.
    ws.send_json(json!({ "type": "ping", "nonce": "n1" })).await;
    assert_eq!(
        ws.next_frame().await,
        ServerFrame::Pong {
            nonce: Some("n1".into())
        }
    );
}

#[tokio::test]
async fn a_socket_cannot_reach_another_visitors_conversation() {
    let app = TestApp::new().await;
    let alice = app.visitor().await;
    let bob = app.visitor().await;
    let alices = alice.open_conversation("private matter").await;
    let mut ws = bob.socket(&app).await;
    ws.send_json(json!({ "type": "subscribe", "conversation_id": alices }))
        .await;
    assert!(
        matches!(ws.next_frame().await, ServerFrame::Error { ref code, .. } if code == "forbidden")
    );
    ws.send_json(
        json!({ "type": "send", "conversation_id": alices, "client_id": "c", "text": "intrude" }),
    )
    .await;
    assert!(
        matches!(ws.next_frame().await, ServerFrame::Error { ref code, .. } if code == "forbidden")
    );
}

#[tokio::test]
async fn a_socket_without_auth_is_closed() {
    let app = TestApp::new().await;
    let (mut ws, _) = tokio_tungstenite::connect_async(app.ws_url())
        .await
        .unwrap();
    use futures_util::{SinkExt, StreamExt};
    ws.send(WsMessage::Text(
        json!({ "type": "auth", "token": "kefu_vt_forged" })
            .to_string()
            .into(),
    ))
    .await
    .unwrap();
    let first = ws.next().await.unwrap().unwrap();
    assert!(first.to_text().unwrap().contains("unauthenticated"));
    let second = ws.next().await.unwrap().unwrap();
    assert!(
        matches!(second, WsMessage::Close(Some(ref f)) if u16::from(f.code) == 4001),
        "{second:?}"
    );
}

#[tokio::test]
async fn a_silent_peer_is_dropped_after_three_heartbeats() {
    use futures_util::StreamExt;
    let config = kefu_core::config::Config {
        heartbeat_secs: 1,
        ..kefu_core::config::Config::default()
    };
    let app = TestApp::with_config(config).await;
    let visitor = app.visitor().await;
    let mut ws = visitor.socket(&app).await;
    // Stop reading (so pings go unanswered) for longer than three heartbeats.
    tokio::time::sleep(Duration::from_millis(4500)).await;
    // The server has closed by now. Depending on timing the client sees the 4010 close frame,
    // or fails flushing its late pong into the closed connection first; either way it is gone.
    loop {
        let next = tokio::time::timeout(Duration::from_secs(5), ws.ws.next()).await;
        match next {
            Ok(Some(Ok(WsMessage::Close(frame)))) => {
                assert_eq!(frame.map(|f| u16::from(f.code)), Some(4010));
                break;
            }
            Ok(Some(Ok(_))) => continue,
            Ok(Some(Err(_)) | None) => break,
            Err(_) => panic!("the server kept a silent peer connected"),
        }
    }
}
