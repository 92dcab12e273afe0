//! `GET /{tenant}/oauth2/v2.0/authorize` and the v1 `GET /{tenant}/oauth2/authorize`
//! (api-contracts §1.4) with a scripted sign-in instead of a login page (see `interactive`).
//!
//! Until the client and its redirect URI are trusted, errors are an HTML page (HTTP 400), as
//! Entra shows them: unknown tenant (AADSTS90002), missing `client_id`/`redirect_uri`
//! (900144), unknown app (700016), unregistered redirect URI (50011). After that every error
//! goes back to the app as `{redirect_uri}?error=...&error_description=AADSTS...&state=...`.
//!
//! Redirect URIs must equal a registered one, except loopback ones: a request for
//! `http://localhost:<any port>/path` or `http://127.0.0.1:<any port>/path` matches a
//! registered `http://localhost[:port]/path` (RFC 8252 §7.3; Entra ignores the port of
//! loopback redirect URIs).

use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};

use crate::interactive::{
    AuthorizationCode, ChallengeMethod, RequestedResource, ScriptedSignIn,
    authorization_code_lifetime, evaluate,
};
use crate::request_log::TokenRequestSummary;
use crate::scenario::{Application, GRAPH_APP_ID, Scenario, TenantSegment};
use crate::state::AppState;
use crate::sts::errors::{RequestMeta, StsError};
use crate::sts::request::{Endpoint, TokenRequest};
use crate::sts::request_meta;
use crate::sts::scopes::{OidcScopes, ResourceScope, delegated_grant, parse_v1_resource, parse_v2};
use crate::tokens::random_b64;

pub async fn authorize_v2(
    State(st): State<AppState>,
    Path(tenant): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    handle(&st, Endpoint::V2, &tenant, query.as_deref(), &headers)
}

pub async fn authorize_v1(
    State(st): State<AppState>,
    Path(tenant): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    handle(&st, Endpoint::V1, &tenant, query.as_deref(), &headers)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ResponseMode {
    Query,
    Fragment,
    FormPost,
}

/// Where and how the answer goes, once the redirect URI is trusted.
struct Reply<'r> {
    redirect_uri: &'r str,
    mode: ResponseMode,
    state: Option<&'r str>,
}

fn handle(
    st: &AppState,
    endpoint: Endpoint,
    tenant: &str,
    query: Option<&str>,
    headers: &HeaderMap,
) -> Response {
    let meta = request_meta(st, headers);
    let params = TokenRequest::parse(&HeaderMap::new(), query.unwrap_or_default().as_bytes());
    let summary = TokenRequestSummary {
        grant_type: None,
        client_id: params.get("client_id").map(str::to_owned),
    };
    let mut response = match run(st, endpoint, tenant, &params, &meta) {
        Ok(r) | Err(r) => r,
    };
    response.extensions_mut().insert(summary);
    response
}

