'use strict'
// Owns Creditsafe's overall-threshold lockout arithmetic: every request counts in a fixed window that opens at
// a client's first request, and request number threshold + 1 locks the client out for a full window from that
// request (probes during the lockout neither count nor extend it). hit() is synchronous, so on Node's single
// thread the threshold is exact however many requests are in flight.

class Lockout {
  constructor ({ threshold, windowMs, now = Date.now }) {
    this.threshold = threshold
    this.windowMs = windowMs
    this.now = now
    this.clients = new Map()
    // Forget clients whose window or lockout is over, so the map does not grow without bound.
    this.sweeper = setInterval(() => this.sweep(), Math.max(windowMs, 1000))
    this.sweeper.unref()
  }

  /** Counts one request from `key`: null when it is answered normally, else the ms until the lockout ends. */
  hit (key) {
    const now = this.now()
    let client = this.clients.get(key)
    if (!client || this.expired(client, now)) {
      client = { windowStart: now, count: 0, lockedUntil: 0 }
      this.clients.set(key, client)
    }

    if (client.lockedUntil) {
      return client.lockedUntil - now
    }

    client.count += 1
    if (client.count > this.threshold) {
      client.lockedUntil = now + this.windowMs
      return this.windowMs
    }
    return null
  }

  /** Takes back one counted request (only the successes-not-counted variant calls this). */
  forgive (key) {
    const client = this.clients.get(key)
    if (client && !client.lockedUntil && client.count > 0) {
      client.count -= 1
    }
  }

  expired (client, now) {
    return client.lockedUntil ? client.lockedUntil <= now : client.windowStart + this.windowMs <= now
  }

  sweep () {
    const now = this.now()
    for (const [key, client] of this.clients) {
      if (this.expired(client, now)) this.clients.delete(key)
    }
  }

  close () {
    clearInterval(this.sweeper)
  }
}

module.exports = { Lockout }
