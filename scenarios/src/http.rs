//! A scenario for any HTTP server: each user GETs the target URL again and again. It measures
//! the load generator itself (scripts/bench runs it against a bare hyper server beside wrk), so
//! it does the least a scenario can: the whole answer read and timed, status 200 and a JSON body
//! checked, no schema.

use crate::exchange::{send, Expect, ANY_JSON};
use crate::{step, Plan};
use goose::goose::{GooseUser, Scenario, TransactionResult};
use protocol::request::HttpRequest;
use std::sync::Arc;

/// The route the scenario's requests are timed under.
pub const ROUTE: &str = "http GET /";

/// `http-get`: one GET of the target URL per transaction.
pub fn get(plan: &Arc<Plan>) -> Scenario {
    Scenario::new("http-get").register_transaction(step!(plan, "GET", get_once))
}

async fn get_once(user: &mut GooseUser, plan: &Plan) -> TransactionResult {
    let base = plan.target("http").map_err(crate::aui::custom)?;
    let request = HttpRequest {
        method: "GET",
        path_and_query: String::new(),
        headers: Vec::new(),
        body: Vec::new(),
        route: ROUTE.to_string(),
    };
    let expect = Expect {
        status: 200,
        schema: ANY_JSON,
        success: &|_| Ok(()),
        sse_event: None,
    };
    send(user, plan, base, request, &expect).await?;
    Ok(())
}
