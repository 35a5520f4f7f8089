//! The two layers every route runs behind, written as plain services so that a request needing neither
//! costs no boxing: bodies nobody reads are drained (so the connection stays in step), and panics become
//! JSON 500s.

use std::convert::Infallible;
use std::panic::AssertUnwindSafe;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::{Body, HttpBody};
use axum::extract::Request;
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use futures_util::FutureExt;
use futures_util::future::{BoxFuture, CatchUnwind, Either, Map, Ready, ready};
use tower::{Layer, Service};

use crate::errors::Boom;

/// Drains the body of every request but a `POST` (only `POST` handlers read bodies) before it is handled,
/// so a `GET` or `DELETE` with a body does not leave the connection out of step. A request without a
/// body, nearly every one, goes straight through.
#[derive(Debug, Clone, Copy)]
pub(crate) struct DiscardUnreadBodiesLayer {
    pub(crate) limit_bytes: usize,
    pub(crate) timeout: Duration,
}

impl<S> Layer<S> for DiscardUnreadBodiesLayer {
    type Service = DiscardUnreadBodies<S>;

    fn layer(&self, inner: S) -> DiscardUnreadBodies<S> {
        DiscardUnreadBodies {
            inner,
            limit_bytes: self.limit_bytes,
            timeout: self.timeout,
        }
    }
}

#[derive(Debug, Clone)]
pub(crate) struct DiscardUnreadBodies<S> {
    inner: S,
    limit_bytes: usize,
    timeout: Duration,
}

impl<S> Service<Request> for DiscardUnreadBodies<S>
where
    S: Service<Request, Response = Response, Error = Infallible> + Clone + Send + 'static,
    S::Future: Send + 'static,
{
    type Response = Response;
    type Error = Infallible;
    type Future = Either<S::Future, BoxFuture<'static, Result<Response, Infallible>>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request) -> Self::Future {
        if request.method() == Method::POST || request.body().is_end_stream() {
            return Either::Left(self.inner.call(request));
        }
        // The service that was made ready goes with this request; its clone serves the next.
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let (limit_bytes, timeout) = (self.limit_bytes, self.timeout);
        Either::Right(Box::pin(async move {
            let (parts, body) = request.into_parts();
            let drained = crate::body::discard(body, limit_bytes, timeout).await;
            let response = inner
                .call(Request::from_parts(parts, Body::empty()))
                .await?;
            Ok(close_unless(drained, response))
        }))
    }
}

/// Says `Connection: close` on `response` unless the body was read, so the client does not reuse a
/// connection the server will close.
pub(crate) fn close_unless(drained: bool, mut response: Response) -> Response {
    if !drained {
        response
            .headers_mut()
            .insert(header::CONNECTION, HeaderValue::from_static("close"));
    }
    response
}

/// Turns a panic in a handler into a JSON 500, so a bug answers like any other error instead of
/// dropping the connection.
#[derive(Debug, Clone, Copy)]
pub(crate) struct CatchPanicLayer;

impl<S> Layer<S> for CatchPanicLayer {
    type Service = CatchPanic<S>;

    fn layer(&self, inner: S) -> CatchPanic<S> {
        CatchPanic { inner }
    }
}

#[derive(Debug, Clone)]
pub(crate) struct CatchPanic<S> {
    inner: S,
}

type Outcome = Result<Result<Response, Infallible>, Box<dyn std::any::Any + Send>>;

impl<S, R> Service<R> for CatchPanic<S>
where
    S: Service<R, Response = Response, Error = Infallible>,
{
    type Response = Response;
    type Error = Infallible;
    type Future = Either<
        Map<CatchUnwind<AssertUnwindSafe<S::Future>>, fn(Outcome) -> Result<Response, Infallible>>,
        Ready<Result<Response, Infallible>>,
    >;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: R) -> Self::Future {
        match std::panic::catch_unwind(AssertUnwindSafe(|| self.inner.call(request))) {
            Ok(future) => Either::Left(
                AssertUnwindSafe(future)
                    .catch_unwind()
                    .map(settle as fn(Outcome) -> Result<Response, Infallible>),
            ),
            Err(_panic) => Either::Right(ready(Ok(panic_response()))),
        }
    }
}

/// The handler's answer, or a 500 if it panicked.
fn settle(outcome: Outcome) -> Result<Response, Infallible> {
    match outcome {
        Ok(answer) => answer,
        Err(_panic) => Ok(panic_response()),
    }
}

fn panic_response() -> Response {
    Boom::new(
        StatusCode::INTERNAL_SERVER_ERROR,
        "An internal server error occurred",
    )
    .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;
    use tower::ServiceExt;

    #[tokio::test]
    async fn a_panic_in_a_handler_is_a_json_500() {
        let panicking = tower::service_fn(|_request: Request| async move {
            if true {
                panic!("a handler bug");
            }
            Ok::<Response, Infallible>(StatusCode::OK.into_response())
        });
        let answer = CatchPanicLayer
            .layer(panicking)
            .oneshot(Request::new(Body::empty()))
            .await
            .unwrap();
        assert_eq!(answer.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(answer.headers()[header::CONTENT_TYPE], "application/json");
    }
}
