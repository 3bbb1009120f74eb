//! The accept loop: HTTP/1.1 with keep-alive over hyper, with limits on the request
//! head that `axum::serve` does not offer, the peer address for handlers, a
//! lingering close and a graceful shutdown.
//!
//! - A head over `max_header_kib` or with more than `max_headers` fields gets
//!   hyper's 431; one not complete after `header_read_timeout_seconds` (a slow
//!   client, or an idle kept-alive connection) ends the connection.
//! - Handlers can extract `ConnectInfo<SocketAddr>`: the socket's peer.
//! - When a connection ends, latchkey stops writing but keeps reading (and
//!   discarding) for a moment. Closing a socket with unread input makes the
//!   kernel send a reset, which can destroy an answer the client has not read
//!   yet, e.g. a 413 sent before the body it refuses has arrived.
//! - On shutdown, the connections already waiting to be accepted are taken,
//!   then no new one is (a proxy's connect is refused, and it tries another
//!   instance, a POST too). Every answer from then on says `Connection: close`,
//!   the requests in flight are answered, and a connection that stays idle is
//!   closed only after [`DRAIN`]: a proxy keeping idle connections for less than
//!   that (nginx's `keepalive_timeout` in `deploy/nginx.conf`) has closed it by
//!   then, so latchkey never closes a connection a proxy may be sending a request
//!   on, which the proxy could not retry elsewhere if it were a POST.

use std::convert::Infallible;
use std::io;
use std::net::SocketAddr;
use std::pin::pin;
use std::time::Duration;

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::header::CONNECTION;
use axum::http::{HeaderValue, Request};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::io::AsyncWriteExt as _;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinSet;
use tower::ServiceExt as _;

use super::HttpService;
use crate::settings::Settings;

/// How long a closed connection keeps discarding what the client still sends.
const LINGER: Duration = Duration::from_secs(5);

/// How long an idle kept-alive connection stays open once the server is
/// stopping: longer than a proxy in front keeps idle connections to it.
const DRAIN: Duration = Duration::from_secs(3);

/// How long to wait before accepting again after the process ran out of
/// resources (e.g. file descriptors).
const ACCEPT_BACKOFF: Duration = Duration::from_secs(1);

/// Serves `app` on `listener` until `shutdown` completes, then waits for the
/// requests in flight.
pub(crate) async fn serve(
    listener: TcpListener,
    app: impl HttpService,
    settings: &Settings,
    shutdown: impl Future<Output = ()>,
) {
    let http = http_builder(settings);
    let (stop, stopping) = watch::channel(false);
    let mut connections = JoinSet::new();
    let mut shutdown = pin!(shutdown);
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            () = &mut shutdown => break,
        };
        // Reap finished connections so the set only holds live ones.
        while connections.try_join_next().is_some() {}
        match accepted {
            Ok((stream, peer)) => {
                connections.spawn(serve_connection(
                    http.clone(),
                    stream,
                    peer,
                    app.clone(),
                    stopping.clone(),
                ));
            }
            Err(error) => on_accept_error(error).await,
        }
    }
    // Connections the kernel completed before the stop are served, not reset.
    let _ = stop.send(true);
    for (stream, peer) in pending_connections(listener) {
        connections.spawn(serve_connection(
            http.clone(),
            stream,
            peer,
            app.clone(),
            stopping.clone(),
        ));
    }
    tracing::info!("shutting down: finishing the requests in flight");
    while connections.join_next().await.is_some() {}
}

/// The connections the kernel has completed but latchkey not yet accepted;
/// the listener is closed after them, so the next connect is refused.
fn pending_connections(listener: TcpListener) -> Vec<(TcpStream, SocketAddr)> {
    let Ok(listener) = listener.into_std() else {
        return Vec::new();
    };
    // Still non-blocking: accept until the queue is empty.
    std::iter::from_fn(|| listener.accept().ok())
        .filter_map(|(stream, peer)| {
            stream.set_nonblocking(true).ok()?;
            Some((TcpStream::from_std(stream).ok()?, peer))
        })
        .collect()
}

/// hyper's HTTP/1.1 server with the configured limits on the request head.
fn http_builder(settings: &Settings) -> http1::Builder {
    let mut http = http1::Builder::new();
    http.timer(TokioTimer::new())
        .keep_alive(true)
        .header_read_timeout(settings.header_read_timeout())
        .max_header_size(settings.max_header_bytes())
        .max_headers(usize::try_from(settings.max_headers).unwrap_or(usize::MAX));
    http
}

