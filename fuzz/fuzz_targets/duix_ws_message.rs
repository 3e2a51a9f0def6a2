//! The DUIX session WebSocket's frame decoder: a text frame through `mocks::duix::ws::parse` (the
//! size cap, JSON, then `ClientMessage`'s strict `type`-tagged form), and the `error` frame sent
//! back for a bad one, which must itself be a JSON `error` message.
//!
//! Input: the text frame (the WebSocket layer refuses text frames that are not UTF-8, so such
//! inputs are skipped).

#![no_main]

use libfuzzer_sys::fuzz_target;
use mocks::duix::messages::ClientMessage;
use mocks::duix::ws::parse;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match parse(text) {
        Ok(
            ClientMessage::Start { .. } | ClientMessage::Question { .. } | ClientMessage::Stop {},
        ) => {}
        Err(reply) => {
            let frame = reply.to_text();
            let json: serde_json::Value =
                serde_json::from_str(&frame).expect("the error frame is JSON");
            assert_eq!(json["type"], "error", "{frame}");
        }
    }
});
