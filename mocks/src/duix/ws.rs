#![doc = include_str!("../../DUIX-SESSION.md")]

use super::answer::Piece;
use super::auth::Caller;
use super::envelope::ApiError;
use super::messages::{ClientMessage, ServerMessage};
use super::sessions::{Ending, SessionGuard, SessionInfo};
use super::webhook::WebhookRequest;
use super::Shared;
use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::response::Response;
use futures_util::SinkExt;
use protocol::duix::DuixError;
use serde_json::json;
use std::collections::VecDeque;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

/// Largest text frame the protocol reads; a longer one gets `error` `-1` and the session goes on.
pub const MAX_TEXT_BYTES: usize = 16 * 1024;
/// Largest WebSocket message at all; past it the connection is dropped.
pub const MAX_WS_MESSAGE: usize = 256 * 1024;
/// Most open WebSocket connections per server, sessions or not.
pub const MAX_CONNECTIONS: usize = 1024;
/// Questions waiting for the webhook per session; more get `error` `-1`.
pub const QUESTION_QUEUE: usize = 4;
/// Previous turns sent in `dh-context`.
pub const CONTEXT_TURNS: usize = 10;
/// How long the server waits for the client's close frame after its own.
const CLOSE_GRACE: Duration = Duration::from_secs(2);

/// Upgrades the connection; a refused `sig` or a full server is told over the socket, then closed.
pub fn accept(
    shared: Arc<Shared>,
    upgrade: WebSocketUpgrade,
    caller: Result<Caller, ApiError>,
) -> Response {
    let slot = ConnectionSlot::take(&shared);
    let upgrade = upgrade
        .max_message_size(MAX_WS_MESSAGE)
        .max_frame_size(MAX_WS_MESSAGE);
    upgrade.on_upgrade(move |mut socket| async move {
        match (caller, slot) {
            (Err(refused), _) => {
                let message = ServerMessage::Error {
                    code: refused.error.code.into(),
                    message: refused.message(),
                };
                refuse(&mut socket, message, Ending::TokenRefused, &shared).await;
            }
            (Ok(_), None) => {
                let message = ServerMessage::error(
                    DuixError::SYSTEM_ERROR,
                    format!("more than {MAX_CONNECTIONS} connections are open"),
                );
                refuse(&mut socket, message, Ending::Busy, &shared).await;
            }
            (Ok(caller), Some(slot)) => Connection::new(shared, caller, slot).run(socket).await,
        }
    })
}

/// Counts one open connection against [`MAX_CONNECTIONS`] while it lives.
struct ConnectionSlot(Arc<Shared>);

impl ConnectionSlot {
    fn take(shared: &Arc<Shared>) -> Option<Self> {
        let taken = shared
            .connections
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < MAX_CONNECTIONS).then_some(n + 1)
            });
        taken.ok().map(|_| ConnectionSlot(shared.clone()))
    }
}

impl Drop for ConnectionSlot {
    fn drop(&mut self) {
        self.0.connections.fetch_sub(1, Ordering::AcqRel);
    }
}

/// A started session: its slot in the registry and the task that asks the webhook.
struct Live {
    guard: SessionGuard,
    conversation_id: Option<String>,
    ended: oneshot::Receiver<Ending>,
    questions: mpsc::Sender<Question>,
    asker: JoinHandle<()>,
}

impl Drop for Live {
    /// No webhook call outlives its session.
    fn drop(&mut self) {
        self.asker.abort();
    }
}

struct Question {
    dh_code: String,
    text: String,
}

/// What one client frame (or event) asks the loop to do.
enum Step {
    Continue,
    Reply(ServerMessage),
    /// Send the error, then `bye` and close.
    Fail(ServerMessage, Ending),
    End(Ending),
    /// The client sent a close frame: answer it (the closing handshake) and stop.
    Closed,
    /// The client went away.
    Gone,
}

struct Connection {
    shared: Arc<Shared>,
    caller: Caller,
    session: Option<Live>,
    out_tx: mpsc::UnboundedSender<ServerMessage>,
    out_rx: mpsc::UnboundedReceiver<ServerMessage>,
    _slot: ConnectionSlot,
}

impl Connection {
    fn new(shared: Arc<Shared>, caller: Caller, slot: ConnectionSlot) -> Self {
        let (out_tx, out_rx) = mpsc::unbounded_channel();
        Self {
            shared,
            caller,
            session: None,
            out_tx,
            out_rx,
            _slot: slot,
        }
    }

