//! Attachments: upload by content type and size, sending files on messages (REST and
//! WebSocket), who may download them and with which headers, and files going with their
//! conversation.

use kefu_core::domain::Role;
use kefu_core::protocol::ServerFrame;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::support::{AgentClient, TestApp, VisitorClient, uuid_like};

/// A 1×1 transparent PNG, complete (valid to image decoders, which the browser test needs).
pub const PNG: &[u8] = &[
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52,
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1f, 0x15, 0xc4,
    0x89, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9c, 0x63, 0x00, 0x01, 0x00, 0x00,
    0x05, 0x00, 0x01, 0x0d, 0x0a, 0x2d, 0xb4, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4e, 0x44, 0xae,
    0x42, 0x60, 0x82,
];

const PDF: &[u8] = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n";

/// Percent-encodes a query value.
fn encode(value: &str) -> String {
    value
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b".-_".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

fn files_in(app: &TestApp) -> Vec<String> {
    let dir = app._data.path().join("attachments");
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .map(|entries| {
            entries
                .map(|e| e.unwrap())
                .filter(|e| e.file_type().unwrap().is_file())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    if let Ok(temps) = std::fs::read_dir(dir.join("tmp")) {
        names.extend(temps.map(|e| format!("tmp/{}", e.unwrap().file_name().to_string_lossy())));
    }
    names.sort();
    names
}

async fn visitor_upload(
    visitor: &VisitorClient,
    conversation: &str,
    name: &str,
    bytes: &[u8],
) -> (StatusCode, Value) {
    let res = visitor
        .http
        .post(format!(
            "{}/api/v1/visitor/conversations/{conversation}/attachments?name={}",
            visitor.base,
            encode(name)
        ))
        .bearer_auth(&visitor.token)
        // Whatever the client claims is ignored; the bytes decide.
        .header("content-type", "image/png")
        .body(bytes.to_vec())
        .send()
        .await
        .unwrap();
    let status = res.status();
    (status, res.json().await.unwrap_or(Value::Null))
}

async fn agent_upload(
    agent: &AgentClient,
    conversation: &str,
    name: &str,
    bytes: &[u8],
) -> (StatusCode, Value) {
    let res = agent
        .http
        .post(format!(
            "{}/api/v1/conversations/{conversation}/attachments?name={}",
            agent.base,
            encode(name)
        ))
        .header("x-csrf-token", &agent.csrf)
        .body(bytes.to_vec())
        .send()
        .await
        .unwrap();
    let status = res.status();
    (status, res.json().await.unwrap_or(Value::Null))
}

async fn set_settings(app: &TestApp, admin: &AgentClient, change: Value) {
    let path = format!("/api/v1/sites/{}", app.site_id);
    let (_, site) = admin.get(&path).await;
    let mut settings = site["settings"].clone();
    for (k, v) in change.as_object().unwrap() {
        settings[k] = v.clone();
    }
    let (status, body) = admin
        .send(Method::PATCH, &path, Some(json!({ "settings": settings })))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

#[tokio::test]
async fn allowed_files_are_sent_on_messages_and_reach_the_agent_live() {
    let app = TestApp::new().await;
    let admin = app.admin().await;
    let visitor = app.visitor().await;
    let conv = visitor.open_conversation("here is my receipt").await;
    let mut agent_socket = admin.socket(&app).await;
    agent_socket.subscribe(&conv, 0).await;

    let (status, png) = visitor_upload(&visitor, &conv, "../../receipt.png", PNG).await;
    assert_eq!(status, StatusCode::CREATED, "{png}");
    assert_eq!(png["name"], "receipt.png");
    assert_eq!(png["content_type"], "image/png");
    assert_eq!(png["size"], PNG.len());
    let png_id = png["id"].as_str().unwrap();
    assert_eq!(png["url"], format!("/api/v1/attachments/{png_id}"));
    assert_eq!(files_in(&app), vec![png_id.to_owned()]);

    // A PDF claimed to be an image is stored as what it is.
    let (status, pdf) = visitor_upload(&visitor, &conv, "invoice.pdf", PDF).await;
    assert_eq!(status, StatusCode::CREATED, "{pdf}");
    assert_eq!(pdf["content_type"], "application/pdf");
    let (status, csv) = visitor_upload(&visitor, &conv, "orders.csv", b"id,qty\n1,2\n").await;
    assert_eq!(status, StatusCode::CREATED, "{csv}");
    assert_eq!(csv["content_type"], "text/csv");

    // Files alone, without words, over REST.
    let (status, sent) = visitor
        .post(
            &format!("/api/v1/visitor/conversations/{conv}/messages"),
            json!({ "client_id": uuid_like(), "text": "", "attachment_ids": [png_id, pdf["id"]] }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{sent}");
    assert_eq!(sent["attachments"][0], png);
    assert_eq!(sent["attachments"][1], pdf);
    let live = agent_socket.next_message().await;
    assert_eq!(live.attachments.len(), 2);
    assert_eq!(live.attachments[0].id.unwrap().to_string(), png_id);
    assert_eq!(live.attachments[0].name, "receipt.png");
    assert_eq!(live.attachments[0].content_type, "image/png");
    assert_eq!(live.attachments[0].size, PNG.len() as u64);

    // The same upload cannot ride on a second message.
    let (status, body) = visitor
        .post(
            &format!("/api/v1/visitor/conversations/{conv}/messages"),
            json!({ "client_id": uuid_like(), "text": "again", "attachment_ids": [png_id] }),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    // Nor can a client forge a reference to an upload.
    let (status, body) = visitor
        .post(
            &format!("/api/v1/visitor/conversations/{conv}/messages"),
            json!({ "client_id": uuid_like(), "text": "forged", "attachments": [png] }),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");

    // Over the WebSocket, with text; the ack carries the reference.
    let mut visitor_socket = visitor.socket(&app).await;
    visitor_socket.subscribe(&conv, 0).await;
    visitor_socket
        .send_json(json!({
            "type": "send", "conversation_id": conv, "client_id": "ws-1",
            "text": "and the order list", "attachment_ids": [csv["id"]],
        }))
        .await;
    let ack = visitor_socket
        .until(|f| matches!(f, ServerFrame::Ack { .. }))
        .await;
    let ServerFrame::Ack { message, .. } = ack else {
        unreachable!()
    };
    assert_eq!(message.attachments[0].name, "orders.csv");
    let live = agent_socket.next_message().await;
    assert_eq!(live.attachments[0].content_type, "text/csv");

    // The agent downloads the image inline, with the detected type and the safety headers.
    let res = admin
        .http
        .get(app.url(&format!("/api/v1/attachments/{png_id}")))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let h = res.headers().clone();
    assert_eq!(h["content-type"], "image/png");
    assert_eq!(h["x-content-type-options"], "nosniff");
    // The API's policy (see `security_headers`): nothing loads, and the file runs sandboxed.
    let csp = h["content-security-policy"].to_str().unwrap();
    assert!(
        csp.starts_with("default-src 'none'") && csp.ends_with("sandbox"),
        "{csp}"
    );
    assert!(
        h["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with("inline; filename=\"receipt.png\""),
        "{h:?}"
    );
    assert_eq!(res.bytes().await.unwrap().as_ref(), PNG);

    // Everything else is a download, never shown inline.
    let res = visitor
        .http
        .get(app.url(&format!(
            "/api/v1/attachments/{}",
            csv["id"].as_str().unwrap()
        )))
        .bearer_auth(&visitor.token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["content-type"], "text/csv; charset=utf-8");
    assert!(
        res.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with("attachment;")
    );
    assert_eq!(res.bytes().await.unwrap().as_ref(), b"id,qty\n1,2\n");

    // Agents attach files to replies too, and the visitor gets them.
    let (status, reply_file) = agent_upload(&admin, &conv, "guide.pdf", PDF).await;
    assert_eq!(status, StatusCode::CREATED, "{reply_file}");
    let (status, reply) = admin
        .post(
            &format!("/api/v1/conversations/{conv}/messages"),
            json!({ "client_id": uuid_like(), "text": "see the guide", "attachment_ids": [reply_file["id"]] }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{reply}");
    // (The reply takes the conversation first: an "assigned" entry comes before it.)
    let got = loop {
        let m = visitor_socket.next_message().await;
        if m.author_kind == kefu_core::domain::AuthorKind::Agent {
            break m;
        }
    };
    assert_eq!(got.attachments[0].name, "guide.pdf");
}

#[tokio::test]
async fn files_are_judged_by_their_bytes_not_their_names() {
    let app = TestApp::new().await;
    let visitor = app.visitor().await;
    let conv = visitor.open_conversation("hello").await;
    let mut exe = b"MZ\x90\0\x03\0\0\0\x04\0\0\0\xFF\xFF\0\0".to_vec();
    exe.resize(1024, 0);
    let cases: [(&str, &[u8]); 4] = [
        ("photo.png", &exe),
        (
            "photo.png",
            b"<!DOCTYPE html><script>alert(document.cookie)</script>",
        ),
        (
            "photo.png",
            b"<svg xmlns=\"http://www.w3.org/2000/svg\" onload=\"alert(1)\"/>",
        ),
        ("photo.png", b"\x7FELF\x02\x01\x01\0\0\0\0\0\0\0\0\0binary"),
    ];
    for (name, bytes) in cases {
        let (status, body) = visitor_upload(&visitor, &conv, name, bytes).await;
        assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE, "{body}");
        assert_eq!(body["error"]["code"], "attachment_type_refused");
    }
    let (status, body) = visitor_upload(&visitor, &conv, "empty.txt", b"").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["error"]["code"], "attachment_empty");
    assert!(files_in(&app).is_empty(), "{:?}", files_in(&app));

    // A site that narrows the list refuses what it left out.
    let admin = app.admin().await;
    set_settings(&app, &admin, json!({ "attachment_types": ["png"] })).await;
    let (status, body) = visitor_upload(&visitor, &conv, "invoice.pdf", PDF).await;
    assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .ends_with("allowed: png")
    );
    let (status, _) = visitor_upload(&visitor, &conv, "a.png", PNG).await;
    assert_eq!(status, StatusCode::CREATED);
    // And one that turns uploads off says so.
    set_settings(&app, &admin, json!({ "attachment_types": [] })).await;
    let (status, body) = visitor_upload(&visitor, &conv, "a.png", PNG).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert_eq!(body["error"]["code"], "attachments_disabled");
    // Unknown kinds are a settings error, not silently ignored.
    let path = format!("/api/v1/sites/{}", app.site_id);
    let (_, site) = admin.get(&path).await;
    let mut settings = site["settings"].clone();
    settings["attachment_types"] = json!(["exe"]);
    let (status, _) = admin
        .send(Method::PATCH, &path, Some(json!({ "settings": settings })))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
}

/// Sends a chunked upload (no Content-Length, so the cap must hold while streaming).
async fn chunked_upload(app: &TestApp, visitor: &VisitorClient, conv: &str, total: usize) -> u16 {
    let mut stream = tokio::net::TcpStream::connect(app.addr).await.unwrap();
    let head = format!(
        "POST /api/v1/visitor/conversations/{conv}/attachments?name=big.txt HTTP/1.1\r\n\
         Host: {}\r\nAuthorization: Bearer {}\r\nTransfer-Encoding: chunked\r\n\
         Connection: close\r\n\r\n",
        app.addr, visitor.token
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    let chunk = vec![b'a'; 1024];
    for _ in 0..total / 1024 {
        let framed = [format!("{:x}\r\n", chunk.len()).as_bytes(), &chunk, b"\r\n"].concat();
        // The server may stop reading once the cap is passed; that is the point.
        if stream.write_all(&framed).await.is_err() {
            break;
        }
    }
    let _ = stream.write_all(b"0\r\n\r\n").await;
    let mut response = Vec::new();
    let _ = stream.read_to_end(&mut response).await;
    let text = String::from_utf8_lossy(&response);
    text.split(' ').nth(1).unwrap().parse().unwrap()
}

#[tokio::test]
async fn the_size_cap_holds_while_streaming_and_leaves_no_partial_file() {
    let app = TestApp::new().await;
    let admin = app.admin().await;
    set_settings(&app, &admin, json!({ "attachment_max_bytes": 4096 })).await;
    let visitor = app.visitor().await;
    let conv = visitor.open_conversation("big file coming").await;

    // Announced too large: refused before the body is read.
    let (status, body) = visitor_upload(&visitor, &conv, "big.txt", &[b'a'; 5000]).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{body}");
    assert_eq!(body["error"]["code"], "attachment_too_large");
    // Not announced: cut off once the count passes the cap.
    assert_eq!(chunked_upload(&app, &visitor, &conv, 64 * 1024).await, 413);
    assert!(files_in(&app).is_empty(), "{:?}", files_in(&app));
    // At the cap exactly is fine, streamed or not.
    assert_eq!(chunked_upload(&app, &visitor, &conv, 4096).await, 201);
    let (status, _) = visitor_upload(&visitor, &conv, "ok.txt", &[b'a'; 4096]).await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(files_in(&app).len(), 2);
    assert!(files_in(&app).iter().all(|f| !f.starts_with("tmp/")));
}

#[tokio::test]
async fn only_the_conversation_s_visitor_and_its_site_s_agents_can_download() {
    let app = TestApp::new().await;
    let admin = app.admin().await;
    let visitor = app.visitor().await;
    let conv = visitor.open_conversation("my passport").await;
    let (_, file) = visitor_upload(&visitor, &conv, "passport.png", PNG).await;
    let url = app.url(&format!(
        "/api/v1/attachments/{}",
        file["id"].as_str().unwrap()
    ));

    // Another visitor of the same site, even holding the id.
    let stranger = app.visitor().await;
    let res = stranger
        .http
        .get(&url)
        .bearer_auth(&stranger.token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    // Nor can they send it as their own.
    let theirs = stranger.open_conversation("hi").await;
    let (status, body) = stranger
        .post(
            &format!("/api/v1/visitor/conversations/{theirs}/messages"),
            json!({ "client_id": uuid_like(), "text": "", "attachment_ids": [file["id"]] }),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    // Nor upload into someone else's conversation.
    let (status, _) = visitor_upload(&stranger, &conv, "x.png", PNG).await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    // An agent of another site only.
    let (status, other) = admin
        .post("/api/v1/sites", json!({ "name": "other shop" }))
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, _) = admin
        .post(
            "/api/v1/agents",
            json!({
                "email": "elsewhere@kefu.local", "name": "elsewhere",
                "password": "long enough password", "role": Role::Agent.as_str(),
                "site_ids": [other["id"]],
            }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let elsewhere = AgentClient::login(&app, "elsewhere@kefu.local", "long enough password").await;
    let res = elsewhere.http.get(&url).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    let (status, _) = agent_upload(&elsewhere, &conv, "x.png", PNG).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // Nobody at all.
    let res = reqwest::get(&url).await.unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    // An agent of the site can.
    let agent = app.agent("member@kefu.local", Role::Agent).await;
    assert_eq!(
        agent.http.get(&url).send().await.unwrap().status(),
        StatusCode::OK
    );

    // A file on a private note, or not sent yet, is the agents' alone.
    let (_, note_file) = agent_upload(&admin, &conv, "internal.pdf", PDF).await;
    let note_url = app.url(&format!(
        "/api/v1/attachments/{}",
        note_file["id"].as_str().unwrap()
    ));
    let visitor_get = |u: String| {
        let v = visitor.http.get(u).bearer_auth(&visitor.token);
        async move { v.send().await.unwrap().status() }
    };
    assert_eq!(visitor_get(note_url.clone()).await, StatusCode::NOT_FOUND);
    let (status, _) = admin
        .post(
            &format!("/api/v1/conversations/{conv}/messages"),
            json!({ "client_id": uuid_like(), "text": "fraud check", "private": true,
                    "attachment_ids": [note_file["id"]] }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(visitor_get(note_url).await, StatusCode::NOT_FOUND);
    assert_eq!(visitor_get(url).await, StatusCode::OK);
}

#[tokio::test]
async fn deleting_a_conversation_removes_its_files() {
    let app = TestApp::new().await;
    let visitor = app.visitor().await;
    let other = app.visitor().await;
    let gone = visitor.open_conversation("delete me").await;
    let kept = other.open_conversation("keep me").await;
    let (_, a) = visitor_upload(&visitor, &gone, "a.png", PNG).await;
    let (status, _) = visitor_upload(&visitor, &gone, "b.pdf", PDF).await;
    assert_eq!(status, StatusCode::CREATED);
    let (_, c) = visitor_upload(&other, &kept, "c.png", PNG).await;
    let (status, _) = visitor
        .post(
            &format!("/api/v1/visitor/conversations/{gone}/messages"),
            json!({ "client_id": uuid_like(), "text": "", "attachment_ids": [a["id"]] }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(files_in(&app).len(), 3);

    // The way erasure and retention delete: messages, then the conversation row.
    let store = &app._db.store;
    let pool = sqlx::AnyPool::connect(&app._db.url).await.unwrap();
    for sql in [
        "DELETE FROM messages WHERE conversation_id = $1",
        "DELETE FROM conversations WHERE id = $1",
    ] {
        sqlx::query(sql).bind(&gone).execute(&pool).await.unwrap();
    }
    pool.close().await;
    let dir = app._data.path().join("attachments");
    let swept = kefu_server::attachments::sweep_dir(store, &dir)
        .await
        .unwrap();
    assert_eq!(swept.orphans, 2);
    assert_eq!(files_in(&app), vec![c["id"].as_str().unwrap().to_owned()]);
    // Nothing left to download either.
    let res = visitor
        .http
        .get(app.url(&format!(
            "/api/v1/attachments/{}",
            a["id"].as_str().unwrap()
        )))
        .bearer_auth(&visitor.token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_visitor_s_erasure_removes_their_files_at_once_and_the_export_lists_them() {
    let app = TestApp::new().await;
    let visitor = app.visitor().await;
    let other = app.visitor().await;
    let conv = visitor.open_conversation("my files").await;
    let kept = other.open_conversation("keep me").await;
    let (_, a) = visitor_upload(&visitor, &conv, "receipt.png", PNG).await;
    let (_, c) = visitor_upload(&other, &kept, "c.png", PNG).await;
    let (status, _) = visitor
        .post(
            &format!("/api/v1/visitor/conversations/{conv}/messages"),
            json!({ "client_id": uuid_like(), "text": "here", "attachment_ids": [a["id"]] }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);

    // The export names the file and where to fetch it.
    let res = visitor
        .http
        .get(app.url("/api/v1/visitor/export"))
        .bearer_auth(&visitor.token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let export: Value = res.json().await.unwrap();
    let listed: Vec<&Value> = export["conversations"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|c| c["messages"].as_array().unwrap())
        .flat_map(|m| m["attachments"].as_array().unwrap())
        .collect();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0]["name"], "receipt.png");
    assert_eq!(listed[0]["id"], a["id"]);

    let res = visitor
        .http
        .delete(app.url("/api/v1/visitor"))
        .bearer_auth(&visitor.token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    // No waiting for the periodic sweep: only the other visitor's file is left.
    assert_eq!(files_in(&app), vec![c["id"].as_str().unwrap().to_owned()]);
}
