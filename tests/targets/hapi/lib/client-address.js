'use strict';
// The address a request is counted against: the connection's peer, or, only when the server is configured to
// sit behind a proxy, the address that proxy appended to X-Forwarded-For.

function lastForwarded(request) {

    const header = request.headers['x-forwarded-for'];
    if (!header) {
        return null;
    }

    const hops = header.split(',').map((hop) => hop.trim()).filter(Boolean);
    return hops.length ? hops[hops.length - 1] : null;
}

function clientAddress(request, trustForwardedFor) {

    return (trustForwardedFor && lastForwarded(request)) || request.info.remoteAddress;
}

module.exports = { clientAddress, lastForwarded };
