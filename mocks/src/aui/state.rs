//! What every AUI handler shares: the configuration, the virtual clock, the ICE client and the
//! bearer-token key. None of it changes after start.
//!
//! The app server keeps no per-user or per-call state of its own, like the Java server it mirrors:
//! bearer tokens verify themselves (HS256 with an expiry), RTC tokens are computed, and agent
//! instances live upstream in ICE. So `/__admin/reset` has nothing to forget here; resetting the
//! Alibaba mock forgets the instances.

use super::config::AuiConfig;
use super::upstream::Upstream;
use crate::clock::VirtualClock;
use rand::RngCore;
use sha2::Digest;

/// Shared by the AUI routes, behind an `Arc`.
pub struct AuiState {
    pub config: AuiConfig,
    pub clock: VirtualClock,
    pub upstream: Upstream,
    /// HMAC key of the bearer tokens: the configured secret, or 32 random bytes when it is empty.
    pub jwt_key: Vec<u8>,
    /// The SHA-256 of each further user's password (`[aui] users`), by user name.
    pub users: std::collections::HashMap<String, [u8; 32]>,
}

impl AuiState {
    /// Builds the ICE client once, for the life of the server; with `alibaba`, the Alibaba mock
    /// this process serves at the upstream endpoint, it is called without a socket.
    pub fn new(config: AuiConfig, clock: VirtualClock, alibaba: Option<axum::Router>) -> Self {
        let jwt_key = if config.jwt_secret.is_empty() {
            let mut key = vec![0u8; 32];
            rand::thread_rng().fill_bytes(&mut key);
            key
        } else {
            config.jwt_secret.as_bytes().to_vec()
        };
        let upstream = match alibaba {
            Some(app) => Upstream::in_process(config.upstream.clone(), clock.clone(), app),
            None => Upstream::new(config.upstream.clone(), clock.clone()),
        };
        let users = config
            .users
            .iter()
            .map(|u| (u.user.clone(), sha2::Sha256::digest(&u.password).into()))
            .collect();
        Self {
            users,
            config,
            clock,
            upstream,
            jwt_key,
        }
    }

    /// Unix seconds by the virtual clock.
    pub fn now_secs(&self) -> i64 {
        self.clock.now_secs()
    }
}
