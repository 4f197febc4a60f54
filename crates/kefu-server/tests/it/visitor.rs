//! The widget's API: sessions and their resumption, the open-conversation rule, nobody
//! online and leaving an e-mail, asking for a human, rate limits, origins.

use kefu_core::config::Config;
use serde_json::json;

use crate::support::TestApp;

#[tokio::test]
async fn a_returning_visitor_keeps_its_identity_and_history() {
    let app = TestApp::new().await;
    let visitor = app.visitor().await;
    let conversation = visitor.open_conversation("remember me").await;
    let http = reqwest::Client::new();
    let res = http
        .post(app.url("/api/v1/visitor/sessions"))
        .json(&json!({ "site_id": app.site_id, "token": visitor.token, "page_url": "https://shop.example/cart" }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["visitor"]["id"], visitor.visitor_id);
    assert_eq!(body["token"], visitor.token);
    let (_, list) = visitor.get("/api/v1/visitor/conversations").await;
    assert_eq!(list[0]["id"], conversation);

    // Opening again returns the open conversation instead of a second one.
    let (status, again) = visitor
        .post("/api/v1/visitor/conversations", json!({}))
        .await;
    assert_eq!(status, 200);
    assert_eq!(again["conversation"]["id"], conversation);

    // An unknown token gets a fresh identity, not an error.
    let res = http
        .post(app.url("/api/v1/visitor/sessions"))
        .json(&json!({ "site_id": app.site_id, "token": "kefu_vt_unknown" }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
}

#[tokio::test]
async fn nobody_online_tells_the_visitor_and_takes_an_email() {
    let app = TestApp::new().await;
    let visitor = app.visitor().await;
    let conversation = visitor.open_conversation("is anyone there").await;
    let (_, log) = visitor
        .get(&format!(
            "/api/v1/visitor/conversations/{conversation}/messages"
        ))
        .await;
    let items = log["items"].as_array().unwrap();
    assert!(
        items
            .iter()
            .any(|m| m["event"]["type"] == "no_agent_online"),
        "{log}"
    );

    let path = format!("/api/v1/visitor/conversations/{conversation}/contact");
    let (status, err) = visitor
        .post(&path, json!({ "email": "not-an-email" }))
        .await;
    assert_eq!(status, 422);
    assert_eq!(err["error"]["code"], "invalid_field");
    let (status, msg) = visitor
        .post(
            &path,
            json!({ "email": "Wang.Fang@Example.cn", "name": "王芳" }),
        )
        .await;
    assert_eq!(status, 201, "{msg}");
    assert_eq!(msg["event"]["email"], "wang.fang@example.cn");
    let admin = app.admin().await;
    let (_, detail) = admin
        .get(&format!("/api/v1/conversations/{conversation}"))
        .await;
    assert_eq!(detail["visitor"]["email"], "wang.fang@example.cn");
    assert_eq!(detail["visitor"]["name"], "王芳");
    assert_eq!(
        detail["conversation"]["status"], "waiting",
        "still in the queue"
    );
}

#[tokio::test]
async fn asking_for_a_human_moves_a_bot_conversation_to_the_queue_once() {
    let app = TestApp::new().await;
    let admin = app.admin().await;
    let (_, site) = admin.get(&format!("/api/v1/sites/{}", app.site_id)).await;
    let mut settings = site["settings"].clone();
    settings["bot_enabled"] = json!(true);
    let (status, _) = admin
        .send(
            reqwest::Method::PATCH,
            &format!("/api/v1/sites/{}", app.site_id),
            Some(json!({ "settings": settings })),
        )
        .await;
    assert_eq!(status, 200);

    let visitor = app.visitor().await;
    // Opened without a message, so the assistant (with an empty knowledge base) has nothing
    // to answer or hand off yet.
    let (status, opened) = visitor
        .post("/api/v1/visitor/conversations", json!({}))
        .await;
    assert_eq!(status, 201);
    let conversation = opened["conversation"]["id"].as_str().unwrap().to_owned();
    assert_eq!(opened["conversation"]["status"], "bot");
    let path = format!("/api/v1/visitor/conversations/{conversation}/handoff");
    let (status, after) = visitor
        .post(&path, json!({ "reason": "wants a person" }))
        .await;
    assert_eq!(status, 200);
    assert_eq!(after["status"], "waiting");
    let (_, again) = visitor.post(&path, json!({})).await;
    assert_eq!(again["status"], "waiting");
    let (_, log) = visitor
        .get(&format!(
            "/api/v1/visitor/conversations/{conversation}/messages"
        ))
        .await;
    let handoffs = log["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["event"]["type"] == "handoff_requested")
        .count();
    assert_eq!(handoffs, 1, "asking twice does not loop");

    // The agent can hand it back to the bot.
    admin.go_online().await;
    let (_, conv) = admin
        .get(&format!("/api/v1/conversations/{conversation}"))
        .await;
    assert_eq!(conv["conversation"]["status"], "assigned");
    let (status, back) = admin
        .post(
            &format!("/api/v1/conversations/{conversation}/hand-to-bot"),
            json!({}),
        )
        .await;
    assert_eq!(status, 200, "{back}");
    assert_eq!(back["status"], "bot");
}

#[tokio::test]
async fn visitors_are_rate_limited_without_losing_stored_messages() {
    let config = Config {
        visitor_messages_per_minute: 1,
        visitor_message_burst: 3,
        ..Config::default()
    };
    let app = TestApp::with_config(config).await;
    let visitor = app.visitor().await;
    let conversation = visitor.open_conversation("one").await; // uses one token
    let path = format!("/api/v1/visitor/conversations/{conversation}/messages");
    let mut codes = Vec::new();
    for i in 0..4 {
        let res = visitor
            .http
            .post(format!("{}{path}", visitor.base))
            .bearer_auth(&visitor.token)
            .json(&json!({ "client_id": format!("c{i}"), "text": format!("m{i}") }))
            .send()
            .await
            .unwrap();
        let status = res.status().as_u16();
        if status == 429 {
            assert!(res.headers().get("retry-after").is_some());
            let body: serde_json::Value = res.json().await.unwrap();
            assert_eq!(body["error"]["code"], "rate_limited");
        }
        codes.push(status);
    }
    assert_eq!(codes, vec![201, 201, 429, 429]);
    let (_, log) = visitor.get(&format!("{path}?after_seq=0")).await;
    let texts: Vec<&str> = log["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["author_kind"] == "visitor")
        .map(|m| m["text"].as_str().unwrap())
        .collect();
    assert_eq!(texts, vec!["one", "m0", "m1"]);
}

#[tokio::test]
async fn sites_with_allowed_origins_refuse_other_pages() {
    let app = TestApp::new().await;
    let admin = app.admin().await;
    let (status, _) = admin
        .send(
            reqwest::Method::PATCH,
            &format!("/api/v1/sites/{}", app.site_id),
            Some(json!({ "allowed_origins": ["https://shop.example"] })),
        )
        .await;
    assert_eq!(status, 200);
    let http = reqwest::Client::new();
    let start = |origin: &'static str| {
        http.post(app.url("/api/v1/visitor/sessions"))
            .header("origin", origin)
            .json(&json!({ "site_id": app.site_id }))
            .send()
    };
    assert_eq!(start("https://shop.example").await.unwrap().status(), 201);
    let refused = start("https://evil.example").await.unwrap();
    assert_eq!(refused.status(), 403);
    let body: serde_json::Value = refused.json().await.unwrap();
    assert_eq!(body["error"]["code"], "forbidden_origin");
    let (status, _) = admin
        .send(
            reqwest::Method::PATCH,
            &format!("/api/v1/sites/{}", app.site_id),
            Some(json!({ "allowed_origins": ["not a url"] })),
        )
        .await;
    assert_eq!(status, 422);
}

#[tokio::test]
async fn csat_only_for_resolved_conversations_changeable_and_summarised() {
    let app = TestApp::new().await;
    let admin = app.admin().await;
    let visitor = app.visitor().await;
    let conversation = visitor.open_conversation("hello").await;
    let path = format!("/api/v1/visitor/conversations/{conversation}/csat");
    let (status, body) = visitor.post(&path, json!({ "rating": 5 })).await;
    assert_eq!(status, 409, "open conversations cannot be rated: {body}");
    assert_eq!(body["error"]["code"], "invalid_state");
    let (status, _) = admin
        .post(
            &format!("/api/v1/conversations/{conversation}/resolve"),
            json!({}),
        )
        .await;
    assert_eq!(status, 200);
    for bad in [
        json!({ "rating": 0 }),
        json!({ "rating": 6 }),
        json!({ "stars": 5 }),
    ] {
        let (status, body) = visitor.post(&path, bad.clone()).await;
        assert!(status.is_client_error(), "{bad}: {status}");
        assert!(body["error"]["code"].is_string());
    }
    let (status, _) = visitor.post(&path, json!({ "rating": 2 })).await;
    assert_eq!(status, 204);
    let (status, _) = visitor
        .post(&path, json!({ "rating": 5, "comment": "quick and kind" }))
        .await;
    assert_eq!(status, 204);
    let (_, detail) = admin
        .get(&format!("/api/v1/conversations/{conversation}"))
        .await;
    assert_eq!(detail["rating"]["rating"], 5);
    assert_eq!(detail["rating"]["comment"], "quick and kind");
    let (_, csat) = admin
        .get(&format!("/api/v1/sites/{}/csat?days=7", app.site_id))
        .await;
    assert_eq!(csat["ratings"], 1);
    assert_eq!(csat["average"], 5.0);
    assert_eq!(csat["satisfied_share"], 1.0);
    assert_eq!(csat["distribution"], json!([0, 0, 0, 0, 1]));
    // Another visitor cannot rate it.
    let other = app.visitor().await;
    let (status, _) = other.post(&path, json!({ "rating": 1 })).await;
    assert_eq!(status, 403);
}

#[tokio::test]
async fn a_site_requiring_consent_refuses_messages_until_the_current_notice_is_accepted() {
    use reqwest::Method;
    let app = TestApp::new().await;
    let admin = app.admin().await;
    let site_path = format!("/api/v1/sites/{}", app.site_id);
    let (_, site) = admin.get(&site_path).await;
    let mut settings = site["settings"].clone();
    settings["consent_required"] = json!(true);
    settings["consent_version"] = json!("2026-11");
    settings["privacy_policy_url"] = json!("https://shop.example/privacy");
    let (status, body) = admin
        .send(
            Method::PATCH,
            &site_path,
            Some(json!({ "settings": settings.clone() })),
        )
        .await;
    assert_eq!(status, 200, "{body}");

    let visitor = app.visitor().await;
    let (status, body) = visitor
        .post(
            "/api/v1/visitor/conversations",
            json!({ "message": { "client_id": "c-1", "text": "hello" } }),
        )
        .await;
    assert_eq!(status, 403, "{body}");
    assert_eq!(body["error"]["code"], "consent_required");
    let (status, body) = visitor
        .post("/api/v1/visitor/consent", json!({ "version": "old" }))
        .await;
    assert_eq!(status, 409);
    assert_eq!(body["error"]["code"], "stale_consent");
    let (status, _) = visitor
        .post("/api/v1/visitor/consent", json!({ "version": "2026-11" }))
        .await;
    assert_eq!(status, 204);
    let conversation = visitor.open_conversation("hello").await;
    // Agents see when and which version was accepted.
    let (_, detail) = admin
        .get(&format!("/api/v1/conversations/{conversation}"))
        .await;
    assert_eq!(detail["visitor"]["consent_version"], "2026-11");
    assert!(detail["visitor"]["consent_at"].is_string());

    // A new notice version asks again; nothing already stored is lost.
    settings["consent_version"] = json!("2027-01");
    admin
        .send(
            Method::PATCH,
            &site_path,
            Some(json!({ "settings": settings.clone() })),
        )
        .await;
    let (status, body) = visitor
        .post(
            &format!("/api/v1/visitor/conversations/{conversation}/messages"),
            json!({ "client_id": "c-2", "text": "again" }),
        )
        .await;
    assert_eq!(status, 403, "{body}");
    let (_, log) = visitor
        .get(&format!(
            "/api/v1/visitor/conversations/{conversation}/messages"
        ))
        .await;
    let items = log["items"].as_array().unwrap();
    assert!(items.iter().any(|m| m["text"] == "hello"));
    assert!(items.iter().all(|m| m["text"] != "again"), "{log}");

    // Bad settings are refused.
    settings["privacy_policy_url"] = json!("javascript:alert(1)");
    let (status, _) = admin
        .send(
            Method::PATCH,
            &site_path,
            Some(json!({ "settings": settings })),
        )
        .await;
    assert_eq!(status, 422);
}

#[tokio::test]
async fn a_signed_identity_is_trusted_and_a_forged_one_is_not() {
    use kefu_server::auth::identity::sign;
    let app = TestApp::new().await;
    let admin = app.admin().await;
    let secret_path = format!("/api/v1/sites/{}/identity-secret", app.site_id);
    let agent = app
        .agent("agent@example.com", kefu_core::domain::Role::Agent)
        .await;
    let (status, _) = agent.post(&secret_path, json!({})).await;
    assert_eq!(status, 403, "only admins hold the secret");
    let (status, body) = admin.post(&secret_path, json!({})).await;
    assert_eq!(status, 201, "{body}");
    let secret = body["secret"].as_str().unwrap().to_owned();
    let (_, site) = admin.get(&format!("/api/v1/sites/{}", app.site_id)).await;
    assert!(!site.to_string().contains(&secret), "never shown again");

    let session = |user: serde_json::Value| {
        let url = app.url("/api/v1/visitor/sessions");
        let site_id = app.site_id.clone();
        async move {
            let res = reqwest::Client::new()
                .post(url)
                .json(&json!({ "site_id": site_id, "user": user }))
                .send()
                .await
                .unwrap();
            res.json::<serde_json::Value>().await.unwrap()
        }
    };
    let good = session(
        json!({ "id": "cust-7", "name": "Li Lei", "email": "li@example.com",
                               "signature": sign(&secret, "cust-7") }),
    )
    .await;
    assert_eq!(good["visitor"]["external_id"], "cust-7", "{good}");
    assert_eq!(good["visitor"]["name"], "Li Lei");
    let forged = session(json!({ "id": "cust-8", "name": "Mallory",
                                 "signature": sign(&secret, "cust-7") }))
    .await;
    assert!(forged["visitor"]["external_id"].is_null(), "{forged}");
    assert!(forged["visitor"]["name"].is_null());
    let wrong_key = session(json!({ "id": "cust-7", "signature": sign("guess", "cust-7") })).await;
    assert!(wrong_key["visitor"]["external_id"].is_null());

    // Rotating invalidates old signatures.
    let (_, rotated) = admin.post(&secret_path, json!({})).await;
    assert_ne!(rotated["secret"], secret);
    let stale = session(json!({ "id": "cust-7", "signature": sign(&secret, "cust-7") })).await;
    assert!(stale["visitor"]["external_id"].is_null());
}

#[tokio::test]
async fn branding_reaches_the_widget_and_bad_values_are_refused() {
    let app = TestApp::new().await;
    let admin = app.admin().await;
    let path = format!("/api/v1/sites/{}", app.site_id);
    let (_, site) = admin.get(&path).await;
    let mut settings = site["settings"].clone();
    assert_eq!(settings["widget_position"], "right", "the default corner");
    for (field, value) in [
        ("widget_position", json!("top")),
        ("widget_avatar_url", json!("http://shop.example/logo.png")),
        ("widget_avatar_url", json!("javascript:alert(1)")),
    ] {
        let mut bad = settings.clone();
        bad[field] = value;
        let (status, body) = admin
            .send(
                reqwest::Method::PATCH,
                &path,
                Some(json!({ "settings": bad })),
            )
            .await;
        assert_eq!(status, 422, "{field}: {body}");
        assert_eq!(body["error"]["code"], "invalid_field");
        assert!(body["error"]["message"].as_str().unwrap().contains(field));
    }
    settings["widget_position"] = json!("left");
    settings["widget_avatar_url"] = json!("https://shop.example/logo.png");
    let (status, body) = admin
        .send(
            reqwest::Method::PATCH,
            &path,
            Some(json!({ "settings": settings })),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let res = reqwest::Client::new()
        .post(app.url("/api/v1/visitor/sessions"))
        .json(&json!({ "site_id": app.site_id }))
        .send()
        .await
        .unwrap();
    let session: serde_json::Value = res.json().await.unwrap();
    assert_eq!(session["site"]["widget_position"], "left");
    assert_eq!(
        session["site"]["widget_avatar_url"],
        "https://shop.example/logo.png"
    );
}
