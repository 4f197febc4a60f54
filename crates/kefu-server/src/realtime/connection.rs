//! One WebSocket connection: authenticate, then relay client frames to the chat operations
//! and hub frames to the client.
//!
//! Guarantees (docs/PROTOCOL.md): a `send` is acknowledged only after commit; a subscribe
//! with `after_seq` replays everything after it from the database and then continues live
//! with no gap and no repeat (a live entry whose seq jumps ahead triggers a catch-up read, so
//! entries published out of order are never lost); each connection's outgoing queue is
//! bounded and a client that cannot drain it, or that lags a hub channel, is disconnected and
//! resumes; a peer silent for three heartbeats is dropped; an agent's connection closes with
//! 4001 once its session or API token ends (sign-out, sign-out everywhere, password change).

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use axum::extract::ws::{CloseFrame, Message as WsMessage, WebSocket};
use futures_util::{SinkExt, StreamExt};
use kefu_core::domain::{Agent, AuthorKind, Conversation, Presence, Scope, Visitor};
use kefu_core::protocol::{ClientFrame, ServerFrame};
use kefu_core::{AgentId, ConversationId};
use tokio::sync::{broadcast, mpsc};
use tokio_stream::StreamMap;
use tokio_stream::wrappers::BroadcastStream;
use tokio_stream::wrappers::errors::BroadcastStreamRecvError;

use super::hub::{Frame, Topic};
use crate::auth::{API_TOKEN_PREFIX, AgentAuth, AuthMethod, VisitorAuth};
use crate::chat::presence::set_presence;
use crate::chat::{self, messages::Outgoing};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

/// How long an unauthenticated connection may wait before its `auth` frame.
const AUTH_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a frame may wait for room in a full outgoing queue before the client counts as
/// too slow.
const ENQUEUE_TIMEOUT: Duration = Duration::from_secs(5);
/// Entries read per database page when catching a subscriber up.
const CATCH_UP_PAGE: u32 = 200;

/// Close codes (4000-4999 are the application's).
mod close {
    pub const UNAUTHENTICATED: u16 = 4001;
    pub const FORBIDDEN_ORIGIN: u16 = 4003;
    pub const LAGGED: u16 = 4008;
    pub const SLOW_CONSUMER: u16 = 4009;
    pub const HEARTBEAT_TIMEOUT: u16 = 4010;
}

/// Who is on the other end.
#[derive(Clone, Debug)]
pub enum Principal {
    // Boxed: a visitor record is several times larger than an agent's.
    Visitor(Box<Visitor>),
    /// An agent and the credential the connection was opened with, re-checked on sign-outs.
    Agent(Agent, AuthMethod),
}

