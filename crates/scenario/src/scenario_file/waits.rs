//! Wait steps and window names: `wait.window` (with `since`, `percent`, `offset_ms`, `minus_slack`), `wait.ms`
//! and `wait.empty_window`.

use super::templates::read_mark;
use super::*;

pub(super) fn window(reader: &mut Reader, value: &Value<'_>, what: &str) -> Option<WindowName> {
    let name = reader.string(value, what)?;
    let found = WindowName::ALL.into_iter().find(|w| w.as_str() == name);
    if found.is_none() {
        reader.error(
            value.span(),
            format!("unknown window `{name}`"),
            Some(suggest(&name, &WindowName::ALL.map(WindowName::as_str))),
        );
    }
    found
}

pub(super) fn read_wait(reader: &mut Reader, value: &Value<'_>, names: &Names) -> Option<Wait> {
    let table = reader.table(value, "`wait`")?;
    reader.check_keys(table, WAIT_FIELDS, "wait");
    let kinds: Vec<&str> = ["window", "ms", "empty_window"]
        .into_iter()
        .filter(|key| get(table, key).is_some())
        .collect();
    if let [first, second, ..] = kinds.as_slice() {
        let span = get(table, second).map_or_else(|| value.span(), Value::span);
        reader.error(
            span,
            format!("give one of `wait.window`, `wait.ms` or `wait.empty_window`, not `{first}` and `{second}`"),
            None,
        );
        return None;
    }
    let only_with_window = |reader: &mut Reader, kind: &str| {
        for key in ["offset_ms", "minus_slack", "since", "percent"] {
            if let Some((k, _)) = table.get_key_value(key) {
                reader.error(
                    k.span(),
                    format!("`wait.{key}` only goes with `wait.window`, not with `wait.{kind}`"),
                    None,
                );
            }
        }
    };
    match kinds.first().copied() {
        Some("window") => {
            let window = window(reader, get(table, "window")?, "`wait.window`")?;
            let offset_ms = match get(table, "offset_ms") {
                Some(v) => reader.integer(v, "`wait.offset_ms`")?,
                None => 1000,
            };
            let minus_slack = match get(table, "minus_slack") {
                Some(v) => reader.boolean(v, "`wait.minus_slack`")?,
                None => false,
            };
            let since = match get(table, "since") {
                Some(v) => Some(read_mark(reader, v, names, None, "`wait.since`")?),
                None => None,
            };
            let percent = match get(table, "percent") {
                Some(v) => {
                    let value = reader.integer(v, "`wait.percent`")?;
                    let Some(percent) =
                        u16::try_from(value).ok().filter(|p| (1..=1000).contains(p))
                    else {
                        reader.error(
                            v.span(),
                            format!("`wait.percent` is a share of the window from 1 to 1000, not {value}"),
                            Some("e.g. `percent = 50` waits half the window, `percent = 125` a window and a quarter".into()),
                        );
                        return None;
                    };
                    for key in ["offset_ms", "minus_slack"] {
                        if let Some((k, _)) = table.get_key_value(key) {
                            reader.error(
                                k.span(),
                                format!("`wait.{key}` does not go with `wait.percent`"),
                                Some("`percent` waits exactly that share of the window".into()),
                            );
                        }
                    }
                    Some(percent)
                }
                None => None,
            };
            Some(Wait::Window {
                window,
                offset_ms,
                minus_slack,
                since,
                percent,
            })
        }
        Some("empty_window") => {
            only_with_window(reader, "empty_window");
            let value = get(table, "empty_window")?;
            let window = window(reader, value, "`wait.empty_window`")?;
            if window != WindowName::SignupIpWindow {
                reader.error(
                    value.span(),
                    format!(
                        "`wait.empty_window` knows only `signup_ip_window`, not `{}`",
                        window.as_str()
                    ),
                    Some(
                        "the runner keeps count only of the signups each client address sent"
                            .into(),
                    ),
                );
                return None;
            }
            Some(Wait::EmptyWindow(window))
        }
        Some(_) => {
            only_with_window(reader, "ms");
            let ms = get(table, "ms")?;
            let value = reader.integer(ms, "`wait.ms`")?;
            match u64::try_from(value) {
                Ok(ms) => Some(Wait::Millis(ms)),
                Err(_) => {
                    reader.error(ms.span(), "`wait.ms` must not be negative", None);
                    None
                }
            }
        }
        None => {
            // A misspelt `window` or `ms` already has its diagnostic.
            if has_misspelt(table, WAIT_FIELDS, &["window", "ms", "empty_window"]) {
                return None;
            }
            reader.error(
                value.span(),
                "`wait` needs `window`, `ms` or `empty_window`",
                Some("e.g. `wait.window = \"cs_invalid_window\"`".into()),
            );
            None
        }
    }
}
