//! Agent-side conversation routes: assignment and transfer, resolve/reopen, routing to the
//! least busy agent, inbox filters, private notes, tags, canned replies.

use kefu_core::domain::Role;
use serde_json::json;

use crate::support::TestApp;

#[tokio::test]
async fn transfer_between_agents_is_recorded_and_visible() {
    let app = TestApp::new().await;
    let a = app.agent("a@shop.example", Role::Agent).await;
    let b = app.agent("b@shop.example", Role::Agent).await;
    a.go_online().await;
    let visitor = app.visitor().await;
    let conversation = visitor.open_conversation("need help").await;

    let (_, detail) = a
        .get(&format!("/api/v1/conversations/{conversation}"))
        .await;
    assert_eq!(
        detail["conversation"]["assignee_id"],
        a.agent.id.to_string()
    );
    assert_eq!(detail["conversation"]["status"], "assigned");
    assert_eq!(
        detail["visitor"]["page_url"],
        "https://shop.example/pricing"
    );
    assert_eq!(detail["visitor"]["ip_truncated"], "127.0.0.0");

    let (status, moved) = a
        .post(
            &format!("/api/v1/conversations/{conversation}/assign"),
            json!({ "agent_id": b.agent.id }),
        )
        .await;
    assert_eq!(status, 200, "{moved}");
    assert_eq!(moved["assignee_id"], b.agent.id.to_string());

    let (_, mine_b) = b.get("/api/v1/conversations?filter=mine").await;
    assert_eq!(mine_b["items"].as_array().unwrap().len(), 1);
    let (_, mine_a) = a.get("/api/v1/conversations?filter=mine").await;
    assert!(mine_a["items"].as_array().unwrap().is_empty());

    let (_, log) = visitor
        .get(&format!(
            "/api/v1/visitor/conversations/{conversation}/messages"
        ))
        .await;
    let events: Vec<&str> = log["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|m| m["event"]["type"].as_str())
        .collect();
    assert_eq!(
        events,
        vec!["assigned", "assigned"],
        "both assignments are in the log"
    );

    // Transfer to someone outside the site is refused.
    let outsider = uuid::Uuid::now_v7().to_string();
    let (status, err) = a
        .post(
            &format!("/api/v1/conversations/{conversation}/assign"),
            json!({ "agent_id": outsider }),
        )
        .await;
    assert_eq!(status, 400);
    assert_eq!(err["error"]["code"], "unknown_agent");

    // Releasing puts it back in the queue.
    let (_, released) = b
        .post(
            &format!("/api/v1/conversations/{conversation}/assign"),
            json!({ "agent_id": null }),
        )
        .await;
    assert_eq!(released["status"], "waiting");
    assert!(released["assignee_id"].is_null());
}

#[tokio::test]
async fn resolve_and_reopen() {
    let app = TestApp::new().await;
    let agent = app.agent("r@shop.example", Role::Agent).await;
    agent.go_online().await;
    let visitor = app.visitor().await;
    let conversation = visitor.open_conversation("refund please").await;
    let path = |verb: &str| format!("/api/v1/conversations/{conversation}/{verb}");

    let (status, resolved) = agent.post(&path("resolve"), json!({})).await;
    assert_eq!(status, 200);
    assert_eq!(resolved["status"], "resolved");
    assert!(resolved["resolved_at"].is_string());
    let (status, again) = agent.post(&path("resolve"), json!({})).await;
    assert_eq!(status, 409, "{again}");
    assert_eq!(again["error"]["code"], "invalid_state");

    let (status, reopened) = agent.post(&path("reopen"), json!({})).await;
    assert_eq!(status, 200);
    assert_eq!(reopened["status"], "assigned");
    assert_eq!(reopened["assignee_id"], agent.agent.id.to_string());
    assert!(reopened["resolved_at"].is_null());

    // A visitor writing to a resolved conversation reopens it into the queue, and routing
    // hands it to the online agent again.
    agent.post(&path("resolve"), json!({})).await;
    let (status, _) = visitor
        .post(
            &format!("/api/v1/visitor/conversations/{conversation}/messages"),
            json!({ "client_id": "back", "text": "one more thing" }),
        )
        .await;
    assert_eq!(status, 201);
    let (_, detail) = agent
        .get(&format!("/api/v1/conversations/{conversation}"))
        .await;
    assert_eq!(detail["conversation"]["status"], "assigned");
}

#[tokio::test]
async fn routing_picks_the_least_busy_online_agent() {
    let app = TestApp::new().await;
    let busy = app.agent("busy@shop.example", Role::Agent).await;
    let idle = app.agent("idle@shop.example", Role::Agent).await;
    busy.go_online().await;
    let first = app.visitor().await.open_conversation("one").await;
    idle.go_online().await;
    let second = app.visitor().await.open_conversation("two").await;
    let third = app.visitor().await.open_conversation("three").await;
    let assignee = |id: String| {
        let busy = &busy;
        async move {
            let (_, d) = busy.get(&format!("/api/v1/conversations/{id}")).await;
            d["conversation"]["assignee_id"]
                .as_str()
                .unwrap()
                .to_owned()
        }
    };
    assert_eq!(assignee(first).await, busy.agent.id.to_string());
    assert_eq!(
        assignee(second).await,
        idle.agent.id.to_string(),
        "idle had none"
    );
    // 1–1 now: the tie goes to whoever was assigned longest ago (round robin).
    assert_eq!(assignee(third).await, busy.agent.id.to_string());
}

#[tokio::test]
async fn waiting_queue_is_routed_when_an_agent_comes_online() {
    let app = TestApp::new().await;
    let agent = app.agent("late@shop.example", Role::Agent).await;
    let visitor = app.visitor().await;
    let conversation = visitor.open_conversation("hello?").await;
    let (_, waiting) = agent.get("/api/v1/conversations?filter=waiting").await;
    assert_eq!(waiting["items"].as_array().unwrap().len(), 1);
    agent.go_online().await;
    let (_, detail) = agent
        .get(&format!("/api/v1/conversations/{conversation}"))
        .await;
    assert_eq!(
        detail["conversation"]["assignee_id"],
        agent.agent.id.to_string()
    );
}

#[tokio::test]
async fn private_notes_stay_with_agents() {
    let app = TestApp::new().await;
    let admin = app.admin().await;
    let visitor = app.visitor().await;
    let conversation = visitor.open_conversation("hi").await;
    let (status, note) = admin
        .post(
            &format!("/api/v1/conversations/{conversation}/messages"),
            json!({ "client_id": "n1", "text": "VIP customer, be nice", "private": true }),
        )
        .await;
    assert_eq!(status, 201);
    assert_eq!(note["private"], true);
    let (_, agent_log) = admin
        .get(&format!("/api/v1/conversations/{conversation}/messages"))
        .await;
    assert!(
        agent_log["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["text"] == "VIP customer, be nice")
    );
    let (_, visitor_log) = visitor
        .get(&format!(
            "/api/v1/visitor/conversations/{conversation}/messages"
        ))
        .await;
    assert!(
        !visitor_log["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["private"] == true)
    );
    let (_, conv) = visitor
        .get(&format!("/api/v1/visitor/conversations/{conversation}"))
        .await;
    assert_eq!(
        conv["last_message_preview"], "hi",
        "a note never becomes the preview"
    );
    // A note does not take the conversation over.
    assert_eq!(conv["status"], "waiting");
}

#[tokio::test]
async fn inbox_filters_and_tags() {
    let app = TestApp::new().await;
    let admin = app.admin().await;
    let a = app.visitor().await.open_conversation("a").await;
    let b = app.visitor().await.open_conversation("b").await;
    admin
        .send(
            reqwest::Method::PUT,
            &format!("/api/v1/conversations/{a}/tags"),
            Some(json!({ "tags": ["billing", "vip"] })),
        )
        .await;
    admin
        .post(&format!("/api/v1/conversations/{b}/resolve"), json!({}))
        .await;
    let count = |q: &'static str| {
        let admin = &admin;
        async move {
            let (status, body) = admin.get(&format!("/api/v1/conversations?{q}")).await;
            assert_eq!(status, 200, "{q}: {body}");
            body["items"].as_array().unwrap().len()
        }
    };
    assert_eq!(count("filter=all").await, 2);
    assert_eq!(count("filter=open").await, 1);
    assert_eq!(count("filter=unassigned").await, 1);
    assert_eq!(count("filter=resolved").await, 1);
    assert_eq!(count("filter=all&tag=vip").await, 1);
    assert_eq!(count("filter=all&tag=none").await, 0);
    let (status, err) = admin.get("/api/v1/conversations?filter=everything").await;
    assert_eq!(status, 400);
    assert_eq!(err["error"]["code"], "invalid_query");
    let (_, tags) = admin
        .get(&format!("/api/v1/sites/{}/tags", app.site_id))
        .await;
    assert_eq!(tags.as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn canned_replies_by_shortcut() {
    let app = TestApp::new().await;
    let admin = app.admin().await;
    let agent = app.agent("c@shop.example", Role::Agent).await;
    let base = format!("/api/v1/sites/{}/canned-replies", app.site_id);
    let (status, created) = admin
        .post(
            &base,
            json!({ "shortcut": "/Refund", "text": "Refunds take 3–5 working days." }),
        )
        .await;
    assert_eq!(status, 201, "{created}");
    assert_eq!(created["shortcut"], "refund");
    let (status, dup) = admin
        .post(&base, json!({ "shortcut": "refund", "text": "x" }))
        .await;
    assert_eq!(status, 409);
    assert_eq!(dup["error"]["code"], "already_exists");
    admin
        .post(&base, json!({ "shortcut": "hello", "text": "Hello!" }))
        .await;
    let (_, found) = agent.get(&format!("{base}?prefix=/re")).await;
    assert_eq!(found.as_array().unwrap().len(), 1);
    let (status, _) = agent
        .post(
            &base,
            json!({ "shortcut": "mine", "text": "agents cannot write" }),
        )
        .await;
    assert_eq!(status, 403);
    let id = created["id"].as_str().unwrap();
    let (status, updated) = admin
        .send(
            reqwest::Method::PATCH,
            &format!("/api/v1/canned-replies/{id}"),
            Some(json!({ "shortcut": "refund", "text": "Now 2 days." })),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(updated["text"], "Now 2 days.");
    let (status, _) = admin
        .send(
            reqwest::Method::DELETE,
            &format!("/api/v1/canned-replies/{id}"),
            None,
        )
        .await;
    assert_eq!(status, 204);
}