/// Serves one connection until it ends or the server stops, then lingers.
async fn serve_connection(
    http: http1::Builder,
    mut stream: TcpStream,
    peer: SocketAddr,
    app: impl HttpService,
    stopping: watch::Receiver<bool>,
) {
    // Answers go out at once: with Nagle's algorithm on, a response written in
    // pieces waits for the client's delayed ACK (some 40 ms) on a kept-alive
    // connection.
    if let Err(error) = stream.set_nodelay(true) {
        tracing::debug!(%peer, %error, "cannot set TCP_NODELAY");
    }
    let draining = stopping.clone();
    let service = service_fn(move |request: Request<Incoming>| {
        let mut request = request.map(Body::new);
        request.extensions_mut().insert(ConnectInfo(peer));
        let answer = app.clone().oneshot(request);
        let draining = draining.clone();
        async move {
            let mut response = answer.await?;
            if *draining.borrow() {
                response
                    .headers_mut()
                    .insert(CONNECTION, HeaderValue::from_static("close"));
            }
            Ok::<_, Infallible>(response)
        }
    });
    let mut connection = pin!(http.serve_connection(TokioIo::new(&mut stream), service));
    let mut drain_signal = stopping.clone();
    let mut drain = pin!(async move {
        let _ = drain_signal.wait_for(|stop| *stop).await;
        tokio::time::sleep(DRAIN).await;
    });
    let mut shutting_down = false;
    let result = loop {
        tokio::select! {
            result = connection.as_mut() => break result,
            () = drain.as_mut(), if !shutting_down => {
                connection.as_mut().graceful_shutdown();
                shutting_down = true;
            }
        }
    };
    if let Err(error) = result {
        tracing::debug!(%peer, %error, "connection ended with an error");
    }
    linger(stream, stopping).await;
}

/// Ends the write side, then reads and discards what the client still sends,
/// until it closes its side, [`LINGER`] has passed or the server stops.
async fn linger(mut stream: TcpStream, mut stopping: watch::Receiver<bool>) {
    let _ = stream.shutdown().await;
    let mut sink = tokio::io::sink();
    let discard = tokio::io::copy(&mut stream, &mut sink);
    tokio::select! {
        _ = tokio::time::timeout(LINGER, discard) => {}
        _ = stopping.wait_for(|stop| *stop) => {}
    }
}

async fn on_accept_error(error: io::Error) {
    // The peer gave up between connecting and being accepted: nothing to do.
    if matches!(
        error.kind(),
        io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
            | io::ErrorKind::ConnectionRefused
    ) {
        return;
    }
    tracing::error!(%error, "cannot accept a connection");
    tokio::time::sleep(ACCEPT_BACKOFF).await;
}

#[cfg(test)]
mod tests {
    use axum::Router;
    use axum::routing::get;
    use tokio::io::AsyncReadExt as _;

    use super::*;

    #[tokio::test]
    async fn handlers_see_the_peer_address_of_the_socket() {
        let app = Router::new().route(
            "/peer",
            get(|ConnectInfo(peer): ConnectInfo<SocketAddr>| async move { peer.to_string() }),
        );
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let server = tokio::spawn(async move {
            let settings = Settings::default();
            serve(listener, app, &settings, async {
                let _ = stopped.await;
            })
            .await;
        });
        let mut client = TcpStream::connect(addr).await.unwrap();
        let me = client.local_addr().unwrap();
        client
            .write_all(b"GET /peer HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
            .await
            .unwrap();
        let mut answer = String::new();
        client.read_to_string(&mut answer).await.unwrap();
        assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
        assert!(answer.ends_with(&me.to_string()), "{answer}");
        stop.send(()).unwrap();
        server.await.unwrap();
    }

    #[tokio::test]
    async fn a_kept_alive_connection_is_still_answered_while_the_server_drains() {
        let app = Router::new().route("/", get(|| async { "hello" }));
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let server = tokio::spawn(async move {
            serve(listener, app, &Settings::default(), async {
                let _ = stopped.await;
            })
            .await;
        });
        let request = b"GET / HTTP/1.1\r\nHost: t\r\n\r\n";
        let mut client = TcpStream::connect(addr).await.unwrap();
        client.write_all(request).await.unwrap();
        let mut buffer = vec![0; 4096];
        let read = client.read(&mut buffer).await.unwrap();
        let first = String::from_utf8_lossy(&buffer[..read]).into_owned();
        assert!(first.starts_with("HTTP/1.1 200"), "{first}");
        assert!(
            !first.to_ascii_lowercase().contains("connection: close"),
            "{first}"
        );
        // The server stops while the connection is idle, as a proxy's pooled one is.
        stop.send(()).unwrap();
        tokio::time::sleep(Duration::from_millis(300)).await;
        // A new connection is refused...
        assert!(TcpStream::connect(addr).await.is_err());
        // ...but a request on the idle one is answered, and told to close.
        client.write_all(request).await.unwrap();
        let mut second = String::new();
        client.read_to_string(&mut second).await.unwrap();
        assert!(second.starts_with("HTTP/1.1 200"), "{second:?}");
        assert!(
            second.to_ascii_lowercase().contains("connection: close"),
            "{second}"
        );
        server.await.unwrap();
    }
}
