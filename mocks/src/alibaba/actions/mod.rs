//! The ten APIs the mock serves, and the typed view of a request's parameters they read.
//!
//! [`Action`] names each API and its product; [`dispatch`] runs one admitted request against the
//! state. Handlers live in [`rtc`] (StartAgent family) and [`ice`] (AI-agent instances); each
//! returns the JSON answer without `RequestId`, which [`dispatch`] adds.

pub mod ice;
pub mod rtc;

use super::state::{State, MAX_CONFIG_BYTES};
use protocol::alibaba::ApiError;
use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// The two products behind the one endpoint, told apart by their API version.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Product {
    /// RTC, version 2018-01-11.
    Rtc,
    /// ICE / IMS, version 2020-11-09.
    Ice,
}

impl Product {
    /// The product serving `version`, if any.
    pub fn from_version(version: &str) -> Option<Self> {
        match version {
            "2018-01-11" => Some(Product::Rtc),
            "2020-11-09" => Some(Product::Ice),
            _ => None,
        }
    }

    /// `rtc` or `ice`, as in `Recommend` links.
    pub fn code(self) -> &'static str {
        match self {
            Product::Rtc => "rtc",
            Product::Ice => "ice",
        }
    }
}

/// One API the mock serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    StartAgent,
    StopAgent,
    UpdateAgent,
    GetAgent,
    StartAIAgentInstance,
    StopAIAgentInstance,
    UpdateAIAgentInstance,
    DescribeAIAgentInstance,
    GenerateAIAgentCall,
    GenerateMessageChatToken,
}

impl Action {
    /// Every action, RTC first.
    pub const ALL: [Action; 10] = [
        Action::StartAgent,
        Action::StopAgent,
        Action::UpdateAgent,
        Action::GetAgent,
        Action::StartAIAgentInstance,
        Action::StopAIAgentInstance,
        Action::UpdateAIAgentInstance,
        Action::DescribeAIAgentInstance,
        Action::GenerateAIAgentCall,
        Action::GenerateMessageChatToken,
    ];

    /// The wire name, e.g. `StartAgent`.
    pub fn name(self) -> &'static str {
        match self {
            Action::StartAgent => "StartAgent",
            Action::StopAgent => "StopAgent",
            Action::UpdateAgent => "UpdateAgent",
            Action::GetAgent => "GetAgent",
            Action::StartAIAgentInstance => "StartAIAgentInstance",
            Action::StopAIAgentInstance => "StopAIAgentInstance",
            Action::UpdateAIAgentInstance => "UpdateAIAgentInstance",
            Action::DescribeAIAgentInstance => "DescribeAIAgentInstance",
            Action::GenerateAIAgentCall => "GenerateAIAgentCall",
            Action::GenerateMessageChatToken => "GenerateMessageChatToken",
        }
    }

    /// The action with this exact wire name.
    pub fn from_name(name: &str) -> Option<Self> {
        Action::ALL.into_iter().find(|a| a.name() == name)
    }

    /// The product that serves it.
    pub fn product(self) -> Product {
        match self {
            Action::StartAgent | Action::StopAgent | Action::UpdateAgent | Action::GetAgent => {
                Product::Rtc
            }
            _ => Product::Ice,
        }
    }
}

/// A request's parameters after the gateway: query and body merged, each key once.
#[derive(Debug, Clone, Default)]
pub struct Params(BTreeMap<String, String>);

impl Params {
    /// Wraps already de-duplicated pairs.
    pub fn new(map: BTreeMap<String, String>) -> Self {
        Params(map)
    }

    /// The raw value, if present (empty strings included).
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str)
    }

    /// A value that is present and not empty.
    pub fn optional(&self, name: &str) -> Option<&str> {
        self.get(name).filter(|v| !v.is_empty())
    }

    /// A value that must be present and not empty (`Missing{name}` otherwise).
    pub fn required(&self, name: &str) -> Result<&str, ApiError> {
        self.optional(name)
            .ok_or_else(|| ApiError::missing_parameter(name))
    }

    /// A nested object sent as a JSON string; broken JSON or a non-object names the parameter.
    pub fn object(&self, name: &str) -> Result<Option<Map<String, Value>>, ApiError> {
        let Some(raw) = self.optional(name) else {
            return Ok(None);
        };
        if raw.len() > MAX_CONFIG_BYTES {
            let detail = format!("must be at most {MAX_CONFIG_BYTES} bytes of JSON");
            return Err(ApiError::invalid_parameter(name, &detail));
        }
        match serde_json::from_str::<Value>(raw) {
            Ok(Value::Object(map)) => Ok(Some(map)),
            Ok(_) => Err(ApiError::invalid_parameter(name, "must be a JSON object")),
            Err(e) => Err(ApiError::invalid_parameter(
                name,
                &format!("is not valid JSON ({e})"),
            )),
        }
    }

    /// An integer in `[min, max]`, or `default` when absent.
    pub fn int_in(&self, name: &str, default: i64, min: i64, max: i64) -> Result<i64, ApiError> {
        let Some(raw) = self.optional(name) else {
            return Ok(default);
        };
        let value: i64 = raw.trim().parse().map_err(|_| {
            ApiError::invalid_parameter(name, &format!("must be an integer, got {raw:?}"))
        })?;
        if !(min..=max).contains(&value) {
            let detail = format!("must be in [{min},{max}], got {value}");
            return Err(ApiError::invalid_parameter(name, &detail));
        }
        Ok(value)
    }
}

/// Runs `action`; the answer gets the request id added.
pub fn dispatch(
    action: Action,
    params: &Params,
    state: &mut State,
    ctx: &ActionContext<'_>,
) -> Result<Value, ApiError> {
    let mut answer = match action.product() {
        Product::Rtc => rtc::handle(action, params, state, ctx)?,
        Product::Ice => ice::handle(action, params, state, ctx)?,
    };
    if let Value::Object(map) = &mut answer {
        map.insert(
            "RequestId".into(),
            Value::String(ctx.request_id.to_string()),
        );
    }
    Ok(answer)
}

/// What handlers may read besides the params: now, the request id, the allowed RTC apps, the
/// request's host.
#[derive(Debug, Clone, Copy)]
pub struct ActionContext<'a> {
    pub now_ms: i64,
    pub request_id: &'a str,
    /// `None` accepts any AppId.
    pub rtc_app_ids: Option<&'a [String]>,
    /// The request's `Host`: DescribeAIAgentInstance's `CallLogUrl` points at this mock.
    pub host: Option<&'a str>,
}
