//! Privacy and accountability: the audit log (recorded by every admin/editor write route class,
//! read by admins only, secret-free, tamper-evident), data-subject export and erasure (by an
//! admin and by the visitor themselves), and the retention sweep.

use std::time::Duration;

use kefu_core::domain::Role;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::support::{AgentClient, TestApp, VisitorClient, uuid_like};

/// A raw connection to the test's database, to check what is really stored.
async fn raw(app: &TestApp) -> sqlx::AnyPool {
    sqlx::any::install_default_drivers();
    sqlx::any::AnyPoolOptions::new()
        .max_connections(1)
        .connect(&app._db.url)
        .await
        .unwrap()
}

/// Every (table, column, rows) whose text contains `needle`, over every text column of every
/// table, so a table added later is covered too.
async fn find_everywhere(db: &sqlx::AnyPool, needle: &str) -> Vec<(String, String, i64)> {
    use sqlx::Row;
    let postgres = std::env::var("KEFU_TEST_DATABASE_URL").is_ok_and(|u| !u.trim().is_empty());
    let columns_sql = if postgres {
        "SELECT CAST(table_name AS TEXT) AS t, CAST(column_name AS TEXT) AS c \
         FROM information_schema.columns WHERE table_schema = current_schema() \
         AND data_type = 'text' AND table_name NOT LIKE '_sqlx%'"
    } else {
        "SELECT m.name AS t, p.name AS c FROM sqlite_master m JOIN pragma_table_info(m.name) p \
         WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' AND m.name NOT LIKE '_sqlx%' \
         AND UPPER(p.type) = 'TEXT'"
    };
    let columns = sqlx::query(columns_sql).fetch_all(db).await.unwrap();
    assert!(columns.len() > 50, "the catalogue query found the tables");
    let mut found = Vec::new();
    for row in &columns {
        let (t, c): (String, String) = (row.get("t"), row.get("c"));
        let sql = format!("SELECT COUNT(*) AS n FROM \"{t}\" WHERE \"{c}\" LIKE $1");
        let n: i64 = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(format!("%{needle}%"))
            .fetch_one(db)
            .await
            .unwrap()
            .get("n");
        if n > 0 {
            found.push((t, c, n));
        }
    }
    found
}

async fn audit(admin: &AgentClient, site: &str, query: &str) -> Vec<Value> {
    let (status, page) = admin
        .get(&format!("/api/v1/sites/{site}/audit?limit=200&{query}"))
        .await;
    assert_eq!(status, 200, "{page}");
    page["events"].as_array().unwrap().clone()
}

async fn instance_audit(admin: &AgentClient, query: &str) -> Vec<Value> {
    let (status, page) = admin.get(&format!("/api/v1/audit?limit=200&{query}")).await;
    assert_eq!(status, 200, "{page}");
    page["events"].as_array().unwrap().clone()
}

fn find<'a>(events: &'a [Value], action: &str) -> &'a Value {
    events
        .iter()
        .find(|e| e["action"] == action)
        .unwrap_or_else(|| panic!("no {action} event in {events:#?}"))
}

async fn patch_settings(admin: &AgentClient, site: &str, change: Value) -> (StatusCode, Value) {
    let (_, current) = admin.get(&format!("/api/v1/sites/{site}")).await;
    let mut settings = current["settings"].clone();
    for (k, v) in change.as_object().unwrap() {
        settings[k] = v.clone();
    }
    admin
        .send(
            Method::PATCH,
            &format!("/api/v1/sites/{site}"),
            Some(json!({ "settings": settings })),
        )
        .await
}

