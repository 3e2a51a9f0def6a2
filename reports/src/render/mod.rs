//! Renderers of a [`Run`](crate::model::Run): each module has one `fn render(&Run) -> String`.
//!
//! * [`json`]: the machine-readable report, valid against [`crate::schema::RUN_SCHEMA`];
//! * [`junit`]: JUnit XML for CI test tabs, a testcase per case and per route SLO;
//! * [`markdown`]: a summary fit for a CI step summary (`$GITHUB_STEP_SUMMARY`);
//! * [`html`]: one self-contained page with inline CSS and SVG latency charts.
//!
//! A load run ([`crate::load::LoadReport`]) has its own renderers in [`load`].
//!
//! All text from the run is escaped by the shared `escape` helpers.

pub mod escape;
pub mod html;
pub mod json;
pub mod junit;
pub mod load;
pub mod markdown;

/// Milliseconds as reports print them: two decimals under 10 ms, one above.
pub(crate) fn ms(value: f64) -> String {
    if value < 10.0 {
        format!("{value:.2}")
    } else {
        format!("{value:.1}")
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn milliseconds_keep_the_digit_that_matters_at_the_slo() {
        assert_eq!(super::ms(1999.871), "1999.9");
        assert_eq!(super::ms(0.123), "0.12");
    }
}