/// Why the loop ended.
enum End {
    /// The peer closed or the socket failed: nothing more to send.
    PeerGone,
    /// We close with a code and reason.
    Close(u16, &'static str),
}

/// Runs a connection to its end. `principal` is known when the upgrade carried a session
/// cookie; otherwise the first frame must be `auth`.
pub async fn run(
    socket: WebSocket,
    state: AppState,
    principal: Option<Principal>,
    origin: Option<String>,
) {
    let (mut sink, mut stream) = socket.split();
    let (out, mut out_rx) = mpsc::channel::<WsMessage>(state.config.ws_send_queue.max(1));
    let writer = tokio::spawn(async move {
        while let Some(msg) = out_rx.recv().await {
            let closing = matches!(msg, WsMessage::Close(_));
            if sink.send(msg).await.is_err() || closing {
                break;
            }
        }
        let _ = sink.close().await;
    });

    let principal = match principal {
        Some(p) => Some(p),
        None => authenticate(&state, &mut stream, &out, origin.as_deref()).await,
    };
    if let Some(principal) = principal {
        let mut conn = Connection {
            state: state.clone(),
            principal,
            out: out.clone(),
            subs: StreamMap::new(),
            last_sent: HashMap::new(),
            allowed: HashSet::new(),
            sign_outs: None,
            counted_online: false,
        };
        let end = conn.serve(&mut stream).await;
        conn.finish().await;
        if let End::Close(code, reason) = end {
            let _ = out.try_send(close_frame(code, reason));
        }
    }
    drop(out);
    let _ = writer.await;
}

fn close_frame(code: u16, reason: &'static str) -> WsMessage {
    WsMessage::Close(Some(CloseFrame {
        code,
        reason: reason.into(),
    }))
}

fn text(frame: &ServerFrame) -> WsMessage {
    WsMessage::Text(frame.encode().into())
}

/// Waits for the `auth` frame and resolves it; on failure sends an error and a close.
async fn authenticate(
    state: &AppState,
    stream: &mut futures_util::stream::SplitStream<WebSocket>,
    out: &mpsc::Sender<WsMessage>,
    origin: Option<&str>,
) -> Option<Principal> {
    let refuse = |code: &'static str, message: &str, close_code: u16| {
        let _ = out.try_send(text(&ServerFrame::error(code, message, None)));
        let _ = out.try_send(close_frame(close_code, "authentication failed"));
    };
    let first = tokio::time::timeout(AUTH_TIMEOUT, async {
        loop {
            match stream.next().await {
                Some(Ok(WsMessage::Text(t))) => return Some(t.to_string()),
                Some(Ok(WsMessage::Ping(_) | WsMessage::Pong(_))) => continue,
                _ => return None,
            }
        }
    })
    .await;
    let Ok(Some(first)) = first else {
        refuse(
            "unauthenticated",
            "send an auth frame first",
            close::UNAUTHENTICATED,
        );
        return None;
    };
    let token = match ClientFrame::decode(&first) {
        Ok(ClientFrame::Auth { token }) => token,
        Ok(_) => {
            refuse(
                "unauthenticated",
                "the first frame must be auth",
                close::UNAUTHENTICATED,
            );
            return None;
        }
        Err(e) => {
            refuse(e.code(), &e.to_string(), close::UNAUTHENTICATED);
            return None;
        }
    };
    if token.starts_with(API_TOKEN_PREFIX) {
        return match AgentAuth::from_api_token(state, &token).await {
            Ok(auth) => Some(Principal::Agent(auth.agent, auth.method)),
            Err(e) => {
                refuse(e.code, &e.message, close::UNAUTHENTICATED);
                None
            }
        };
    }
    let visitor = match VisitorAuth::from_token(state, &token).await {
        Ok(auth) => auth.visitor,
        Err(e) => {
            refuse(e.code, &e.message, close::UNAUTHENTICATED);
            return None;
        }
    };
    match state.store.get_site(visitor.site_id).await {
        Ok(site) if site.allows_origin(origin) => Some(Principal::Visitor(Box::new(visitor))),
        Ok(_) => {
            refuse(
                "forbidden_origin",
                "this page may not use the widget",
                close::FORBIDDEN_ORIGIN,
            );
            None
        }
        Err(e) => {
            let e = ApiError::from(e);
            refuse(e.code, &e.message, close::UNAUTHENTICATED);
            None
        }
    }
}

/// The next sign-out signal; never resolves for connections that do not listen.
async fn next_sign_out(
    rx: &mut Option<broadcast::Receiver<AgentId>>,
) -> Result<AgentId, broadcast::error::RecvError> {
    match rx {
        Some(rx) => rx.recv().await,
        None => std::future::pending().await,
    }
}

struct Connection {
    state: AppState,
    principal: Principal,
    out: mpsc::Sender<WsMessage>,
    subs: StreamMap<Topic, BroadcastStream<Frame>>,
    /// Highest seq delivered (or deliberately skipped) per subscribed conversation.
    last_sent: HashMap<ConversationId, i64>,
    /// Conversations this principal has been checked against, to spare typing frames a
    /// database read each.
    allowed: HashSet<ConversationId>,
    /// Agents: sign-out signals for any agent (filtered by id).
    sign_outs: Option<broadcast::Receiver<AgentId>>,
    /// Agents: whether this connection was counted towards the agent's presence.
    counted_online: bool,
}

impl Connection {
    fn is_agent(&self) -> bool {
        matches!(self.principal, Principal::Agent(..))
    }

