//! The framework-neutral request: [`RawRequest`] and what the generated parsers read from it (parameters,
//! cookies, credentials, the media type).

use std::borrow::Cow;

use bytes::Bytes;

use super::RequestError;

/// The default limit on request bodies read by the server adapters: 1 MiB.
pub const DEFAULT_BODY_LIMIT: usize = 1024 * 1024;

/// An HTTP request, independent of any web framework.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RawRequest {
    /// Upper-case method.
    pub method: String,
    /// The request path without the query, e.g. `/pets/5`.
    pub path: String,
    /// Path parameters matched by the router, percent-decoded.
    pub path_params: Vec<(String, String)>,
    /// The raw query string, without `?`.
    pub query: String,
    /// Headers with lower-case names, in arrival order.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Bytes,
}

impl RawRequest {
    /// This request as the generated parsers read it, borrowed.
    pub fn view(&self) -> RequestView<'_> {
        RequestView {
            method: &self.method,
            path: &self.path,
            path_params: self.path_params.iter().map(|(k, v)| (k.as_str(), Cow::Borrowed(v.as_str()))).collect(),
            query: &self.query,
            headers: Headers::Pairs(&self.headers),
            body: &self.body,
        }
    }

    /// The first value of a header (case-insensitive name).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.view().header(name)
    }

    /// A path parameter.
    pub fn path_param(&self, name: &str) -> Option<&str> {
        self.path_params.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    /// Every value of a query parameter, decoded, in order.
    pub fn query_values(&self, name: &str) -> Vec<String> {
        self.view().query_values(name)
    }

    /// The first value of a query parameter.
    pub fn query_value(&self, name: &str) -> Option<String> {
        self.view().query_value(name)
    }

    /// The items of a list query parameter (see [`RequestView::query_list`]).
    pub fn query_list(&self, name: &str, explode: bool) -> Option<Vec<String>> {
        self.view().query_list(name, explode)
    }

    /// The properties of an object query parameter (see [`RequestView::query_object`]).
    pub fn query_object(
        &self,
        name: &str,
        style: ObjectStyle,
        keys: &[&str],
    ) -> Result<Option<Vec<(String, String)>>, RequestError> {
        self.view().query_object(name, style, keys)
    }

    /// A cookie from the `cookie` header(s).
    pub fn cookie(&self, name: &str) -> Option<String> {
        self.view().cookie(name)
    }

    /// The token of an `Authorization: Bearer <token>` header.
    pub fn bearer_token(&self) -> Option<String> {
        self.view().bearer_token()
    }

    /// The base64 credentials of an `Authorization: Basic <credentials>` header.
    pub fn basic_credentials(&self) -> Option<String> {
        self.view().basic_credentials()
    }

    /// The media type of the body, without parameters, lower case.
    pub fn media_type(&self) -> Option<String> {
        self.view().media_type()
    }
}

/// A request as the generated parsers read it: borrowed from a [`RawRequest`] or straight from the web
/// framework's own request, so that an adapter copies no header, path or body on the way in.
#[derive(Debug)]
pub struct RequestView<'a> {
    method: &'a str,
    path: &'a str,
    /// Path parameters matched by the router, percent-decoded.
    path_params: Vec<(&'a str, Cow<'a, str>)>,
    query: &'a str,
    headers: Headers<'a>,
    /// The body.
    pub body: &'a Bytes,
}