#[tokio::test]
async fn audit_records_each_route_class_with_actor_target_and_no_secrets() {
    let app = TestApp::new().await;
    let site = app.site_id.clone();
    let admin = app.admin().await;
    let admin_id = admin.agent.id.to_string();
    let editor = app.agent("editor@shop.example", Role::Editor).await;
    let agent = app.agent("agent@shop.example", Role::Agent).await;

    // Settings, provider keys, identity secret, members.
    let (status, _) = patch_settings(&admin, &site, json!({ "widget_title": "Help" })).await;
    assert_eq!(status, 200);
    let (status, _) = admin
        .send(
            Method::PUT,
            &format!("/api/v1/sites/{site}/ai/providers"),
            Some(json!({ "providers": [{
                "name": "main", "base_url": "http://127.0.0.1:9", "model": "m",
                "api_key": "sk-audit-secret-999"
            }] })),
        )
        .await;
    assert_eq!(status, 200);
    let (status, identity) = admin
        .post(&format!("/api/v1/sites/{site}/identity-secret"), json!({}))
        .await;
    assert_eq!(status, 201);
    let identity_secret = identity["secret"].as_str().unwrap().to_owned();
    let agent_id = agent.agent.id.to_string();
    let (status, _) = admin
        .send(
            Method::DELETE,
            &format!("/api/v1/sites/{site}/members/{agent_id}"),
            None,
        )
        .await;
    assert_eq!(status, 204);
    let (status, _) = admin
        .post(
            &format!("/api/v1/sites/{site}/members"),
            json!({ "agent_id": agent_id }),
        )
        .await;
    assert_eq!(status, 204);

    // Knowledge and canned replies, by the editor.
    let (status, entry) = editor
        .post(
            &format!("/api/v1/sites/{site}/kb/entries"),
            json!({
                "category": "faq", "title": "Refunds", "visibility": "public", "status": "published",
                "faq": { "question": "How do I get a refund?", "alternatives": [], "answer": "Within 30 days." }
            }),
        )
        .await;
    assert_eq!(status, 201, "{entry}");
    let entry_id = entry["id"].as_str().unwrap().to_owned();
    editor.set_faq_answer(&entry_id, "Within 60 days.").await;
    let (status, _) = editor
        .post(
            &format!("/api/v1/sites/{site}/canned-replies"),
            json!({ "shortcut": "hi", "text": "Hello there, canned words" }),
        )
        .await;
    assert_eq!(status, 201);

    // Tags (admin deletes one), API tokens (and acting through one).
    let visitor = app.visitor().await;
    let conversation = visitor.open_conversation("hello").await;
    let (status, _) = admin
        .send(
            Method::PUT,
            &format!("/api/v1/conversations/{conversation}/tags"),
            Some(json!({ "tags": ["vip"] })),
        )
        .await;
    assert_eq!(status, 200);
    let (_, tags) = admin.get(&format!("/api/v1/sites/{site}/tags")).await;
    let tag_id = tags[0]["id"].as_str().unwrap().to_owned();
    let (status, _) = admin
        .send(
            Method::DELETE,
            &format!("/api/v1/sites/{site}/tags/{tag_id}"),
            None,
        )
        .await;
    assert_eq!(status, 204);
    let (status, token) = admin
        .post("/api/v1/api-tokens", json!({ "name": "crm" }))
        .await;
    assert_eq!(status, 201);
    let token_secret = token["secret"].as_str().unwrap().to_owned();
    let res = reqwest::Client::new()
        .post(app.url(&format!("/api/v1/sites/{site}/canned-replies")))
        .bearer_auth(&token_secret)
        .json(&json!({ "shortcut": "bye", "text": "Goodbye" }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    let (status, _) = admin
        .send(
            Method::DELETE,
            &format!("/api/v1/api-tokens/{}", token["id"].as_str().unwrap()),
            None,
        )
        .await;
    assert_eq!(status, 204);

    // Sign-ins: a wrong password for a known account, then a success.
    let res = reqwest::Client::new()
        .post(app.url("/api/v1/auth/login"))
        .json(&json!({ "email": "editor@shop.example", "password": "not the password" }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);

    let events = audit(&admin, &site, "").await;
    let settings = find(&events, "site.update");
    assert_eq!(settings["actor_kind"], "agent");
    assert_eq!(settings["actor_id"], admin_id);
    assert_eq!(settings["target_kind"], "site");
    assert_eq!(settings["target_id"], site);
    assert_eq!(
        settings["details"]["fields"],
        json!(["settings.widget_title"])
    );
    assert_eq!(settings["client_ip"], "127.0.0.1");
    let providers = find(&events, "ai.providers.update");
    assert_eq!(
        providers["details"]["providers"],
        json!([{ "name": "main", "key_change": "set" }])
    );
    assert_eq!(find(&events, "identity_secret.rotate")["target_id"], site);
    assert_eq!(find(&events, "member.remove")["target_id"], agent_id);
    assert_eq!(find(&events, "member.add")["target_kind"], "agent");
    let created = find(&events, "kb.entry.create");
    assert_eq!(created["actor_id"], editor.agent.id.to_string());
    assert_eq!(created["target_id"], entry_id);
    assert_eq!(find(&events, "kb.entry.update")["details"]["revision"], 2);
    assert_eq!(find(&events, "tag.delete")["target_id"], tag_id);
    let by_token = events
        .iter()
        .find(|e| e["action"] == "canned_reply.create" && e["actor_kind"] == "api_token")
        .expect("a write through an API token names the token as the actor kind");
    assert_eq!(by_token["actor_id"], admin_id);
    assert_eq!(by_token["details"]["shortcut"], "bye");

    let instance = instance_audit(&admin, "").await;
    for action in ["agent.create", "api_token.create", "api_token.revoke"] {
        assert_eq!(find(&instance, action)["actor_id"], admin_id);
    }
    let failure = find(&instance, "auth.login.failure");
    assert_eq!(failure["actor_kind"], "anonymous");
    assert_eq!(failure["target_id"], editor.agent.id.to_string());
    let success = find(&instance, "auth.login.success");
    assert_eq!(success["actor_kind"], "agent");

    // No secret and no message or reply text anywhere in the log, nor in its table.
    let everything = format!("{events:?}{instance:?}");
    for secret in [
        "sk-audit-secret-999",
        identity_secret.as_str(),
        token_secret.as_str(),
        "not the password",
        "canned words",
        "Within 60 days",
    ] {
        assert!(
            !everything.contains(secret),
            "{secret} leaked into the audit log"
        );
    }
    let db = raw(&app).await;
    for secret in ["sk-audit-secret-999", identity_secret.as_str()] {
        let found = find_everywhere(&db, secret).await;
        assert!(found.is_empty(), "{secret} stored in clear: {found:?}");
    }

    // Filters and paging.
    let kb = audit(&admin, &site, "action=kb").await;
    assert_eq!(kb.len(), 2, "{kb:#?}");
    assert!(
        kb.iter()
            .all(|e| e["action"].as_str().unwrap().starts_with("kb."))
    );
    let by_editor = audit(&admin, &site, &format!("actor={}", editor.agent.id)).await;
    assert!(by_editor.len() >= 3);
    assert!(
        by_editor
            .iter()
            .all(|e| e["actor_id"] == editor.agent.id.to_string())
    );
    let mut seen = Vec::new();
    let mut before = String::new();
    loop {
        let (_, page) = admin
            .get(&format!("/api/v1/sites/{site}/audit?limit=3{before}"))
            .await;
        seen.extend(
            page["events"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| e["seq"].as_i64().unwrap()),
        );
        match page["next_before"].as_i64() {
            Some(next) => before = format!("&before={next}"),
            None => break,
        }
    }
    let expected: Vec<i64> = events.iter().map(|e| e["seq"].as_i64().unwrap()).collect();
    assert_eq!(seen, expected, "pages cover the log once, newest first");

    // Only admins read it.
    let site_path = format!("/api/v1/sites/{site}/audit");
    for client in [&editor, &agent] {
        assert_eq!(client.get(&site_path).await.0, 403);
        assert_eq!(client.get("/api/v1/audit").await.0, 403);
    }
    let (status, _) = visitor.get(&site_path).await;
    assert_eq!(status, 401);
    let res = reqwest::Client::new()
        .get(app.url(&site_path))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
    // An admin who is not a member of the site does not see that it exists.
    let (_, other) = admin
        .post("/api/v1/sites", json!({ "name": "other" }))
        .await;
    let (status, outsider) = admin
        .post(
            "/api/v1/agents",
            json!({ "email": "boss2@shop.example", "name": "b", "password": "long enough password",
                    "role": "admin", "site_ids": [other["id"]] }),
        )
        .await;
    assert_eq!(status, 201, "{outsider}");
    let outsider = AgentClient::login(&app, "boss2@shop.example", "long enough password").await;
    assert_eq!(outsider.get(&site_path).await.0, 404);
}

#[tokio::test]
async fn the_audit_log_is_append_only_and_tampering_is_detected() {
    let app = TestApp::new().await;
    let site = app.site_id.clone();
    let admin = app.admin().await;
    for title in ["One", "Two", "Three", "Four"] {
        let (status, _) = patch_settings(&admin, &site, json!({ "widget_title": title })).await;
        assert_eq!(status, 200);
    }
    let (status, report) = admin.get("/api/v1/audit/verify").await;
    assert_eq!(status, 200);
    assert_eq!(report["problems"], json!([]), "{report}");
    assert!(report["events"].as_u64().unwrap() >= 5);
    let editor = app.agent("editor@shop.example", Role::Editor).await;
    assert_eq!(editor.get("/api/v1/audit/verify").await.0, 403);

    let db = raw(&app).await;
    let update = sqlx::query("UPDATE audit_events SET action = 'nothing' WHERE chain = $1")
        .bind(site.clone())
        .execute(&db)
        .await;
    assert!(update.is_err(), "the database refuses to edit an event");

    // Retention may cut the oldest events: the rest still verifies, and the newest stays.
    let cutoff = kefu_core::Timestamp::now().plus_seconds(86_400);
    let site_id: kefu_core::SiteId = site.parse().unwrap();
    let purged = app
        ._db
        .store
        .purge_audit_before(site_id, cutoff)
        .await
        .unwrap();
    assert_eq!(purged, 3);
    let (_, report) = admin.get("/api/v1/audit/verify").await;
    assert_eq!(report["problems"], json!([]), "{report}");
    let left = audit(&admin, &site, "").await;
    assert_eq!(left.len(), 1);

    for title in ["Five", "Six", "Seven"] {
        patch_settings(&admin, &site, json!({ "widget_title": title })).await;
    }
    // Removing an event from the middle is found.
    let middle = audit(&admin, &site, "").await[1]["seq"].as_i64().unwrap();
    sqlx::query("DELETE FROM audit_events WHERE chain = $1 AND seq = $2")
        .bind(site.clone())
        .bind(middle)
        .execute(&db)
        .await
        .unwrap();
    let (_, report) = admin.get("/api/v1/audit/verify").await;
    let problems = report["problems"].to_string();
    assert!(problems.contains("missing"), "{report}");
    assert!(problems.contains(&site), "{report}");
}

/// Builds up everything a visitor can leave behind: messages, an assistant answer with a
/// thumbs-down and its classification, an unanswered question, a private note, a tag, an
/// e-mail, a CSAT rating. Returns the conversation id.
async fn busy_visitor(admin: &AgentClient, visitor: &VisitorClient, marker: &str) -> String {
    let conversation = visitor
        .open_conversation(&format!("can i get my money back {marker}"))
        .await;
    // The assistant's reply to the first message.
    let log = format!("/api/v1/visitor/conversations/{conversation}/messages");
    let mut bot = Value::Null;
    for _ in 0..100 {
        let (_, page) = visitor.get(&log).await;
        if let Some(m) = page["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["author_kind"] == "bot")
        {
            bot = m.clone();
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(bot.is_object(), "the assistant replied");
    let (status, _) = visitor
        .post(
            &format!("{log}/{}/feedback", bot["id"].as_str().unwrap()),
            json!({ "rating": "down", "reason": format!("vague {marker}") }),
        )
        .await;
    assert_eq!(status, 204);
    // A question nobody documented: the editors' unanswered queue, then a human.
    let (status, _) = visitor
        .post(
            &log,
            json!({ "client_id": uuid_like(), "text": format!("zebra migration permit {marker}") }),
        )
        .await;
    assert_eq!(status, 201);
    let mut queued = false;
    for _ in 0..100 {
        let (_, c) = admin
            .get(&format!("/api/v1/conversations/{conversation}"))
            .await;
        if c["status"] != "bot" {
            queued = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(queued, "the unanswerable question went to a human");
    let (status, _) = visitor
        .post(
            &format!("/api/v1/visitor/conversations/{conversation}/contact"),
            json!({ "email": format!("{marker}@mail.example") }),
        )
        .await;
    assert!(status.is_success(), "contact: {status}");
    let (status, _) = admin
        .post(
            &format!("/api/v1/conversations/{conversation}/messages"),
            json!({ "client_id": uuid_like(), "text": format!("note about {marker}"), "private": true }),
        )
        .await;
    assert_eq!(status, 201);
    admin
        .send(
            Method::PUT,
            &format!("/api/v1/conversations/{conversation}/tags"),
            Some(json!({ "tags": ["refund"] })),
        )
        .await;
    let (status, _) = admin
        .post(
            &format!("/api/v1/conversations/{conversation}/resolve"),
            json!({}),
        )
        .await;
    assert_eq!(status, 200);
    let (status, _) = visitor
        .post(
            &format!("/api/v1/visitor/conversations/{conversation}/csat"),
            json!({ "rating": 4, "comment": format!("fine {marker}") }),
        )
        .await;
    assert_eq!(status, 204);
    conversation
}

async fn enable_bot_with_faq(app: &TestApp, admin: &AgentClient) {
    let (status, _) = patch_settings(admin, &app.site_id, json!({ "bot_enabled": true })).await;
    assert_eq!(status, 200);
    let (status, _) = admin
        .post(
            &format!("/api/v1/sites/{}/kb/entries", app.site_id),
            json!({
                "category": "faq", "title": "Refunds", "visibility": "public", "status": "published",
                "faq": { "question": "How do I get a refund?",
                         "alternatives": ["Can I get my money back?", "refund policy"],
                         "answer": "Within 30 days from the Orders page." }
            }),
        )
        .await;
    assert_eq!(status, 201);
}

#[tokio::test]
async fn an_admin_finds_exports_and_erases_a_visitor_and_nothing_of_them_is_left() {
    let app = TestApp::new().await;
    let site = app.site_id.clone();
    let admin = app.admin().await;
    enable_bot_with_faq(&app, &admin).await;
    let alice = app.visitor().await;
    let bob = app.visitor().await;
    let alice_conversation = busy_visitor(&admin, &alice, "alicemarker").await;
    let bob_conversation = busy_visitor(&admin, &bob, "bobmarker").await;

    // Find by e-mail (any case); at least one filter is required.
    let (status, found) = admin
        .get(&format!(
            "/api/v1/sites/{site}/visitors?email=AliceMarker@mail.example"
        ))
        .await;
    assert_eq!(status, 200, "{found}");
    assert_eq!(found.as_array().unwrap().len(), 1);
    assert_eq!(found[0]["id"], alice.visitor_id);
    assert_eq!(
        admin.get(&format!("/api/v1/sites/{site}/visitors")).await.0,
        400
    );

    // Export: one document with everything.
    let export_path = format!("/api/v1/sites/{site}/visitors/{}/export", alice.visitor_id);
    let res = admin.http.get(app.url(&export_path)).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let disposition = res.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(disposition.starts_with("attachment"), "{disposition}");
    let export: Value = res.json().await.unwrap();
    assert_eq!(export["format"], "kefu.visitor-export.v1");
    assert_eq!(export["visitor"]["email"], "alicemarker@mail.example");
    let record = &export["conversations"][0];
    assert_eq!(record["conversation"]["id"], alice_conversation);
    let texts: Vec<&str> = record["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["text"].as_str().unwrap())
        .collect();
    assert!(
        texts.contains(&"can i get my money back alicemarker"),
        "{texts:?}"
    );
    assert!(
        texts.contains(&"note about alicemarker"),
        "admins' export holds private notes"
    );
    assert_eq!(record["message_feedback"][0]["rating"], "down");
    assert_eq!(record["rating"]["rating"], 4);
    assert!(!record["classifications"].as_array().unwrap().is_empty());
    assert_eq!(record["unanswered_questions"].as_array().unwrap().len(), 1);
    assert_eq!(record["conversation"]["tags"], json!(["refund"]));
    assert!(!export.to_string().contains("bobmarker"));

    // Someone else's visitor id, or another site's, is not found.
    let (_, other) = admin
        .post("/api/v1/sites", json!({ "name": "other" }))
        .await;
    let wrong_site = format!(
        "/api/v1/sites/{}/visitors/{}/export",
        other["id"].as_str().unwrap(),
        alice.visitor_id
    );
    assert_eq!(admin.get(&wrong_site).await.0, 404);
    let editor = app.agent("editor@shop.example", Role::Editor).await;
    assert_eq!(editor.get(&export_path).await.0, 403);
    let erase_path = format!("/api/v1/sites/{site}/visitors/{}", alice.visitor_id);
    assert_eq!(editor.send(Method::DELETE, &erase_path, None).await.0, 403);

    // Erase.
    let db = raw(&app).await;
    assert!(!find_everywhere(&db, "alicemarker").await.is_empty());
    let (status, erased) = admin.send(Method::DELETE, &erase_path, None).await;
    assert_eq!(status, 200, "{erased}");
    assert_eq!(erased["deleted"]["visitors"], 1);
    assert_eq!(erased["deleted"]["conversations"], 1);
    assert_eq!(erased["deleted"]["message_feedback"], 1);
    assert_eq!(erased["deleted"]["conversation_ratings"], 1);
    assert_eq!(erased["deleted"]["kb_unanswered"], 1);
    assert!(erased["deleted"]["messages"].as_u64().unwrap() >= 5);
    assert!(
        erased["deleted"]["message_classifications"]
            .as_u64()
            .unwrap()
            >= 1
    );

    // Nothing about Alice is left in any text column of any table: not her words, her e-mail,
    // her conversation; her random id survives only as the target of the erasure's audit
    // event (and its export), which name nothing else.
    for needle in ["alicemarker", alice_conversation.as_str()] {
        let left = find_everywhere(&db, needle).await;
        assert!(left.is_empty(), "{needle} left in {left:?}");
    }
    let left = find_everywhere(&db, &alice.visitor_id).await;
    assert_eq!(
        left,
        vec![("audit_events".to_owned(), "target_id".to_owned(), 2)],
        "the visitor id survives only in the audit of the export and the erasure"
    );
    let (status, _) = alice.get("/api/v1/visitor/conversations").await;
    assert_eq!(status, 401, "the erased visitor's token no longer works");
    assert_eq!(
        admin
            .get(&format!("/api/v1/conversations/{alice_conversation}"))
            .await
            .0,
        404
    );
    assert_eq!(admin.send(Method::DELETE, &erase_path, None).await.0, 404);

    // Bob is untouched.
    let bob_left = find_everywhere(&db, "bobmarker").await;
    let tables: Vec<&str> = bob_left.iter().map(|(t, _, _)| t.as_str()).collect();
    for table in [
        "visitors",
        "messages",
        "message_feedback",
        "conversation_ratings",
        "kb_unanswered",
    ] {
        assert!(
            tables.contains(&table),
            "{table} lost Bob's rows: {bob_left:?}"
        );
    }
    let (status, bob_export) = admin
        .get(&format!(
            "/api/v1/sites/{site}/visitors/{}/export",
            bob.visitor_id
        ))
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        bob_export["conversations"][0]["conversation"]["id"],
        bob_conversation
    );
    assert!(
        bob_export["conversations"][0]["messages"]
            .as_array()
            .unwrap()
            .len()
            >= 5
    );

    // Both requests are audited, with counts and no personal data.
    let events = audit(&admin, &site, "action=visitor").await;
    let erase = find(&events, "visitor.erase");
    assert_eq!(erase["target_id"], alice.visitor_id);
    assert_eq!(erase["details"]["deleted"]["conversations"], 1);
    let export_event = events
        .iter()
        .find(|e| e["action"] == "visitor.export" && e["target_id"] == alice.visitor_id)
        .unwrap();
    assert_eq!(export_event["details"]["conversations"], 1);
    let search = find(&events, "visitor.search");
    assert_eq!(search["details"], json!({ "by": ["email"], "found": 1 }));
}

#[tokio::test]
async fn visitors_export_and_erase_their_own_data() {
    let app = TestApp::new().await;
    let admin = app.admin().await;
    let visitor = app.visitor().await;
    let conversation = visitor.open_conversation("my own words 7781").await;
    let (status, _) = admin
        .post(
            &format!("/api/v1/conversations/{conversation}/messages"),
            json!({ "client_id": uuid_like(), "text": "internal note 7781", "private": true }),
        )
        .await;
    assert_eq!(status, 201);
    let other = app.visitor().await;
    other.open_conversation("someone else 7781").await;

    let (status, export) = visitor.get("/api/v1/visitor/export").await;
    assert_eq!(status, 200, "{export}");
    assert_eq!(export["visitor"]["id"], visitor.visitor_id);
    let texts = export["conversations"][0]["messages"].to_string();
    assert!(texts.contains("my own words 7781"));
    assert!(
        !texts.contains("internal note"),
        "agents' private notes stay internal"
    );
    assert!(!export.to_string().contains("someone else"));

    // The widget calls DELETE cross-origin: the preflight allows it.
    let res = reqwest::Client::new()
        .request(Method::OPTIONS, app.url("/api/v1/visitor"))
        .header("origin", "https://shop.example")
        .header("access-control-request-method", "DELETE")
        .header("access-control-request-headers", "authorization")
        .send()
        .await
        .unwrap();
    assert!(res.status().is_success(), "{}", res.status());
    let allowed = res.headers()["access-control-allow-methods"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(allowed.contains("DELETE"), "{allowed}");

    let (status, _) = visitor.send(Method::DELETE, "/api/v1/visitor", None).await;
    assert_eq!(status, 204);
    assert_eq!(visitor.get("/api/v1/visitor/export").await.0, 401);
    assert_eq!(
        admin
            .get(&format!("/api/v1/conversations/{conversation}"))
            .await
            .0,
        404
    );
    let db = raw(&app).await;
    assert!(find_everywhere(&db, "my own words").await.is_empty());
    assert_eq!(
        find_everywhere(&db, "someone else 7781").await.len(),
        2,
        "messages + preview"
    );

    let events = audit(&admin, &app.site_id, "action=visitor").await;
    let erase = find(&events, "visitor.erase");
    assert_eq!(erase["actor_kind"], "visitor");
    assert_eq!(erase["actor_id"], visitor.visitor_id);
    assert_eq!(
        erase["client_ip"], "127.0.0.0",
        "visitors' addresses are kept truncated"
    );
    assert_eq!(find(&events, "visitor.export")["actor_kind"], "visitor");
}

async fn backdate(db: &sqlx::AnyPool, conversation: &str, days: i64) {
    let then = kefu_core::Timestamp::now()
        .plus_seconds(-days * 86_400)
        .to_string();
    sqlx::query(
        "UPDATE conversations SET created_at = $1, updated_at = $1, \
         resolved_at = CASE WHEN resolved_at IS NULL THEN NULL ELSE $1 END WHERE id = $2",
    )
    .bind(then)
    .bind(conversation.to_owned())
    .execute(db)
    .await
    .unwrap();
}

#[tokio::test]
async fn retention_sweeps_only_conversations_resolved_before_the_cutoff() {
    let app = TestApp::new().await;
    let site = app.site_id.clone();
    let admin = app.admin().await;
    for bad in [json!(0), json!(3651), json!(-1), json!("30")] {
        let (status, body) = patch_settings(&admin, &site, json!({ "retention_days": bad })).await;
        assert!(status == 422, "{bad}: {status} {body}");
    }
    let (status, body) = patch_settings(&admin, &site, json!({ "audit_retention_days": 0 })).await;
    assert_eq!(status, 422, "{body}");
    let (status, body) = patch_settings(
        &admin,
        &site,
        json!({ "retention_days": 30, "audit_retention_days": 365 }),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["settings"]["retention_days"], 30);

    let db = raw(&app).await;
    let visitor = app.visitor().await;
    let mut ids = Vec::new();
    for (text, resolve, age_days) in [
        ("old and resolved", true, 40),
        ("recently resolved", true, 5),
        ("old but still open", false, 40),
    ] {
        let id = visitor.open_conversation(text).await;
        if resolve {
            let (status, _) = admin
                .post(&format!("/api/v1/conversations/{id}/resolve"), json!({}))
                .await;
            assert_eq!(status, 200);
        }
        backdate(&db, &id, age_days).await;
        ids.push(id);
    }

    let (status, job) = admin
        .post(&format!("/api/v1/sites/{site}/retention/runs"), json!({}))
        .await;
    assert_eq!(status, 202, "{job}");
    let run = format!(
        "/api/v1/sites/{site}/retention/runs/{}",
        job["id"].as_str().unwrap()
    );
    let mut done = Value::Null;
    for _ in 0..200 {
        let (_, job) = admin.get(&run).await;
        if job["status"] == "done" {
            done = job;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(done["status"], "done", "the sweep finished");
    assert_eq!(done["params"]["result"]["deleted"]["conversations"], 1);
    assert!(
        done["params"]["result"]["deleted"]["messages"]
            .as_u64()
            .unwrap()
            >= 2
    );

    assert_eq!(
        admin
            .get(&format!("/api/v1/conversations/{}", ids[0]))
            .await
            .0,
        404
    );
    assert_eq!(
        admin
            .get(&format!("/api/v1/conversations/{}", ids[1]))
            .await
            .0,
        200
    );
    assert_eq!(
        admin
            .get(&format!("/api/v1/conversations/{}", ids[2]))
            .await
            .0,
        200
    );
    assert!(find_everywhere(&db, "old and resolved").await.is_empty());
    let (status, _) = visitor.get("/api/v1/visitor/conversations").await;
    assert_eq!(
        status, 200,
        "the visitor stays; only the old conversation went"
    );

    let events = audit(&admin, &site, "action=retention").await;
    let sweep = find(&events, "retention.sweep");
    assert_eq!(sweep["actor_kind"], "system");
    assert_eq!(sweep["details"]["deleted"]["conversations"], 1);
    assert_eq!(
        find(&events, "retention.run")["actor_id"],
        admin.agent.id.to_string()
    );

    // A second run finds nothing more; agents and editors cannot start one.
    let editor = app.agent("editor@shop.example", Role::Editor).await;
    let (status, _) = editor
        .post(&format!("/api/v1/sites/{site}/retention/runs"), json!({}))
        .await;
    assert_eq!(status, 403);
}

#[tokio::test]
async fn a_periodic_job_is_queued_once_however_many_nodes_ask() {
    let app = TestApp::new().await;
    let site: kefu_core::SiteId = app.site_id.parse().unwrap();
    let store = &app._db.store;
    let key = format!("retention:{site}:123456");
    let params = json!({});
    let (first, second) = tokio::join!(
        store.create_job_once("retention_probe", site, &params, &key),
        store.create_job_once("retention_probe", site, &params, &key),
    );
    let queued = [first.unwrap(), second.unwrap()];
    assert_eq!(
        queued.iter().filter(|j| j.is_some()).count(),
        1,
        "{queued:?}"
    );
    assert!(
        store
            .create_job_once("retention_probe", site, &json!({}), &key)
            .await
            .unwrap()
            .is_none()
    );
    let next = format!("retention:{site}:123457");
    assert!(
        store
            .create_job_once("retention_probe", site, &json!({}), &next)
            .await
            .unwrap()
            .is_some(),
        "the next period gets its own job"
    );
}