    fn connection_role(&self) -> &'static str {
        if self.is_agent() { "agent" } else { "visitor" }
    }

    async fn serve(&mut self, stream: &mut futures_util::stream::SplitStream<WebSocket>) -> End {
        let heartbeat_every = Duration::from_secs(self.state.config.heartbeat_secs.max(1));
        let ready = ServerFrame::Ready {
            connection_id: uuid::Uuid::now_v7().to_string(),
            role: self.connection_role().to_owned(),
            heartbeat_secs: heartbeat_every.as_secs(),
        };
        if let Err(end) = self.send(&ready).await {
            return end;
        }
        if let Err(end) = self.start_agent().await {
            return end;
        }
        let mut heartbeat = tokio::time::interval(heartbeat_every);
        heartbeat.tick().await;
        let mut last_heard = Instant::now();
        loop {
            tokio::select! {
                incoming = stream.next() => {
                    let Some(Ok(msg)) = incoming else { return End::PeerGone };
                    last_heard = Instant::now();
                    let result = match msg {
                        WsMessage::Text(t) => self.on_text(t.as_str()).await,
                        WsMessage::Binary(_) => self.send(&ServerFrame::error(
                            "invalid_frame", "binary frames are not supported; send JSON text", None,
                        )).await,
                        WsMessage::Ping(_) | WsMessage::Pong(_) => Ok(()),
                        WsMessage::Close(_) => return End::PeerGone,
                    };
                    if let Err(end) = result {
                        return end;
                    }
                }
                Some((topic, item)) = self.subs.next(), if !self.subs.is_empty() => {
                    let result = match item {
                        Ok(frame) => self.deliver(topic, &frame).await,
                        Err(BroadcastStreamRecvError::Lagged(_)) => {
                            Err(End::Close(close::LAGGED, "fell behind; resubscribe with your last seq"))
                        }
                    };
                    if let Err(end) = result {
                        return end;
                    }
                }
                signal = next_sign_out(&mut self.sign_outs) => {
                    if let Err(end) = self.on_sign_out(signal).await {
                        return end;
                    }
                }
                _ = heartbeat.tick() => {
                    if last_heard.elapsed() > heartbeat_every * 3 {
                        return End::Close(close::HEARTBEAT_TIMEOUT, "no heartbeat");
                    }
                    if let Err(end) = self.enqueue(WsMessage::Ping(Vec::new().into())).await {
                        return end;
                    }
                }
            }
        }
    }

    /// Queues a message, waiting a bounded time for room.
    async fn enqueue(&self, msg: WsMessage) -> Result<(), End> {
        match tokio::time::timeout(ENQUEUE_TIMEOUT, self.out.send(msg)).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(_)) => Err(End::PeerGone),
            Err(_) => Err(End::Close(close::SLOW_CONSUMER, "not reading fast enough")),
        }
    }

    async fn send(&self, frame: &ServerFrame) -> Result<(), End> {
        self.enqueue(text(frame)).await
    }

    async fn send_error(&self, e: &ApiError, client_id: Option<String>) -> Result<(), End> {
        self.send(&ServerFrame::error(e.code, e.message.clone(), client_id))
            .await
    }

    /// Agents: count the connection, come online, listen to their sites' inbox streams.
    async fn start_agent(&mut self) -> Result<(), End> {
        let Principal::Agent(agent, _) = &self.principal else {
            return Ok(());
        };
        let agent = agent.clone();
        // Listen first, then check: a sign-out between the upgrade's check and now is seen.
        self.sign_outs = Some(self.state.hub.sign_outs());
        self.recheck_credential().await?;
        let sites = match self.state.store.list_agent_sites(agent.id).await {
            Ok(sites) => sites,
            Err(e) => return self.send_error(&e.into(), None).await,
        };
        for site in &sites {
            let rx = self.state.hub.subscribe(Topic::Site(site.id));
            self.subs
                .insert(Topic::Site(site.id), BroadcastStream::new(rx));
        }
        self.counted_online = true;
        if self.state.hub.agent_connected(agent.id)
            && agent.presence == Presence::Offline
            && let Err(e) = set_presence(&self.state, &agent, Presence::Online).await
        {
            tracing::warn!(agent = %agent.id, error = %e.message, "presence update failed");
        }
        Ok(())
    }

    /// A sign-out happened somewhere: if it was this agent's (or signals were missed), close
    /// when this connection's own session or token is no longer valid.
    async fn on_sign_out(
        &mut self,
        signal: Result<AgentId, broadcast::error::RecvError>,
    ) -> Result<(), End> {
        let Principal::Agent(agent, _) = &self.principal else {
            return Ok(());
        };
        match signal {
            Ok(id) if id == agent.id => self.recheck_credential().await,
            Ok(_) => Ok(()),
            Err(broadcast::error::RecvError::Lagged(_)) => self.recheck_credential().await,
            Err(broadcast::error::RecvError::Closed) => {
                self.sign_outs = None;
                Ok(())
            }
        }
    }

    async fn recheck_credential(&self) -> Result<(), End> {
        match &self.principal {
            Principal::Agent(_, method) if !AgentAuth::still_valid(&self.state, method).await => {
                Err(End::Close(close::UNAUTHENTICATED, "signed out"))
            }
            _ => Ok(()),
        }
    }

    /// Agents: the last connection going away takes the agent offline.
    async fn finish(&mut self) {
        let Principal::Agent(agent, _) = &self.principal else {
            return;
        };
        if !self.counted_online {
            return; // closed before it came online (its credential was already gone)
        }
        if self.state.hub.agent_disconnected(agent.id)
            && let Err(e) = set_presence(&self.state, agent, Presence::Offline).await
        {
            tracing::warn!(agent = %agent.id, error = %e.message, "presence update failed");
        }
    }

    async fn on_text(&mut self, text: &str) -> Result<(), End> {
        let frame = match ClientFrame::decode(text) {
            Ok(frame) => frame,
            Err(e) => {
                return self
                    .send(&ServerFrame::error(e.code(), e.to_string(), None))
                    .await;
            }
        };
        match frame {
            ClientFrame::Auth { .. } => {
                self.send(&ServerFrame::error(
                    "already_authenticated",
                    "this connection is signed in",
                    None,
                ))
                .await
            }
            ClientFrame::Ping { nonce } => self.send(&ServerFrame::Pong { nonce }).await,
            ClientFrame::Subscribe {
                conversation_id,
                after_seq,
            } => self.subscribe(conversation_id, after_seq).await,
            ClientFrame::Unsubscribe { conversation_id } => {
                self.subs.remove(&Topic::Conversation(conversation_id));
                self.last_sent.remove(&conversation_id);
                Ok(())
            }
            ClientFrame::Send {
                conversation_id,
                client_id,
                text,
                private,
                attachments,
                attachment_ids,
            } => {
                let out = Outgoing {
                    client_id: client_id.clone(),
                    text,
                    attachments,
                    attachment_ids,
                    private,
                };
                let sent = match self.may_write() {
                    Ok(()) => self.send_message(conversation_id, out).await,
                    Err(e) => Err(e),
                };
                match sent {
                    Ok(outcome) => {
                        let duplicate =
                            matches!(outcome, kefu_store::AppendOutcome::Duplicate { .. });
                        let message = outcome.message().clone();
                        self.send(&ServerFrame::Ack {
                            client_id,
                            message,
                            duplicate,
                        })
                        .await
                    }
                    Err(e) => self.send_error(&e, Some(client_id)).await,
                }
            }
            ClientFrame::Typing {
                conversation_id,
                typing,
            } => match self.may_write().map(|()| conversation_id) {
                Ok(id) => match self.authorize(id).await {
                    Ok(_) => {
                        let (author_kind, author_id, author_name) = self.author();
                        self.state.hub.publish(
                            Topic::Conversation(conversation_id),
                            ServerFrame::Typing {
                                conversation_id,
                                author_kind,
                                author_id,
                                author_name,
                                typing,
                            },
                        );
                        Ok(())
                    }
                    Err(e) => self.send_error(&e, None).await,
                },
                Err(e) => self.send_error(&e, None).await,
            },
            ClientFrame::Read {
                conversation_id,
                seq,
            } => {
                let result = async {
                    self.may_write()?;
                    self.authorize(conversation_id).await?;
                    let reader = self.author().0;
                    let seq = self
                        .state
                        .store
                        .mark_read(conversation_id, reader, seq)
                        .await?;
                    self.state.hub.publish(
                        Topic::Conversation(conversation_id),
                        ServerFrame::Read {
                            conversation_id,
                            reader,
                            seq,
                        },
                    );
                    Ok::<_, ApiError>(())
                }
                .await;
                match result {
                    Ok(()) => Ok(()),
                    Err(e) => self.send_error(&e, None).await,
                }
            }
        }
    }

    fn author(&self) -> (AuthorKind, Option<String>, Option<String>) {
        match &self.principal {
            Principal::Visitor(v) => (AuthorKind::Visitor, Some(v.id.to_string()), v.name.clone()),
            Principal::Agent(a, _) => (
                AuthorKind::Agent,
                Some(a.id.to_string()),
                Some(a.name.clone()),
            ),
        }
    }

    /// Refuses writes (send, typing, read marks) on a socket opened with an API token that
    /// lacks the `write` scope; such a socket may still subscribe and read.
    fn may_write(&self) -> ApiResult<()> {
        match &self.principal {
            Principal::Agent(_, method) => method.require_scope(Scope::Write),
            Principal::Visitor(_) => Ok(()),
        }
    }

    /// Loads a conversation the principal may access.
    async fn authorize(&mut self, id: ConversationId) -> ApiResult<Conversation> {
        let conversation = self.state.store.get_conversation(id).await?;
        let ok = match &self.principal {
            Principal::Visitor(v) => conversation.visitor_id == v.id,
            Principal::Agent(a, _) => {
                self.state
                    .store
                    .is_site_member(conversation.site_id, a.id)
                    .await?
            }
        };
        if !ok {
            return Err(match self.principal {
                Principal::Visitor(_) => {
                    ApiError::forbidden("this conversation belongs to someone else")
                }
                Principal::Agent(..) => ApiError::not_found("conversation"),
            });
        }
        self.allowed.insert(id);
        Ok(conversation)
    }

    async fn send_message(
        &mut self,
        id: ConversationId,
        out: Outgoing,
    ) -> ApiResult<kefu_store::AppendOutcome> {
        let conversation = self.authorize(id).await?;
        match &self.principal {
            Principal::Visitor(v) => {
                chat::messages::send_as_visitor(&self.state, v, &conversation, out).await
            }
            Principal::Agent(a, _) => {
                chat::messages::send_as_agent(&self.state, a, &conversation, out).await
            }
        }
    }

    async fn subscribe(&mut self, id: ConversationId, after_seq: i64) -> Result<(), End> {
        if let Err(e) = self.authorize(id).await {
            return self.send_error(&e, None).await;
        }
        // Listen first, then read the database: anything committed in between arrives live
        // as well, and the seq check drops the repeat.
        let rx = self.state.hub.subscribe(Topic::Conversation(id));
        self.subs
            .insert(Topic::Conversation(id), BroadcastStream::new(rx));
        self.last_sent.insert(id, after_seq.max(0));
        self.catch_up(id).await?;
        let last_seq = self.last_sent.get(&id).copied().unwrap_or(0);
        self.send(&ServerFrame::Synced {
            conversation_id: id,
            last_seq,
        })
        .await
    }

    /// Sends every committed entry after the last one delivered.
    async fn catch_up(&mut self, id: ConversationId) -> Result<(), End> {
        let include_private = self.is_agent();
        loop {
            let after = self.last_sent.get(&id).copied().unwrap_or(0);
            let page = match self
                .state
                .store
                .list_messages_after(id, after, CATCH_UP_PAGE, include_private)
                .await
            {
                Ok(page) => page,
                Err(e) => return self.send_error(&e.into(), None).await,
            };
            for message in page.items {
                let seq = message.seq;
                self.send(&ServerFrame::Message { message }).await?;
                self.last_sent.insert(id, seq);
            }
            if !page.has_more {
                return Ok(());
            }
        }
    }

    async fn deliver(&mut self, topic: Topic, frame: &ServerFrame) -> Result<(), End> {
        match (topic, frame) {
            (Topic::Conversation(id), ServerFrame::Message { message }) => {
                let Some(&last) = self.last_sent.get(&id) else {
                    return Ok(());
                };
                if message.seq <= last {
                    return Ok(());
                }
                if message.seq > last + 1 {
                    // An earlier entry's publish has not arrived yet (or never will, if its
                    // request died after commit): read the gap from the database.
                    self.catch_up(id).await?;
                    if self.last_sent.get(&id).copied().unwrap_or(0) >= message.seq {
                        return Ok(());
                    }
                }
                self.last_sent.insert(id, message.seq);
                if message.private && !self.is_agent() {
                    return Ok(());
                }
                self.send(frame).await
            }
            (Topic::Conversation(_), ServerFrame::Typing { author_id, .. }) => {
                if *author_id == self.author().1 {
                    return Ok(()); // no echo of one's own typing
                }
                self.send(frame).await
            }
            (Topic::Conversation(_), _) => self.send(frame).await,
            (Topic::Site(_), _) if self.is_agent() => self.send(frame).await,
            (Topic::Site(_), _) => Ok(()),
        }
    }
}