/// Both arms are finished responses (`Err` is an error page or error redirect); `Result` only
/// lets `?` end the flow early.
#[allow(clippy::result_large_err)]
fn run(
    st: &AppState,
    endpoint: Endpoint,
    tenant_text: &str,
    params: &TokenRequest,
    meta: &RequestMeta,
) -> Result<Response, Response> {
    let scenario = &st.scenario;
    let page = |e: StsError| error_page(&e, meta);
    let segment = match scenario.tenant_segment(tenant_text) {
        Some(TenantSegment::Consumers) | None => {
            return Err(page(StsError::tenant_not_found(tenant_text)));
        }
        Some(s) => s,
    };
    let client_id = params
        .get("client_id")
        .ok_or_else(|| page(StsError::missing_parameter("client_id")))?;
    let app = find_app(scenario, segment, client_id)
        .ok_or_else(|| page(StsError::unknown_client(client_id, tenant_text)))?;
    let redirect_uri = params
        .get_raw("redirect_uri")
        .ok_or_else(|| page(StsError::missing_parameter("redirect_uri")))?;
    if !app
        .redirect_uris
        .iter()
        .any(|registered| redirect_matches(registered, redirect_uri))
    {
        return Err(page(StsError::redirect_uri_mismatch(
            redirect_uri,
            &app.app_id,
        )));
    }

    // From here on the app is trusted with the answer.
    let mut reply = Reply {
        redirect_uri,
        mode: ResponseMode::Query,
        state: params.get_raw("state"),
    };
    let fail = |reply: &Reply<'_>, e: StsError| redirect_error(reply, &e, meta);
    match params.get("response_mode") {
        None | Some("query") => {}
        Some("fragment") => reply.mode = ResponseMode::Fragment,
        Some("form_post") => reply.mode = ResponseMode::FormPost,
        Some(other) => return Err(fail(&reply, StsError::unsupported_response_mode(other))),
    }
    match params.get("response_type") {
        Some("code") => {}
        Some(other) => return Err(fail(&reply, StsError::unsupported_response_type(other))),
        None => return Err(fail(&reply, StsError::missing_parameter("response_type"))),
    }
    let code_challenge = pkce_challenge(params).map_err(|e| fail(&reply, e))?;

    let label = segment
        .as_tenant()
        .map_or(tenant_text, |t| t.default_domain());
    let (requested, oidc) =
        requested_resource(scenario, endpoint, label, params).map_err(|e| fail(&reply, e))?;

    let script = choose_sign_in(st, segment, params.get("login_hint"))
        .ok_or_else(|| fail(&reply, StsError::login_required()))?;
    let resource_app_id = requested
        .as_ref()
        .map_or(GRAPH_APP_ID, |r| r.resource.app_id.as_str());
    let signed_in = evaluate(scenario, segment.as_tenant(), &script, resource_app_id)
        .map_err(|e| fail(&reply, e))?;
    // On common/organizations the app must exist in the user's tenant too.
    let user_app = signed_in.tenant.application(client_id).ok_or_else(|| {
        fail(
            &reply,
            StsError::unknown_client(client_id, signed_in.tenant.default_domain()),
        )
    })?;
    if let Some(r) = &requested {
        delegated_grant(scenario, user_app, r).map_err(|e| fail(&reply, e))?;
    }

    let now = meta.now;
    let value = format!("1.AQ{}", random_b64(96));
    st.ledger.record(&value);
    st.interactive.store_code(
        value.clone(),
        AuthorizationCode {
            client_id: user_app.app_id.clone(),
            redirect_uri: redirect_uri.to_owned(),
            tenant_id: signed_in.tenant.id.clone(),
            user_id: signed_in.user.id.clone(),
            mfa: signed_in.mfa,
            resource: requested.map(|r| RequestedResource {
                app_id: r.resource.app_id.clone(),
                audience: r.audience,
                permissions: r.permissions,
            }),
            oidc,
            code_challenge,
            nonce: params.get_raw("nonce").map(str::to_owned),
            auth_time: now,
            expires_at: now + authorization_code_lifetime(),
            redeemed: false,
        },
    );
    tracing::info!(
        tenant = %signed_in.tenant.id,
        user = %signed_in.user.id,
        mfa = signed_in.mfa,
        "scripted interactive sign-in issued an authorization code"
    );
    Ok(respond(&reply, vec![("code", value)]))
}

/// The app `client_id` names: in the path tenant, or on `common`/`organizations` in any tenant
/// (well-known public clients exist everywhere).
fn find_app<'s>(
    scenario: &'s Scenario,
    segment: TenantSegment<'s>,
    client_id: &str,
) -> Option<&'s Application> {
    match segment {
        TenantSegment::Tenant(t) => t.application(client_id),
        _ => scenario
            .tenants
            .iter()
            .find_map(|t| t.application(client_id)),
    }
}

/// Loopback redirect URIs match on any port and either loopback host; everything else must be
/// identical.
pub fn redirect_matches(registered: &str, requested: &str) -> bool {
    if registered == requested {
        return true;
    }
    let (Ok(r), Ok(q)) = (url::Url::parse(registered), url::Url::parse(requested)) else {
        return false;
    };
    r.scheme() == "http"
        && q.scheme() == "http"
        && is_loopback(&r)
        && is_loopback(&q)
        && r.path() == q.path()
        && r.query() == q.query()
        && q.fragment().is_none()
        && q.username().is_empty()
        && q.password().is_none()
}