/// Where a [`RequestView`]'s headers are.
#[derive(Debug)]
enum Headers<'a> {
    /// A [`RawRequest`]'s.
    Pairs(&'a [(String, String)]),
    /// Those of the framework's request that are text, listed by the adapter.
    Borrowed(Vec<(&'a str, &'a str)>),
    /// The `http` crate's (axum).
    Http(&'a http::HeaderMap),
}

impl<'a> RequestView<'a> {
    /// A request in the `http` crate's types (axum, hyper): its head, the path parameters the router matched
    /// (percent-decoded) and the whole body.
    pub fn from_http(
        parts: &'a http::request::Parts,
        path_params: Vec<(&'a str, Cow<'a, str>)>,
        body: &'a Bytes,
    ) -> Self {
        RequestView {
            method: parts.method.as_str(),
            path: parts.uri.path(),
            path_params,
            query: parts.uri.query().unwrap_or_default(),
            headers: Headers::Http(&parts.headers),
            body,
        }
    }

    /// A request given piece by piece: the upper-case method, the path without the query, the raw query
    /// string, the headers that are text as `(name, value)` in arrival order, the path parameters the router
    /// matched (percent-decoded) and the whole body.
    pub fn from_parts(
        method: &'a str,
        path: &'a str,
        query: &'a str,
        headers: Vec<(&'a str, &'a str)>,
        path_params: Vec<(&'a str, Cow<'a, str>)>,
        body: &'a Bytes,
    ) -> Self {
        RequestView { method, path, path_params, query, headers: Headers::Borrowed(headers), body }
    }

    /// The upper-case method.
    pub fn method(&self) -> &'a str {
        self.method
    }

    /// The request path without the query, e.g. `/pets/5`.
    pub fn path(&self) -> &'a str {
        self.path
    }

    /// Every value of the header `name` (any case) that is text, in arrival order.
    pub fn header_values<'s>(&'s self, name: &'s str) -> HeaderValues<'a, 's> {
        let at = match &self.headers {
            Headers::Pairs(pairs) => At::Pairs(pairs.iter()),
            Headers::Borrowed(pairs) => At::Borrowed(pairs.iter()),
            Headers::Http(map) => At::Http(map.iter()),
        };
        HeaderValues { name, at }
    }

    /// The first value of a header (case-insensitive name).
    pub fn header(&self, name: &str) -> Option<&'a str> {
        self.header_values(name).next()
    }

    /// A path parameter.
    pub fn path_param(&self, name: &str) -> Option<&str> {
        self.path_params.iter().find(|(k, _)| *k == name).map(|(_, v)| v.as_ref())
    }

    /// Every value of a query parameter, decoded, in order.
    pub fn query_values(&self, name: &str) -> Vec<String> {
        serde_urlencoded::from_str::<Vec<(String, String)>>(self.query)
            .unwrap_or_default()
            .into_iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v)
            .collect()
    }

    /// The first value of a query parameter.
    pub fn query_value(&self, name: &str) -> Option<String> {
        self.query_values(name).into_iter().next()
    }

    /// The items of a list query parameter, or `None` when the query does not name it. With `explode` every
    /// value is an item (`tags=a&tags=b`); without, each value is split at its literal commas before it is
    /// decoded, so an encoded comma stays inside its item (`tags=a,b%2Cc` is `a` and `b,c`), and an empty value
    /// is an empty list (`tags=`), as OpenAPI's table of styles has it.
    pub fn query_list(&self, name: &str, explode: bool) -> Option<Vec<String>> {
        let raw: Vec<&str> = self.raw_query_values(name).collect();
        if raw.is_empty() {
            return None;
        }
        Some(if explode {
            raw.into_iter().map(decode_component).collect()
        } else {
            raw.into_iter().filter(|v| !v.is_empty()).flat_map(|v| v.split(',')).map(decode_component).collect()
        })
    }

    /// The undecoded values of a query parameter, in order.
    fn raw_query_values<'s>(&'s self, name: &'s str) -> impl Iterator<Item = &'a str> + 's {
        self.query.split('&').filter(|pair| !pair.is_empty()).filter_map(move |pair| {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            (decode_component(key) == name).then_some(value)
        })
    }

    /// The properties of an object query parameter as decoded `(property, value)` pairs, or `None` when the
    /// query holds none of them. `keys` are the object's property names: the query keys themselves for
    /// [`ObjectStyle::Exploded`]; for the other styles every property present is returned (a map's keys are
    /// not known in advance).
    pub fn query_object(
        &self,
        name: &str,
        style: ObjectStyle,
        keys: &[&str],
    ) -> Result<Option<Vec<(String, String)>>, RequestError> {
        let all = serde_urlencoded::from_str::<Vec<(String, String)>>(self.query).unwrap_or_default();
        let pairs: Vec<(String, String)> = match style {
            ObjectStyle::Deep => all
                .into_iter()
                .filter_map(|(k, v)| {
                    let property = k.strip_prefix(name)?.strip_prefix('[')?.strip_suffix(']')?;
                    Some((property.to_owned(), v))
                })
                .collect(),
            ObjectStyle::Exploded => all.into_iter().filter(|(k, _)| keys.contains(&k.as_str())).collect(),
            ObjectStyle::Joined => {
                let Some((_, joined)) = all.into_iter().find(|(k, _)| k == name) else { return Ok(None) };
                if joined.is_empty() {
                    // `sort=`: the object, with none of its properties.
                    return Ok(Some(Vec::new()));
                }
                let parts: Vec<&str> = joined.split(',').collect();
                if !parts.len().is_multiple_of(2) {
                    return Err(RequestError::bad_request(format!(
                        "invalid query parameter `{name}`: expected comma-separated property,value pairs"
                    )));
                }
                parts.chunks(2).map(|kv| (kv[0].to_owned(), kv[1].to_owned())).collect()
            }
        };
        Ok(if pairs.is_empty() { None } else { Some(pairs) })
    }

    /// A cookie from the `cookie` header(s).
    pub fn cookie(&self, name: &str) -> Option<String> {
        self.header_values("cookie")
            .flat_map(|v| v.split(';'))
            .filter_map(|pair| pair.trim().split_once('='))
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.trim().trim_matches('"').to_owned())
    }

    /// The token of an `Authorization: Bearer <token>` header.
    pub fn bearer_token(&self) -> Option<String> {
        self.authorization("bearer")
    }

    /// The base64 credentials of an `Authorization: Basic <credentials>` header.
    pub fn basic_credentials(&self) -> Option<String> {
        self.authorization("basic")
    }

    fn authorization(&self, scheme: &str) -> Option<String> {
        let value = self.header("authorization")?.trim();
        let (given, rest) = value.split_once(' ')?;
        let rest = rest.trim();
        (given.eq_ignore_ascii_case(scheme) && !rest.is_empty()).then(|| rest.to_owned())
    }

    /// The media type of the body, without parameters, lower case.
    pub fn media_type(&self) -> Option<String> {
        self.header("content-type").map(|ct| super::body::media_type_of(ct).to_ascii_lowercase())
    }
}

