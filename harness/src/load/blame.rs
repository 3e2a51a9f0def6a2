//! Who broke a run: the test (exit 2: nothing finished, every sign-in refused, the target never
//! answered) or the target (exit 1: every sign-in answered, but wrongly), so CI can tell "our
//! credentials are wrong" from "their server is broken".

use reports::load::LoadReport;

/// Why a run says nothing about the target's service level (exit 2, not 1): no request ever
/// finished, every sign-in was refused (the credentials are wrong, not the target), or the
/// target never answered at all.
pub(crate) fn broken_test(report: &LoadReport) -> Option<String> {
    if report.total_requests() == 0 {
        return Some("no request finished".into());
    }
    if let Some(sign_in) = failed_sign_in(report) {
        if sign_in
            .reasons
            .iter()
            .all(|r| scenarios::exchange::is_refusal(r))
        {
            let why = &sign_in.reasons[0];
            let why = why
                .strip_prefix(scenarios::exchange::REFUSED)
                .unwrap_or(why);
            return Some(format!(
                "every {} was refused ({why}): check {}",
                sign_in.step, sign_in.flag
            ));
        }
    }
    // Without a sign-in step (--aui-auth bearer:, header:, none) the refusal is on every route.
    let refused = |reason: &str| scenarios::exchange::is_refusal(reason);
    if report.total_errors() == report.total_requests()
        && !report.errors.is_empty()
        && report.errors.iter().all(|e| refused(&e.reason))
    {
        let why = &report.errors[0].reason;
        let why = why
            .strip_prefix(scenarios::exchange::REFUSED)
            .unwrap_or(why);
        return Some(format!(
            "every request was refused ({why}): check the credentials (--aui-auth, --aui-user, --duix-app, --alibaba-key)"
        ));
    }
    let unanswered =
        |reason: &str| reason.starts_with("cannot connect") || reason.starts_with("no answer");
    if report.total_errors() == report.total_requests()
        && report.errors.iter().all(|e| unanswered(&e.reason))
    {
        let why = report
            .errors
            .first()
            .map_or(String::new(), |e| e.reason.clone());
        return Some(format!("the target never answered ({why})"));
    }
    None
}

/// Why the target, not the test, broke where nothing could follow: every sign-in was answered,
/// but wrongly (a broken shape, a 5xx), so the run judged only that. Said on the verdict line.
pub(crate) fn broken_sign_in(report: &LoadReport) -> Option<String> {
    let sign_in = failed_sign_in(report)?;
    let refused = scenarios::exchange::is_refusal;
    if sign_in.reasons.iter().all(|r| refused(r)) {
        return None;
    }
    let answered = sign_in
        .reasons
        .iter()
        .find(|r| !refused(r) && !r.starts_with("cannot connect") && !r.starts_with("no answer"))?;
    Some(format!("every {} failed: {answered}", sign_in.step))
}

/// A platform's sign-in step where every request failed, with the reasons.
struct FailedSignIn {
    /// `login`, `checkSig`, `signed Alibaba call`.
    step: &'static str,
    /// The flag whose credentials the step uses.
    flag: &'static str,
    /// The failure reasons on those routes, most frequent first.
    reasons: Vec<String>,
}

/// A sign-in step: its name, the flag of its credentials, which routes are it.
type SignInStep = (&'static str, &'static str, fn(&str) -> bool);

/// The sign-in step of each platform (the AUI login, DUIX checkSig, and every Alibaba call,
/// each signed with the AccessKey) whose every request failed, if one did.
fn failed_sign_in(report: &LoadReport) -> Option<FailedSignIn> {
    let steps: [SignInStep; 3] = [
        ("login", "--aui-user", |r| {
            r.ends_with("/api/v2/aiagent/login")
        }),
        ("checkSig", "--duix-app", |r| r.ends_with("/checkSig")),
        ("signed Alibaba call", "--alibaba-key", |r| {
            r.starts_with("alibaba ")
        }),
    ];
    steps.into_iter().find_map(|(step, flag, is_sign_in)| {
        let routes: Vec<_> = report
            .routes
            .iter()
            .filter(|r| is_sign_in(&r.route))
            .collect();
        let count: u64 = routes.iter().map(|r| r.count).sum();
        let errors: u64 = routes.iter().map(|r| r.errors).sum();
        if count == 0 || errors < count {
            return None;
        }
        let reasons: Vec<String> = report
            .errors
            .iter()
            .filter(|e| is_sign_in(&e.route))
            .map(|e| e.reason.clone())
            .collect();
        (!reasons.is_empty()).then_some(FailedSignIn {
            step,
            flag,
            reasons,
        })
    })
}