fn is_loopback(u: &url::Url) -> bool {
    match u.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

/// `code_challenge` + `code_challenge_method` (RFC 7636 §4.2–4.3): the method defaults to
/// `plain`; an S256 challenge is 43 base64url characters, a plain one 43–128 unreserved ones.
fn pkce_challenge(params: &TokenRequest) -> Result<Option<(String, ChallengeMethod)>, StsError> {
    let challenge = params.get_raw("code_challenge");
    let method = params.get("code_challenge_method");
    let Some(challenge) = challenge else {
        return match method {
            Some(_) => Err(StsError::code_challenge_missing()),
            None => Ok(None),
        };
    };
    let method = match method {
        None | Some("plain") => ChallengeMethod::Plain,
        Some("S256") => ChallengeMethod::S256,
        Some(other) => {
            return Err(StsError::code_challenge_invalid(&format!(
                "code_challenge_method '{other}' is not supported; use S256 or plain."
            )));
        }
    };
    let unreserved = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_' | '~');
    let ok = match method {
        ChallengeMethod::S256 => {
            challenge.len() == 43
                && challenge
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_'))
        }
        ChallengeMethod::Plain => {
            (43..=128).contains(&challenge.len()) && challenge.chars().all(unreserved)
        }
    };
    if !ok {
        return Err(StsError::code_challenge_invalid(
            "An S256 code_challenge is 43 base64url characters; a plain one 43 to 128 unreserved characters.",
        ));
    }
    Ok(Some((challenge.to_owned(), method)))
}

/// v2: `scope` (required); v1: `resource` (optional) plus any OIDC words in `scope`.
fn requested_resource<'s>(
    scenario: &'s Scenario,
    endpoint: Endpoint,
    label: &str,
    params: &TokenRequest,
) -> Result<(Option<ResourceScope<'s>>, OidcScopes), StsError> {
    match endpoint {
        Endpoint::V2 => {
            if params.has("resource") {
                return Err(StsError::resource_parameter_not_supported());
            }
            let raw = params
                .get("scope")
                .ok_or_else(|| StsError::missing_parameter("scope"))?;
            let parsed = parse_v2(scenario, label, raw)?;
            Ok((parsed.resource, parsed.oidc))
        }
        Endpoint::V1 => {
            let resource = params
                .get("resource")
                .map(|r| parse_v1_resource(scenario, label, r))
                .transpose()?;
            let mut oidc = OidcScopes::default();
            for word in params.get("scope").unwrap_or_default().split_whitespace() {
                match word.to_ascii_lowercase().as_str() {
                    "openid" => oidc.openid = true,
                    "profile" => oidc.profile = true,
                    "email" => oidc.email = true,
                    "offline_access" => oidc.offline_access = true,
                    _ => {}
                }
            }
            Ok((resource, oidc))
        }
    }
}

/// Who signs in: the pending next sign-in, else the user the `login_hint` names, else the
/// tenant's (on `common`/`organizations`: the first tenant's) `interactiveSignIn`.
fn choose_sign_in(
    st: &AppState,
    segment: TenantSegment<'_>,
    login_hint: Option<&str>,
) -> Option<ScriptedSignIn> {
    if let Some(next) = st.interactive.take_next_sign_in() {
        return Some(next);
    }
    let tenants: Vec<_> = match segment.as_tenant() {
        Some(t) => vec![t],
        None => st.scenario.tenants.iter().collect(),
    };
    if let Some(hint) = login_hint
        && let Some(user) = tenants.iter().find_map(|t| t.user_by_upn(hint))
    {
        return Some(ScriptedSignIn {
            user_id: user.id.clone(),
            mfa: None,
            decline: false,
        });
    }
    tenants.iter().find_map(|t| t.interactive_sign_in.clone())
}

// --- responses -----------------------------------------------------------------------------

fn respond(reply: &Reply<'_>, mut fields: Vec<(&'static str, String)>) -> Response {
    if let Some(state) = reply.state {
        fields.push(("state", state.to_owned()));
    }
    match reply.mode {
        ResponseMode::FormPost => form_post(reply.redirect_uri, &fields),
        ResponseMode::Query | ResponseMode::Fragment => {
            let encoded = serde_urlencoded::to_string(&fields).unwrap_or_default();
            let separator = match reply.mode {
                ResponseMode::Fragment => '#',
                _ if reply.redirect_uri.contains('?') => '&',
                _ => '?',
            };
            let location = format!("{}{separator}{encoded}", reply.redirect_uri);
            let mut response = StatusCode::FOUND.into_response();
            if let Ok(value) = HeaderValue::from_str(&location) {
                response.headers_mut().insert(header::LOCATION, value);
            }
            no_store(response)
        }
    }
}