    /// Serves frames, answers from the webhook task, and endings from the management API, in the
    /// order they come; the session leaves the registry when this returns.
    async fn run(mut self, mut socket: WebSocket) {
        loop {
            let step = tokio::select! {
                frame = socket.recv() => self.on_frame(frame),
                why = ended(&mut self.session) => Step::End(why),
                Some(message) = self.out_rx.recv() => Step::Reply(message),
            };
            let timeout = self.shared.ws_send_timeout;
            let ending = match step {
                Step::Continue => continue,
                Step::Reply(message) => match send(&mut socket, &message, timeout).await {
                    Ok(()) => continue,
                    Err(()) => return,
                },
                Step::Fail(message, why) => match send(&mut socket, &message, timeout).await {
                    Ok(()) => why,
                    Err(()) => return,
                },
                Step::End(why) => why,
                Step::Closed => {
                    // tungstenite queued the reply to the client's close frame; flush it
                    // (RFC 6455 §5.5.1), so that the client sees a clean close.
                    let _ = SinkExt::close(&mut socket).await;
                    return;
                }
                Step::Gone => return,
            };
            self.session = None;
            return close(&mut socket, ending, timeout).await;
        }
    }

    fn on_frame(&mut self, frame: Option<Result<Message, axum::Error>>) -> Step {
        let text = match frame {
            Some(Ok(Message::Text(text))) => text,
            Some(Ok(Message::Binary(_))) => {
                return Step::Reply(ServerMessage::bad_frame(
                    "binary frames are not part of this protocol; send JSON text",
                ))
            }
            Some(Ok(Message::Ping(_) | Message::Pong(_))) => return Step::Continue,
            Some(Ok(Message::Close(_))) => return Step::Closed,
            // The WebSocket layer refused a message (text that is not UTF-8, over
            // MAX_WS_MESSAGE, broken framing): say so while the socket can still carry it.
            Some(Err(e)) => {
                let error =
                    ServerMessage::bad_frame(format!("the WebSocket layer refused it: {e}"));
                return Step::Fail(error, Ending::BadFrame);
            }
            None => return Step::Gone,
        };
        if self.shared.clock.now_secs() >= self.caller.exp {
            let error = ServerMessage::error(
                DuixError::TOKEN_INVALID,
                "the sig this connection was opened with has expired",
            );
            return Step::Fail(error, Ending::TokenExpired);
        }
        match parse(text.as_str()) {
            Ok(ClientMessage::Start {
                conversation_id,
                user_id,
            }) => self.on_start(conversation_id, user_id),
            Ok(ClientMessage::Question {
                text,
                conversation_id,
            }) => self.on_question(text, conversation_id),
            Ok(ClientMessage::Stop {}) => Step::End(Ending::ClientStop),
            Err(reply) => Step::Reply(reply),
        }
    }

    fn on_start(&mut self, conversation_id: Option<String>, user_id: Option<String>) -> Step {
        if let Some(live) = &self.session {
            return Step::Reply(ServerMessage::bad_frame(format!(
                "session {} is already started",
                live.guard.id()
            )));
        }
        if conversation_id.as_deref() == Some("") || user_id.as_deref() == Some("") {
            return Step::Reply(ServerMessage::bad_frame(
                "conversationId and userId must not be empty",
            ));
        }
        if let Some(code) = &conversation_id {
            if self.shared.webhooks.target(code).is_none() {
                let error = ServerMessage::error(
                    DuixError::DIALOGUE_NOT_FOUND,
                    format!("no dialogue (webhook) for conversationId {code:?}"),
                );
                return Step::Fail(error, Ending::StartRefused);
            }
        }
        let app = &self.caller.app;
        let info = SessionInfo {
            session_id: uuid::Uuid::new_v4().to_string(),
            app_id: app.app_id.clone(),
            conversation_id: conversation_id.clone(),
            user_id,
            start_time: self.shared.clock.now_ms(),
        };
        let (guard, ended) = match self.shared.sessions.open(info, app.effective_quota()) {
            Ok(opened) => opened,
            Err(full) => {
                let detail = format!(
                    "app {} already holds its quota of {} sessions",
                    app.app_id, full.quota
                );
                return Step::Fail(
                    ServerMessage::error(DuixError::QUOTA_EXHAUSTED, detail),
                    Ending::StartRefused,
                );
            }
        };
        let session_id = guard.id().to_string();
        let (questions, queue) = mpsc::channel(QUESTION_QUEUE);
        let asker = Asker {
            shared: self.shared.clone(),
            session_id: session_id.clone(),
            sid: app.crop().to_string(),
            out: self.out_tx.clone(),
        };
        let asker = tokio::spawn(asker.run(queue));
        self.session = Some(Live {
            guard,
            conversation_id,
            ended,
            questions,
            asker,
        });
        Step::Reply(ServerMessage::StartComplete { session_id })
    }

