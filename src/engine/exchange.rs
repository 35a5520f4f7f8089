//! The record of an exchange with the target, as reports show it: the request as sent (the target's own
//! headers first) and the response, with bodies cut to an excerpt.

use reqwest::Url;

use super::results::{Exchange, RecordedRequest, RecordedResponse, body_excerpt};
use crate::target::{NoResponse, PreparedRequest, Response, TargetClient};

/// Records a request as sent to `url` (target headers first), for reports.
pub(crate) fn record_request(
    client: &TargetClient,
    request: &PreparedRequest,
    url: &Url,
) -> RecordedRequest {
    let headers: Vec<(String, String)> = client
        .default_headers()
        .iter()
        .chain(request.headers.iter().map(|(n, v)| (n, v)))
        .map(|(name, value)| {
            (
                name.to_string(),
                String::from_utf8_lossy(value.as_bytes()).into_owned(),
            )
        })
        .collect();
    RecordedRequest {
        method: request.method.to_string(),
        url: url.to_string(),
        headers,
        body: request.body.as_deref().map(body_excerpt),
        body_bytes: request.body.as_deref().map_or(0, <[u8]>::len),
    }
}

pub(crate) fn record_response(response: &Response) -> RecordedResponse {
    RecordedResponse {
        status: response.status,
        headers: response
            .headers
            .iter()
            .map(|(name, value)| {
                (
                    name.to_string(),
                    String::from_utf8_lossy(value.as_bytes()).into_owned(),
                )
            })
            .collect(),
        body: body_excerpt(&response.body),
        body_bytes: response.body.len(),
    }
}

pub(crate) fn record(
    client: &TargetClient,
    request: &PreparedRequest,
    outcome: Result<&Response, &NoResponse>,
) -> Exchange {
    let url = match outcome {
        Ok(response) => &response.url,
        Err(no) => &no.url,
    };
    Exchange {
        request: record_request(client, request, url),
        response: outcome.ok().map(record_response),
        error: outcome
            .err()
            .map(|no| format!("{}: {}", no.summary, no.detail)),
    }
}
