//! The sessions in call, and the counts getconcurrentNumber reports.
//!
//! One lock over a map from session id to the session and the one-shot channel that ends it. A
//! session enters the map when its WebSocket says `start` (if the app's quota allows) and leaves
//! it when sessionStop, distroyCallSessionsByAppId or a reset ends it, or when its socket goes
//! away ([`SessionGuard`] removes it on drop, so a dropped connection never leaks a slot). The lock
//! is never held across an await.

use serde::Serialize;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use tokio::sync::oneshot;

/// Why a session (or a connection without one) ended: what the client sees in `bye` and in the
/// close frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ending {
    /// The client sent `stop`.
    ClientStop,
    /// sessionStop named this session.
    SessionStop,
    /// distroyCallSessionsByAppId ended every session of the app.
    Destroyed,
    /// `/__admin/reset`.
    Reset,
    /// The virtual clock passed the token's `exp` during the session.
    TokenExpired,
    /// The `sig` was refused at connect (1005, 1006, 40001).
    TokenRefused,
    /// `start` was refused (1009 quota, 1007 unknown dialogue).
    StartRefused,
    /// The server holds too many connections already.
    Busy,
    /// The WebSocket layer refused a frame (text that is not UTF-8, a message too large).
    BadFrame,
}

impl Ending {
    /// The `bye` reason.
    pub fn reason(self) -> &'static str {
        match self {
            Ending::ClientStop => "client-stop",
            Ending::SessionStop => "session-stop",
            Ending::Destroyed => "destroyed",
            Ending::Reset => "reset",
            Ending::TokenExpired => "token-expired",
            Ending::TokenRefused => "token-invalid",
            Ending::StartRefused => "start-refused",
            Ending::Busy => "busy",
            Ending::BadFrame => "bad-frame",
        }
    }

    /// The WebSocket close code: 1000 for a normal stop, 4000-range otherwise.
    pub fn close_code(self) -> u16 {
        match self {
            Ending::ClientStop => 1000,
            Ending::SessionStop => 4000,
            Ending::Destroyed => 4001,
            Ending::Reset => 4002,
            Ending::TokenRefused => 4005,
            Ending::TokenExpired => 4006,
            Ending::StartRefused => 4009,
            Ending::Busy => 1013,
            // RFC 6455 §7.4.1: data inconsistent with the message type (non-UTF-8 text).
            Ending::BadFrame => 1007,
        }
    }
}

/// A session in call, as getconcurrentList shows it.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionInfo {
    pub session_id: String,
    pub app_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub conversation_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
    /// Virtual-clock milliseconds since the epoch.
    pub start_time: i64,
}

struct Entry {
    info: SessionInfo,
    end: oneshot::Sender<Ending>,
}

/// Every session in call, across apps.
#[derive(Default)]
pub struct Sessions {
    inner: Mutex<HashMap<String, Entry>>,
}

/// The app has no session left.
#[derive(Debug)]
pub struct QuotaUsedUp {
    pub quota: usize,
}

impl Sessions {
    fn lock(&self) -> MutexGuard<'_, HashMap<String, Entry>> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Opens a session unless the app already holds `quota`; `info.session_id` must be fresh.
    /// The receiver fires when something other than the socket ends the session.
    pub fn open(
        self: &Arc<Self>,
        info: SessionInfo,
        quota: usize,
    ) -> Result<(SessionGuard, oneshot::Receiver<Ending>), QuotaUsedUp> {
        let mut map = self.lock();
        let held = map
            .values()
            .filter(|e| e.info.app_id == info.app_id)
            .count();
        if held >= quota {
            return Err(QuotaUsedUp { quota });
        }
        let (end, ended) = oneshot::channel();
        let id = info.session_id.clone();
        map.insert(id.clone(), Entry { info, end });
        let guard = SessionGuard {
            sessions: self.clone(),
            id,
        };
        Ok((guard, ended))
    }

    /// Ends one session of `app_id`; false when it has no such session.
    pub fn stop(&self, app_id: &str, session_id: &str, why: Ending) -> bool {
        let mut map = self.lock();
        match map.get(session_id) {
            Some(entry) if entry.info.app_id == app_id => {}
            _ => return false,
        }
        if let Some(entry) = map.remove(session_id) {
            // The socket may be gone already; then there is nobody to tell.
            let _ = entry.end.send(why);
        }
        true
    }

    /// Ends every session of `app_id`, or of every app when `None`; answers how many.
    pub fn stop_all(&self, app_id: Option<&str>, why: Ending) -> usize {
        let mut map = self.lock();
        let ids: Vec<String> = map
            .values()
            .filter(|e| app_id.is_none_or(|app| e.info.app_id == app))
            .map(|e| e.info.session_id.clone())
            .collect();
        for id in &ids {
            if let Some(entry) = map.remove(id) {
                let _ = entry.end.send(why);
            }
        }
        ids.len()
    }

    /// (sessions of `app_id`, sessions of every app).
    pub fn counts(&self, app_id: &str) -> (usize, usize) {
        let map = self.lock();
        let mine = map.values().filter(|e| e.info.app_id == app_id).count();
        (mine, map.len())
    }

    /// The sessions of `app_id`, oldest first.
    pub fn list(&self, app_id: &str) -> Vec<SessionInfo> {
        let map = self.lock();
        let mut list: Vec<SessionInfo> = map
            .values()
            .filter(|e| e.info.app_id == app_id)
            .map(|e| e.info.clone())
            .collect();
        list.sort_by(|a, b| (a.start_time, &a.session_id).cmp(&(b.start_time, &b.session_id)));
        list
    }
}

/// Held by the socket task for as long as its session is open; removes it on drop.
pub struct SessionGuard {
    sessions: Arc<Sessions>,
    id: String,
}

impl SessionGuard {
    /// The session id (a UUID).
    pub fn id(&self) -> &str {
        &self.id
    }
}

impl Drop for SessionGuard {
    fn drop(&mut self) {
        self.sessions.lock().remove(&self.id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(app: &str, id: &str) -> SessionInfo {
        SessionInfo {
            session_id: id.into(),
            app_id: app.into(),
            conversation_id: None,
            user_id: None,
            start_time: 0,
        }
    }

    #[test]
    fn quota_counts_only_the_apps_own_sessions_and_frees_on_drop() {
        let sessions = Arc::new(Sessions::default());
        let (a1, _r1) = sessions.open(info("a", "1"), 1).unwrap();
        let (_b1, _r2) = sessions.open(info("b", "2"), 1).unwrap();
        assert!(sessions.open(info("a", "3"), 1).is_err());
        assert_eq!(sessions.counts("a"), (1, 2));
        drop(a1);
        assert_eq!(sessions.counts("a"), (0, 1));
        assert!(sessions.open(info("a", "4"), 1).is_ok());
    }

    #[test]
    fn stop_tells_the_socket_and_only_matches_the_owning_app() {
        let sessions = Arc::new(Sessions::default());
        let (_guard, mut ended) = sessions.open(info("a", "1"), 2).unwrap();
        assert!(!sessions.stop("b", "1", Ending::SessionStop));
        assert!(sessions.stop("a", "1", Ending::SessionStop));
        assert_eq!(ended.try_recv(), Ok(Ending::SessionStop));
        assert_eq!(sessions.counts("a"), (0, 0));
    }
}