    fn on_question(&mut self, text: String, conversation_id: Option<String>) -> Step {
        let Some(live) = &self.session else {
            return Step::Reply(ServerMessage::error(
                DuixError::SESSION_NOT_FOUND,
                "no session yet: send start first",
            ));
        };
        if text.trim().is_empty() {
            return Step::Reply(ServerMessage::bad_frame("question text is empty"));
        }
        let dh_code = match (conversation_id, &live.conversation_id) {
            (Some(asked), Some(own)) if asked != *own => {
                let detail = format!("conversationId {asked:?} is not this session's ({own:?})");
                return Step::Reply(ServerMessage::error(DuixError::DIALOGUE_NOT_FOUND, detail));
            }
            (Some(asked), _) => asked,
            (None, Some(own)) => own.clone(),
            (None, None) => {
                let detail = "no conversationId: name one in start or in the question";
                return Step::Reply(ServerMessage::error(DuixError::DIALOGUE_NOT_FOUND, detail));
            }
        };
        match live.questions.try_send(Question { dh_code, text }) {
            Ok(()) => Step::Continue,
            Err(_) => Step::Reply(ServerMessage::bad_frame(format!(
                "{QUESTION_QUEUE} questions are already waiting for an answer"
            ))),
        }
    }
}

/// A client frame as a message, or the `error` that says why it is not one.
pub fn parse(text: &str) -> Result<ClientMessage, ServerMessage> {
    if text.len() > MAX_TEXT_BYTES {
        return Err(ServerMessage::bad_frame(format!(
            "frame is longer than {MAX_TEXT_BYTES} bytes"
        )));
    }
    let value: serde_json::Value = serde_json::from_str(text)
        .map_err(|e| ServerMessage::bad_frame(format!("frame is not JSON ({e})")))?;
    serde_json::from_value(value).map_err(|e| {
        ServerMessage::bad_frame(format!(
            "{e}; expected {{\"type\": \"start\" | \"question\" | \"stop\", ...}}"
        ))
    })
}

/// Resolves when something outside the socket ends the session; never without a session.
async fn ended(session: &mut Option<Live>) -> Ending {
    match session {
        // The registry always sends before it drops the sender.
        Some(live) => (&mut live.ended).await.unwrap_or(Ending::Reset),
        None => std::future::pending().await,
    }
}

/// Sends one message; an error when the client has gone, or has not read it within `timeout`
/// (its buffers are full): either way the caller drops the connection, and the session with it.
async fn send(
    socket: &mut WebSocket,
    message: &ServerMessage,
    timeout: Duration,
) -> Result<(), ()> {
    send_frame(socket, Message::text(message.to_text()), timeout).await
}

async fn send_frame(socket: &mut WebSocket, frame: Message, timeout: Duration) -> Result<(), ()> {
    match tokio::time::timeout(timeout, socket.send(frame)).await {
        Ok(sent) => sent.map_err(|_| ()),
        Err(_) => {
            tracing::info!("dropping a WebSocket client that has not read for {timeout:?}");
            Err(())
        }
    }
}

async fn refuse(socket: &mut WebSocket, error: ServerMessage, why: Ending, shared: &Shared) {
    let timeout = shared.ws_send_timeout;
    if send(socket, &error, timeout).await.is_ok() {
        close(socket, why, timeout).await;
    }
}

/// `bye`, the close frame, then a short wait for the client's close frame.
async fn close(socket: &mut WebSocket, why: Ending, timeout: Duration) {
    let bye = ServerMessage::Bye {
        reason: why.reason().into(),
    };
    if send(socket, &bye, timeout).await.is_err() {
        return;
    }
    let frame = CloseFrame {
        code: why.close_code(),
        reason: why.reason().into(),
    };
    if send_frame(socket, Message::Close(Some(frame)), timeout)
        .await
        .is_err()
    {
        return;
    }
    let _ = tokio::time::timeout(CLOSE_GRACE, async {
        while let Some(Ok(_)) = socket.recv().await {}
    })
    .await;
}

/// Asks the webhook one question at a time, so that answers arrive in order, and keeps the turns
/// for `dh-context`.
struct Asker {
    shared: Arc<Shared>,
    session_id: String,
    sid: String,
    out: mpsc::UnboundedSender<ServerMessage>,
}

impl Asker {
    async fn run(self, mut queue: mpsc::Receiver<Question>) {
        let mut turns: VecDeque<serde_json::Value> = VecDeque::new();
        while let Some(question) = queue.recv().await {
            let request = WebhookRequest {
                sid: self.sid.clone(),
                dh_code: question.dh_code,
                dh_question: question.text.clone(),
                dh_conversation_id: self.session_id.clone(),
                dh_context: context(&turns),
            };
            let (out, session_id) = (&self.out, self.session_id.as_str());
            let mut on_piece = |piece: Piece, ms: u64| {
                let _ = out.send(ServerMessage::answer(session_id, piece, ms));
            };
            match self.shared.webhooks.ask(&request, &mut on_piece).await {
                Ok(answer) => {
                    if turns.len() == CONTEXT_TURNS {
                        turns.pop_front();
                    }
                    turns.push_back(json!({"question": question.text, "answer": answer}));
                }
                Err(e) => {
                    let _ = self.out.send(ServerMessage::error(e.code(), &e));
                }
            }
        }
    }
}

/// `"{}"` before the first answer (seed 003's example), then a JSON string of the last turns.
fn context(turns: &VecDeque<serde_json::Value>) -> String {
    if turns.is_empty() {
        return "{}".into();
    }
    json!({ "turns": turns }).to_string()
}
