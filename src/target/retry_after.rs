//! `Retry-After` as a target sends it (RFC 9110 §10.2.3), read once for everything that reads it: whole
//! seconds, or an HTTP-date measured from the answer's own `Date`. The engine judges the value (GEN-04);
//! `init --measure-limits` waits it out.

use super::client::Response;

/// The seconds a `Retry-After` value asks for: `Ok(None)` for an HTTP-date when there is no `Date` to
/// measure it from (the target's clock may be a test clock), `Err` when it is neither form or negative.
pub(crate) fn seconds(value: &str, date: Option<&str>) -> Result<Option<u64>, &'static str> {
    let value = value.trim();
    if value.starts_with('-') {
        return Err("is negative");
    }
    if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) {
        return value.parse().map(Some).map_err(|_| "is too large");
    }
    let until = httpdate::parse_http_date(value)
        .map_err(|_| "is neither whole seconds nor an HTTP-date")?;
    let Some(now) = date.and_then(|date| httpdate::parse_http_date(date.trim()).ok()) else {
        return Ok(None);
    };
    Ok(Some(
        until.duration_since(now).map_or(0, |left| left.as_secs()),
    ))
}

impl Response {
    /// The seconds this answer's `Retry-After` asks for, when it has one that can be read as seconds.
    pub(crate) fn retry_after_seconds(&self) -> Option<u64> {
        seconds(self.header("retry-after")?, self.header("date"))
            .ok()
            .flatten()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_takes_seconds_or_a_date() {
        assert_eq!(seconds("120", None), Ok(Some(120)));
        assert_eq!(seconds(" 7 ", None), Ok(Some(7)));
        assert_eq!(seconds("-5", None), Err("is negative"));
        assert!(seconds("1.5", None).is_err());
        assert!(seconds("soon", None).is_err());
        assert!(seconds("", None).is_err());
        let date = "Wed, 21 Oct 2015 07:28:00 GMT";
        assert_eq!(seconds(date, None), Ok(None));
        assert_eq!(
            seconds("Wed, 21 Oct 2015 07:30:00 GMT", Some(date)),
            Ok(Some(120))
        );
        // A date already past asks for no wait.
        assert_eq!(
            seconds("Wed, 21 Oct 2015 07:27:00 GMT", Some(date)),
            Ok(Some(0))
        );
    }
}