/// The error as a redirect to the app. OAuth `error` values at the authorize endpoint follow
/// §1.4: a sign-in the user could not complete is `access_denied`, a missing consent
/// `consent_required`, MFA demanded by policy `interaction_required`.
fn redirect_error(reply: &Reply<'_>, err: &StsError, meta: &RequestMeta) -> Response {
    let error = match (err.error, err.suberror) {
        (_, Some("consent_required")) => "consent_required",
        ("invalid_grant", _) => "access_denied",
        ("invalid_client", _) => "unauthorized_client",
        (other, _) => other,
    };
    let body = err.body(meta);
    let text = |name: &str| body[name].as_str().unwrap_or_default().to_owned();
    let mut fields = vec![
        ("error", error.to_owned()),
        ("error_description", text("error_description")),
        ("error_uri", text("error_uri")),
    ];
    if let Some(sub) = err.suberror {
        fields.push(("suberror", sub.to_owned()));
    }
    tracing::info!(code = err.code, error, "authorize request refused");
    respond(reply, fields)
}

/// Entra's "Sorry, but we're having trouble signing you in." page.
fn error_page(err: &StsError, meta: &RequestMeta) -> Response {
    let body = err.body(meta);
    let description = body["error_description"].as_str().unwrap_or_default();
    tracing::info!(
        code = err.code,
        "authorize request refused with an error page"
    );
    let html = format!(
        "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>Sign in to your account</title></head>\
         <body><h1>Sorry, but we're having trouble signing you in.</h1><pre id=\"error\">{}</pre>\
         <p>partnersec-emulator: this request cannot be redirected back to the application.</p></body></html>",
        html_escape(description)
    );
    no_store((StatusCode::BAD_REQUEST, Html(html)).into_response())
}

fn form_post(action: &str, fields: &[(&'static str, String)]) -> Response {
    let inputs: String = fields
        .iter()
        .map(|(k, v)| {
            format!(
                "<input type=\"hidden\" name=\"{}\" value=\"{}\" />",
                html_escape(k),
                html_escape(v)
            )
        })
        .collect();
    let html = format!(
        "<!DOCTYPE html><html><head><title>Working...</title></head><body>\
         <form method=\"POST\" name=\"hiddenform\" action=\"{}\">{inputs}\
         <noscript><p>Script is disabled. Click Submit to continue.</p><input type=\"submit\" value=\"Submit\" /></noscript>\
         </form><script>document.forms[0].submit();</script></body></html>",
        html_escape(action)
    );
    no_store(Html(html).into_response())
}

fn no_store(mut response: Response) -> Response {
    response.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("no-store, no-cache"),
    );
    response
}

pub fn html_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_redirects_match_on_any_port() {
        for (registered, requested) in [
            ("http://localhost", "http://localhost:51234/"),
            ("http://localhost:8400", "http://localhost:8999/"),
            ("http://localhost:8400", "http://127.0.0.1:8401/"),
            ("http://127.0.0.1/cb", "http://[::1]:9/cb"),
        ] {
            assert!(
                redirect_matches(registered, requested),
                "{registered} vs {requested}"
            );
        }
        for (registered, requested) in [
            ("http://localhost", "http://localhost:51234/other"),
            ("http://localhost", "https://localhost:51234/"),
            ("http://localhost", "http://localhost.evil.example:80/"),
            ("https://app.example/cb", "https://app.example/cb/"),
            ("https://app.example/cb", "https://app.example:8443/cb"),
            ("http://localhost", "http://localhost:1/#x"),
        ] {
            assert!(
                !redirect_matches(registered, requested),
                "{registered} vs {requested}"
            );
        }
        assert!(redirect_matches(
            "https://app.example/cb",
            "https://app.example/cb"
        ));
    }

    #[test]
    fn html_is_escaped() {
        assert_eq!(
            html_escape("<a href=\"x\">&'"),
            "&lt;a href=&quot;x&quot;&gt;&amp;&#39;"
        );
    }
}