/// The values of one header of a [`RequestView`] (see [`RequestView::header_values`]).
#[derive(Debug)]
pub struct HeaderValues<'a, 's> {
    name: &'s str,
    at: At<'a, 's>,
}

/// Where [`HeaderValues`] is in the request's headers.
#[derive(Debug)]
enum At<'a, 's> {
    Pairs(std::slice::Iter<'a, (String, String)>),
    Borrowed(std::slice::Iter<'s, (&'a str, &'a str)>),
    Http(http::header::Iter<'a, http::HeaderValue>),
}

impl<'a> Iterator for HeaderValues<'a, '_> {
    type Item = &'a str;

    fn next(&mut self) -> Option<&'a str> {
        let name = self.name;
        match &mut self.at {
            At::Pairs(pairs) => pairs.find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str()),
            At::Borrowed(pairs) => pairs.find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| *v),
            // Only the values of the header asked for are checked for text.
            At::Http(map) => map.find_map(|(k, v)| if k.as_str().eq_ignore_ascii_case(name) { v.to_str().ok() } else { None }),
        }
    }
}

/// How an object query parameter is spelled (OpenAPI's `style` and `explode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ObjectStyle {
    /// `style: deepObject`: `filter[kind]=cat&filter[max]=3`.
    Deep,
    /// `style: form`, exploded (the default): `kind=cat&max=3`.
    Exploded,
    /// `style: form`, `explode: false`: `filter=kind,cat,max,3`.
    Joined,
}

/// Decodes one `application/x-www-form-urlencoded` component (`+` is a space, `%XX` a byte).
fn decode_component(raw: &str) -> String {
    form_urlencoded::parse(format!("_={raw}").as_bytes()).next().map(|(_, v)| v.into_owned()).unwrap_or_default()
}
