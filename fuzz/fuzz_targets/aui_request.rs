//! The AUI app server's request decoder: the body through `Fields::parse` (the JSON object every
//! handler reads), then the field reads each route's handler makes, in the handler's order and
//! with its limits (mocks/src/aui/handlers/*.rs, and `login` in auth.rs). A refusal must be an
//! `AuiError` with a 4xx status.
//!
//! Input: one byte choosing the route, then the body.

#![no_main]

use libfuzzer_sys::fuzz_target;
use mocks::aui::fuzzing::{Fields, EXPIRE_RANGE, MAX_ID_CHARS, MAX_SESSION_ID_CHARS};
use mocks::aui::AuiError;

fuzz_target!(|data: &[u8]| {
    let Some((&route, body)) = data.split_first() else {
        return;
    };
    let read = match route % 9 {
        0 => login,
        1 => get_rtc_auth_token,
        2 => generate_message_chat_token,
        3 => describe,
        4 => start,
        5 => start_with_channel,
        6 => stop,
        7 => update,
        _ => generate_call,
    };
    if let Err(error) = Fields::parse(body).and_then(|fields| read(&fields)) {
        assert!(
            error.status.is_client_error(),
            "bad input must be a 4xx: {error:?}"
        );
    }
});

type Read = Result<(), AuiError>;

fn login(f: &Fields) -> Read {
    f.req_str("username", 256)?;
    f.req_str("password", 256)?;
    Ok(())
}

fn get_rtc_auth_token(f: &Fields) -> Read {
    f.user_id(true)?;
    f.channel_id(false)?;
    Ok(())
}

fn generate_message_chat_token(f: &Fields) -> Read {
    f.id("ai_agent_id", MAX_ID_CHARS, true)?;
    f.user_id(true)?;
    f.opt_str("role", 64)?;
    f.int("expire", EXPIRE_RANGE)?;
    f.region(false)?;
    Ok(())
}

fn describe(f: &Fields) -> Read {
    f.user_id(true)?;
    f.id("ai_agent_instance_id", MAX_ID_CHARS, true)?;
    f.region(false)?;
    Ok(())
}

/// The optional fields both start routes pass on (`Extras::read`).
fn extras(f: &Fields) -> Read {
    f.json_object("template_config", false)?;
    f.user_data()?;
    f.id("session_id", MAX_SESSION_ID_CHARS, false)?;
    f.json_object("chat_sync_config", false)?;
    Ok(())
}

fn start(f: &Fields) -> Read {
    f.user_id(true)?;
    f.workflow(true)?;
    extras(f)
}

fn start_with_channel(f: &Fields) -> Read {
    f.user_id(true)?;
    f.id("ai_agent_id", MAX_ID_CHARS, true)?;
    f.channel_id(true)?;
    f.workflow(true)?;
    f.region(true)?;
    extras(f)
}

fn stop(f: &Fields) -> Read {
    f.id("ai_agent_instance_id", MAX_ID_CHARS, true)?;
    f.region(false)?;
    Ok(())
}

fn update(f: &Fields) -> Read {
    f.id("ai_agent_instance_id", MAX_ID_CHARS, true)?;
    f.json_object("template_config", true)?;
    f.user_data()?;
    f.region(false)?;
    Ok(())
}

fn generate_call(f: &Fields) -> Read {
    f.workflow(false)?;
    f.id("ai_agent_id", MAX_ID_CHARS, false)?;
    f.user_id(false)?;
    f.int("expire", EXPIRE_RANGE)?;
    f.json_object("template_config", true)?;
    f.user_data()?;
    f.id("session_id", MAX_SESSION_ID_CHARS, false)?;
    f.json_object("chat_sync_config", false)?;
    f.region(false)?;
    Ok(())
}
