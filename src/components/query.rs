//! The page's query parameters, decoded once. leptos_router's `use_query_map` decodes each
//! value a second time, so a key holding `%41` came back as `A` and never matched its object.

use leptos::prelude::*;
use leptos_router::hooks::use_url;

/// The query's values by name, each percent-decoded once (`+` is a space, as forms send it).
pub fn use_query_text() -> Memo<Vec<(String, String)>> {
    let url = use_url();
    Memo::new(move |_| url.with(|url| parse_query(url.search())))
}

/// Why the last plain form post was refused, in the reader's language, when the portal sent
/// the browser back with it (`?refused=`, see `state::back_to_form`).
pub fn use_refusal() -> impl Fn() -> Option<String> + Copy + 'static {
    let query = use_query_text();
    let i18n = crate::i18n::use_i18n();
    move || {
        value(&query.read(), "refused")
            .and_then(|json| crate::error::FormRefusal::from_query(&json))
            .and_then(|refusal| refusal.to_error())
            .map(|error| error.describe(i18n.get_locale()))
    }
}

/// The first value of `name`.
pub fn value(query: &[(String, String)], name: &str) -> Option<String> {
    query
        .iter()
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.clone())
}

/// `a=1&b=x%2By` into its pairs, decoded once.
pub fn parse_query(search: &str) -> Vec<(String, String)> {
    let decode = |text: &str| {
        let spaced = text.replace('+', " ");
        percent_encoding::percent_decode_str(&spaced)
            .decode_utf8_lossy()
            .into_owned()
    };
    search
        .trim_start_matches('?')
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            (decode(key), decode(value))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_decoded_once() {
        let query = parse_query("key=uploads%2Fx%2541b&etag=%22AB%22&q=a+b&empty");
        assert_eq!(value(&query, "key").as_deref(), Some("uploads/x%41b"));
        assert_eq!(value(&query, "etag").as_deref(), Some("\"AB\""));
        assert_eq!(value(&query, "q").as_deref(), Some("a b"));
        assert_eq!(value(&query, "empty").as_deref(), Some(""));
        assert_eq!(value(&query, "none"), None);
    }
}
