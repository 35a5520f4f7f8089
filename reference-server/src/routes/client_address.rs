//! Who is asking: the client address the per-IP limits key on (the socket peer, or the first
//! `X-Forwarded-For` entry when the server is told to trust it).

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use axum::extract::ConnectInfo;
use axum::http::Extensions;
use axum::http::request::Parts;

/// The address a request is attributed to. The server records the peer on `POST` requests, the only ones
/// whose handlers count per client; without it (another method, or a router called in process) the
/// address is `0.0.0.0`.
pub(crate) fn client_address(parts: &Parts, trust_forwarded_for: bool) -> IpAddr {
    client_address_from(recorded_peer(&parts.extensions), parts, trust_forwarded_for)
}

/// The peer the server recorded on the request (see `client_address`).
pub(crate) fn recorded_peer(extensions: &Extensions) -> Option<SocketAddr> {
    extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|info| info.0)
}

/// [`client_address`] for a request whose peer is known without looking it up (the connection's).
pub(crate) fn client_address_from(
    peer: Option<SocketAddr>,
    parts: &Parts,
    trust_forwarded_for: bool,
) -> IpAddr {
    if trust_forwarded_for && let Some(forwarded) = first_forwarded_for(parts) {
        return forwarded;
    }
    peer.map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |peer| peer.ip())
}

fn first_forwarded_for(parts: &Parts) -> Option<IpAddr> {
    let value = parts.headers.get("x-forwarded-for")?.to_str().ok()?;
    let first = value.split(',').next()?.trim();
    first
        .parse::<IpAddr>()
        .ok()
        .or_else(|| first.parse::<SocketAddr>().ok().map(|address| address.ip()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::Request;

    fn parts(forwarded: Option<&str>) -> Parts {
        let mut builder = Request::builder().uri("/");
        if let Some(value) = forwarded {
            builder = builder.header("x-forwarded-for", value);
        }
        let (mut parts, ()) = builder.body(()).unwrap().into_parts();
        parts
            .extensions
            .insert(ConnectInfo(SocketAddr::from(([127, 0, 0, 9], 4000))));
        parts
    }

    #[test]
    fn the_peer_unless_forwarded_for_is_trusted_and_valid() {
        let peer: IpAddr = "127.0.0.9".parse().unwrap();
        assert_eq!(client_address(&parts(Some("10.0.0.1")), false), peer);
        assert_eq!(
            client_address(&parts(Some("10.0.0.1, 10.0.0.2")), true),
            "10.0.0.1".parse::<IpAddr>().unwrap()
        );
        assert_eq!(
            client_address(&parts(Some("[::1]:80")), true),
            "::1".parse::<IpAddr>().unwrap()
        );
        assert_eq!(client_address(&parts(Some("nonsense")), true), peer);
        assert_eq!(client_address(&parts(None), true), peer);
    }
}
