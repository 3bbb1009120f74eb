//! Reading the Prometheus metrics of a test server.

use reqwest::StatusCode;

use super::{Auth, TestServer};

/// The value of the sample `name{labels}` (labels as rendered) in a scrape, if
/// present.
pub fn metric_sample(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find_map(|line| line.strip_prefix(series)?.strip_prefix(' '))
        .and_then(|value| value.trim().parse().ok())
}

/// `GET /metrics` with the operator's `token`, which must be answered.
pub fn scrape_metrics(server: &TestServer, token: &str) -> String {
    let response = server.get("/metrics", Auth::Bearer(token));
    assert_eq!(response.status(), StatusCode::OK);
    response.text().expect("the metrics")
}
