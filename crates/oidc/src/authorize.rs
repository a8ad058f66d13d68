//! Validation of an authorization request (OpenID Connect Core 1.0 §3.1.2.1,
//! RFC 6749 §4.1.1), without I/O: the web layer decodes the parameters,
//! looks the client up, and hands both here.
//!
//! The order of the checks follows RFC 6749 §4.1.2.1: until the client and
//! its redirect URI are known good, an error is shown to the user and never
//! sent to the redirect URI (an open redirector otherwise, RFC 9700 §4.11).
//! Every later error goes back to the client at its registered redirect URI,
//! with `state` and, by the web layer, `iss` (RFC 9207).
//!
//! What is accepted:
//! * `response_type=code` only (RFC 9700 §2.1.2: no implicit or hybrid flow);
//! * `scope` containing `openid`, from [`SUPPORTED_SCOPES`] only;
//! * PKCE with `S256` only (RFC 7636, RFC 9700 §2.1.1), required from public
//!   clients;
//! * `response_mode` `query` (the default for `code`) or `form_post`
//!   (OAuth 2.0 Form Post Response Mode);
//! * `prompt` `none`, `login` and `consent` (OpenID Connect Core §3.1.2.1);
//! * no request objects (OpenID Connect Core §6: `request_not_supported`,
//!   `request_uri_not_supported`).

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use crate::clients::Client;
use crate::pkce;

/// The scopes this provider knows (OpenID Connect Core §5.4, §11), and
/// `roles`: the user's custom roles in the tenant, as the `roles` claim
/// (a private claim name, OpenID Connect Core §5.1.2).
pub const SUPPORTED_SCOPES: [&str; 7] = [
    "openid",
    "profile",
    "email",
    "phone",
    "address",
    "offline_access",
    "roles",
];

/// The `prompt` values this provider honours (OpenID Connect Core §3.1.2.1).
pub const SUPPORTED_PROMPTS: [&str; 3] = ["none", "login", "consent"];

/// The response modes this provider supports (OAuth 2.0 Multiple Response
/// Type Encoding Practices §2.1, OAuth 2.0 Form Post Response Mode §2).
pub const SUPPORTED_RESPONSE_MODES: [&str; 2] = ["query", "form_post"];

/// The longest value accepted for any parameter. Pending requests are kept
/// in the shared store, so an anonymous caller must not be able to park
/// megabytes there.
pub const MAX_PARAM_LEN: usize = 4096;

/// How the authorization response reaches the client.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ResponseMode {
    /// Parameters in the query of the redirect URI (RFC 6749 §4.1.2).
    Query,
    /// An auto-submitted HTML form POSTing the parameters to the redirect URI
    /// (OAuth 2.0 Form Post Response Mode §2).
    FormPost,
}

/// One `prompt` value (OpenID Connect Core §3.1.2.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Prompt {
    /// No user interaction: an error when login or consent would be needed.
    None,
    /// Ask the user to log in again, even with a session.
    Login,
    /// Ask the user for consent, even if it was granted before.
    Consent,
}

/// An authorization request that passed every check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ValidatedRequest {
    pub client_id: String,
    /// Exactly one of the client's registered redirect URIs.
    pub redirect_uri: String,
    /// The requested scopes, in request order, without duplicates.
    pub scopes: Vec<String>,
    pub state: Option<String>,
    pub nonce: Option<String>,
    /// The S256 PKCE challenge (RFC 7636 §4.2).
    pub code_challenge: Option<String>,
    pub response_mode: ResponseMode,
    pub prompt: BTreeSet<Prompt>,
    /// Seconds (OpenID Connect Core §3.1.2.1).
    pub max_age: Option<u64>,
    pub login_hint: Option<String>,
    pub id_token_hint: Option<String>,
    /// The user's preferred languages for the pages, space-separated BCP 47
    /// tags in order of preference (OpenID Connect Core §3.1.2.1).
    #[serde(default)]
    pub ui_locales: Option<String>,
    /// Requested authentication context classes, space-separated, in order
    /// of preference (OpenID Connect Core §3.1.2.1).
    #[serde(default)]
    pub acr_values: Option<String>,
}

impl ValidatedRequest {
    /// The scopes as the space-separated `scope` string (RFC 6749 §3.3).
    pub fn scope(&self) -> String {
        self.scopes.join(" ")
    }

    pub fn scope_refs(&self) -> Vec<&str> {
        self.scopes.iter().map(String::as_str).collect()
    }

    pub fn has_prompt(&self, p: Prompt) -> bool {
        self.prompt.contains(&p)
    }

    /// Whether the request asks for a second factor: among the `acr_values`
    /// this server knows, only the two-factor class (Core §3.1.2.1; values
    /// it does not know are ignored, as the parameter is voluntary).
    pub fn wants_two_factors(&self) -> bool {
        let known: Vec<&str> = self
            .acr_values
            .iter()
            .flat_map(|v| v.split_whitespace())
            .filter(|v| crate::tokens::ACR_VALUES.contains(v))
            .collect();
        !known.is_empty() && known.iter().all(|v| *v == crate::tokens::ACR_TWO_FACTORS)
    }
}

/// An error the client may receive at its redirect URI (RFC 6749 §4.1.2.1,
/// OpenID Connect Core §3.1.2.6).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RedirectError {
    pub redirect_uri: String,
    pub response_mode: ResponseMode,
    pub state: Option<String>,
    /// The `error` code.
    pub error: &'static str,
    pub description: String,
}

/// Why an authorization request was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthorizeError {
    /// The client is unknown, or the redirect URI is missing or not one the
    /// client registered: tell the user, never redirect (RFC 6749 §4.1.2.1,
    /// §3.1.2.4; RFC 9700 §4.1.1 requires exact string matching).
    NoRedirect(String),
    /// Everything else: back to the client.
    Redirect(RedirectError),
}

impl AuthorizeError {
    /// The `error` code, or `invalid_request` for the user-facing case.
    pub fn code(&self) -> &'static str {
        match self {
            Self::NoRedirect(_) => "invalid_request",
            Self::Redirect(r) => r.error,
        }
    }

    pub fn description(&self) -> &str {
        match self {
            Self::NoRedirect(d) => d,
            Self::Redirect(r) => &r.description,
        }
    }
}

/// The value of parameter `name`: `Ok(None)` when absent or empty (RFC 6749
/// §3.1: "Parameters sent without a value MUST be treated as if they were
/// omitted"), an error when it appears more than once (RFC 6749 §3.1:
/// "Request and response parameters MUST NOT be included more than once").
pub fn single<'a>(params: &'a [(String, String)], name: &str) -> Result<Option<&'a str>, String> {
    let mut found = params.iter().filter(|(k, _)| k == name);
    let first = found.next();
    if found.next().is_some() {
        return Err(format!("the {name} parameter is repeated"));
    }
    Ok(first.map(|(_, v)| v.as_str()).filter(|v| !v.is_empty()))
}

/// The `client_id` of a request, for looking the client up before
/// [`validate`]. Missing or repeated: shown to the user, never redirected.
pub fn client_id(params: &[(String, String)]) -> Result<&str, AuthorizeError> {
    match single(params, "client_id") {
        Ok(Some(id)) => Ok(id),
        Ok(None) => Err(AuthorizeError::NoRedirect(
            "The request names no client (client_id is missing).".into(),
        )),
        Err(_) => Err(AuthorizeError::NoRedirect(
            "The client_id parameter is repeated.".into(),
        )),
    }
}

/// `text` as an `error_description` (RFC 6749 §4.1.2.1: printable ASCII
/// without `"` and `\`), at most 200 characters: a request's own values are
/// echoed in descriptions, and must not carry anything else to the client.
pub fn error_description(text: &str) -> String {
    text.chars()
        .take(200)
        .map(|c| match c {
            '"' | '\\' => '\'',
            ' '..='~' => c,
            _ => '?',
        })
        .collect()
}

/// Validates an authorization request against the registered client
/// (`None`: no client has that `client_id` in this tenant).
pub fn validate(
    params: &[(String, String)],
    client: Option<&Client>,
) -> Result<ValidatedRequest, AuthorizeError> {
    let client_id = client_id(params)?;
    let client = match client {
        Some(c) if c.client_id == client_id => c,
        _ => {
            return Err(AuthorizeError::NoRedirect(
                "The application that sent you here is not known.".into(),
            ))
        }
    };
    // OpenID Connect Core §3.1.2.1: redirect_uri is REQUIRED and MUST exactly
    // match a registered value (simple string comparison, §6.2.1 of RFC 3986
    // as the spec says; RFC 9700 §2.1 requires exact matching).
    let redirect_uri = match single(params, "redirect_uri") {
        Ok(Some(u)) if client.redirect_uris.iter().any(|r| r == u) => u.to_owned(),
        Ok(Some(_)) => {
            return Err(AuthorizeError::NoRedirect(
                "The redirect address is not registered for this application.".into(),
            ))
        }
        Ok(None) => {
            return Err(AuthorizeError::NoRedirect(
                "The request has no redirect address (redirect_uri).".into(),
            ))
        }
        Err(_) => {
            return Err(AuthorizeError::NoRedirect(
                "The redirect_uri parameter is repeated.".into(),
            ))
        }
    };

    // From here on errors go back to the client: state (if it is usable) and
    // the response mode (if it is valid) say how.
    let state = single(params, "state")
        .ok()
        .flatten()
        .filter(|s| s.len() <= MAX_PARAM_LEN)
        .map(str::to_owned);
    let mode_param = single(params, "response_mode").ok().flatten();
    let error_mode = match mode_param {
        Some("form_post") => ResponseMode::FormPost,
        _ => ResponseMode::Query,
    };
    let fail = |error: &'static str, description: String| {
        AuthorizeError::Redirect(RedirectError {
            redirect_uri: redirect_uri.clone(),
            response_mode: error_mode,
            state: state.clone(),
            error,
            description: error_description(&description),
        })
    };
    let invalid = |d: String| fail("invalid_request", d);

    let mut seen = BTreeSet::new();
    for (k, v) in params {
        if !seen.insert(k.as_str()) {
            return Err(invalid(format!("the {k} parameter is repeated")));
        }
        if v.len() > MAX_PARAM_LEN {
            return Err(invalid(format!(
                "the {k} parameter is longer than {MAX_PARAM_LEN} bytes"
            )));
        }
    }
    // After the loop above no parameter repeats, so `single` cannot fail.
    let get = |name: &str| single(params, name).ok().flatten();

    // OpenID Connect Core §6.1, §6.2.
    if get("request").is_some() {
        return Err(fail(
            "request_not_supported",
            "request objects are not supported".into(),
        ));
    }
    if get("request_uri").is_some() {
        return Err(fail(
            "request_uri_not_supported",
            "request_uri is not supported".into(),
        ));
    }

    // RFC 6749 §3.1.1, §4.1.1; RFC 9700 §2.1.2.
    match get("response_type") {
        None => return Err(invalid("response_type is required".into())),
        Some("code") => {}
        Some(other) => {
            return Err(fail(
                "unsupported_response_type",
                format!("response_type '{other}' is not supported; use 'code'"),
            ))
        }
    }
    // RFC 6749 §4.1.2.1 unauthorized_client.
    if !client.grant_types.iter().any(|g| g == "authorization_code") {
        return Err(fail(
            "unauthorized_client",
            "the client may not use the authorization code grant".into(),
        ));
    }
    let response_mode = match mode_param {
        None | Some("query") => ResponseMode::Query,
        Some("form_post") => ResponseMode::FormPost,
        Some(other) => {
            return Err(invalid(format!(
                "response_mode '{other}' is not supported; use query or form_post"
            )))
        }
    };

    // RFC 6749 §3.3; OpenID Connect Core §3.1.2.1 (openid is REQUIRED).
    let mut scopes: Vec<String> = Vec::new();
    for s in get("scope")
        .unwrap_or_default()
        .split(' ')
        .filter(|s| !s.is_empty())
    {
        if !SUPPORTED_SCOPES.contains(&s) {
            return Err(fail(
                "invalid_scope",
                format!("scope '{s}' is not supported"),
            ));
        }
        if !scopes.iter().any(|x| x == s) {
            scopes.push(s.to_owned());
        }
    }
    if !scopes.iter().any(|s| s == "openid") {
        return Err(fail("invalid_scope", "the openid scope is required".into()));
    }

    // RFC 7636 §4.3 (the method defaults to plain, which RFC 9700 §2.1.1 and
    // this provider refuse), §4.4.1; RFC 9700 §2.1.1 (public clients MUST
    // use PKCE).
    let code_challenge = match (get("code_challenge"), get("code_challenge_method")) {
        (None, None) => None,
        (None, Some(_)) => {
            return Err(invalid(
                "code_challenge_method without code_challenge".into(),
            ))
        }
        (Some(_), None) => {
            return Err(invalid(
                "code_challenge_method is required and must be S256 (plain is not supported)"
                    .into(),
            ))
        }
        (Some(_), Some(m)) if m != "S256" => {
            return Err(invalid(format!(
                "code_challenge_method '{m}' is not supported; use S256"
            )))
        }
        (Some(c), Some(_)) if !pkce::valid_challenge(c) => {
            return Err(invalid(
                "code_challenge is not a valid S256 challenge (RFC 7636 §4.2)".into(),
            ))
        }
        (Some(c), Some(_)) => Some(c.to_owned()),
    };
    if client.public && code_challenge.is_none() {
        return Err(invalid(
            "a public client must send a PKCE code_challenge (S256)".into(),
        ));
    }

    // OpenID Connect Core §3.1.2.1: none must stand alone.
    let mut prompt = BTreeSet::new();
    for p in get("prompt")
        .unwrap_or_default()
        .split(' ')
        .filter(|s| !s.is_empty())
    {
        prompt.insert(match p {
            "none" => Prompt::None,
            "login" => Prompt::Login,
            "consent" => Prompt::Consent,
            other => return Err(invalid(format!("prompt value '{other}' is not supported"))),
        });
    }
    if prompt.contains(&Prompt::None) && prompt.len() > 1 {
        return Err(invalid(
            "prompt=none cannot be combined with other values".into(),
        ));
    }

    let max_age = match get("max_age") {
        None => None,
        Some(v) if !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()) => Some(
            v.parse::<u64>()
                .map_err(|_| invalid("max_age is too large".into()))?,
        ),
        Some(_) => return Err(invalid("max_age must be a non-negative integer".into())),
    };

    Ok(ValidatedRequest {
        client_id: client.client_id.clone(),
        redirect_uri,
        scopes,
        state,
        nonce: get("nonce").map(str::to_owned),
        code_challenge,
        response_mode,
        prompt,
        max_age,
        login_hint: get("login_hint").map(str::to_owned),
        id_token_hint: get("id_token_hint").map(str::to_owned),
        ui_locales: get("ui_locales").map(str::to_owned),
        acr_values: get("acr_values").map(str::to_owned),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
    const CB: &str = "https://rp.example/cb";

    fn client(public: bool) -> Client {
        Client {
            client_id: "c1".into(),
            name: "RP".into(),
            public,
            first_party: false,
            auth_method: if public {
                "none"
            } else {
                "client_secret_basic"
            }
            .into(),
            redirect_uris: vec![CB.into(), "https://rp.example/cb?x=1".into()],
            post_logout_redirect_uris: vec![],
            grant_types: vec!["authorization_code".into(), "refresh_token".into()],
            id_token_signed_response_alg: "RS256".into(),
            scopes: vec![],
            jwks: None,
            jwks_uri: None,
            created_at: time::OffsetDateTime::UNIX_EPOCH,
            disabled: false,
        }
    }

    fn params(extra: &[(&str, &str)]) -> Vec<(String, String)> {
        let mut base: Vec<(String, String)> = [
            ("client_id", "c1"),
            ("redirect_uri", CB),
            ("response_type", "code"),
            ("scope", "openid profile"),
            ("state", "st"),
        ]
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
        for (k, v) in extra {
            base.retain(|(bk, _)| bk != k);
            base.push(((*k).to_owned(), (*v).to_owned()));
        }
        base
    }

    fn without(name: &str) -> Vec<(String, String)> {
        params(&[]).into_iter().filter(|(k, _)| k != name).collect()
    }

    fn redirect_error(r: Result<ValidatedRequest, AuthorizeError>) -> RedirectError {
        match r {
            Err(AuthorizeError::Redirect(e)) => e,
            other => panic!("expected a redirect error, got {other:?}"),
        }
    }

    fn code_of(r: Result<ValidatedRequest, AuthorizeError>) -> &'static str {
        redirect_error(r).error
    }

    #[test]
    fn a_minimal_confidential_request_is_valid_with_defaults() {
        let v = validate(&params(&[]), Some(&client(false))).unwrap();
        assert_eq!(v.client_id, "c1");
        assert_eq!(v.redirect_uri, CB);
        assert_eq!(v.scopes, ["openid", "profile"]);
        assert_eq!(v.scope(), "openid profile");
        assert_eq!(v.state.as_deref(), Some("st"));
        assert_eq!(v.response_mode, ResponseMode::Query);
        assert!(v.prompt.is_empty());
        assert_eq!((v.max_age, v.nonce, v.code_challenge), (None, None, None));
    }

    #[test]
    fn every_optional_parameter_is_carried_over() {
        let v = validate(
            &params(&[
                ("nonce", "n-1"),
                ("code_challenge", CHALLENGE),
                ("code_challenge_method", "S256"),
                ("response_mode", "form_post"),
                ("prompt", "login consent"),
                ("max_age", "0"),
                ("login_hint", "alice"),
                ("id_token_hint", "a.b.c"),
                ("scope", "openid openid email offline_access"),
            ]),
            Some(&client(true)),
        )
        .unwrap();
        assert_eq!(
            v.scopes,
            ["openid", "email", "offline_access"],
            "duplicates dropped"
        );
        assert_eq!(v.nonce.as_deref(), Some("n-1"));
        assert_eq!(v.code_challenge.as_deref(), Some(CHALLENGE));
        assert_eq!(v.response_mode, ResponseMode::FormPost);
        assert!(
            v.has_prompt(Prompt::Login)
                && v.has_prompt(Prompt::Consent)
                && !v.has_prompt(Prompt::None)
        );
        assert_eq!(v.max_age, Some(0));
        assert_eq!(v.login_hint.as_deref(), Some("alice"));
        assert_eq!(v.id_token_hint.as_deref(), Some("a.b.c"));
    }

    #[test]
    fn an_unknown_client_is_never_redirected() {
        assert!(matches!(
            validate(&params(&[]), None),
            Err(AuthorizeError::NoRedirect(_))
        ));
        let mut other = client(false);
        other.client_id = "c2".into();
        assert!(matches!(
            validate(&params(&[]), Some(&other)),
            Err(AuthorizeError::NoRedirect(_))
        ));
        assert!(matches!(
            validate(&without("client_id"), None),
            Err(AuthorizeError::NoRedirect(_))
        ));
        let mut twice = params(&[]);
        twice.push(("client_id".into(), "c1".into()));
        assert!(matches!(
            client_id(&twice),
            Err(AuthorizeError::NoRedirect(_))
        ));
    }

    #[test]
    fn the_redirect_uri_must_match_a_registered_one_exactly() {
        let c = client(false);
        for bad in [
            "https://rp.example/cb/",
            "https://RP.example/cb",
            "https://rp.example/cb?x=2",
            "https://rp.example/cb#f",
            "https://rp.example:443/cb",
            "https://evil.example/cb",
        ] {
            let r = validate(&params(&[("redirect_uri", bad)]), Some(&c));
            assert!(
                matches!(r, Err(AuthorizeError::NoRedirect(_))),
                "{bad}: {r:?}"
            );
        }
        assert!(matches!(
            validate(&without("redirect_uri"), Some(&c)),
            Err(AuthorizeError::NoRedirect(_))
        ));
        let mut twice = params(&[]);
        twice.push(("redirect_uri".into(), CB.into()));
        assert!(matches!(
            validate(&twice, Some(&c)),
            Err(AuthorizeError::NoRedirect(_))
        ));
        let ok = validate(
            &params(&[("redirect_uri", "https://rp.example/cb?x=1")]),
            Some(&c),
        )
        .unwrap();
        assert_eq!(ok.redirect_uri, "https://rp.example/cb?x=1");
    }

    #[test]
    fn errors_after_the_redirect_uri_go_back_with_state() {
        let e = redirect_error(validate(
            &params(&[("response_type", "token")]),
            Some(&client(false)),
        ));
        assert_eq!(e.error, "unsupported_response_type");
        assert_eq!(e.redirect_uri, CB);
        assert_eq!(e.state.as_deref(), Some("st"));
        assert_eq!(e.response_mode, ResponseMode::Query);
        let e = redirect_error(validate(
            &params(&[("response_type", "token"), ("response_mode", "form_post")]),
            Some(&client(false)),
        ));
        assert_eq!(
            e.response_mode,
            ResponseMode::FormPost,
            "errors honour a valid response_mode"
        );
    }

    #[test]
    fn response_type_must_be_exactly_code() {
        let c = client(false);
        for bad in ["token", "id_token", "code id_token", "code token", "CODE"] {
            assert_eq!(
                code_of(validate(&params(&[("response_type", bad)]), Some(&c))),
                "unsupported_response_type",
                "{bad}"
            );
        }
        assert_eq!(
            code_of(validate(&without("response_type"), Some(&c))),
            "invalid_request"
        );
    }

    #[test]
    fn scope_must_contain_openid_and_only_known_scopes() {
        let c = client(false);
        assert_eq!(
            code_of(validate(&params(&[("scope", "profile email")]), Some(&c))),
            "invalid_scope"
        );
        assert_eq!(
            code_of(validate(&params(&[("scope", "")]), Some(&c))),
            "invalid_scope"
        );
        assert_eq!(
            code_of(validate(&without("scope"), Some(&c))),
            "invalid_scope"
        );
        assert_eq!(
            code_of(validate(&params(&[("scope", "openid admin")]), Some(&c))),
            "invalid_scope"
        );
        assert_eq!(
            code_of(validate(&params(&[("scope", "openid Profile")]), Some(&c))),
            "invalid_scope"
        );
        let all = SUPPORTED_SCOPES.join(" ");
        assert_eq!(
            validate(&params(&[("scope", &all)]), Some(&c))
                .unwrap()
                .scopes,
            SUPPORTED_SCOPES
        );
    }

    #[test]
    fn pkce_accepts_only_a_valid_s256_challenge() {
        let c = client(false);
        let plain = params(&[
            ("code_challenge", CHALLENGE),
            ("code_challenge_method", "plain"),
        ]);
        assert_eq!(code_of(validate(&plain, Some(&c))), "invalid_request");
        let no_method = params(&[("code_challenge", CHALLENGE)]);
        assert_eq!(
            code_of(validate(&no_method, Some(&c))),
            "invalid_request",
            "the default method is plain"
        );
        let no_challenge = params(&[("code_challenge_method", "S256")]);
        assert_eq!(
            code_of(validate(&no_challenge, Some(&c))),
            "invalid_request"
        );
        let short = params(&[("code_challenge", "abc"), ("code_challenge_method", "S256")]);
        assert_eq!(code_of(validate(&short, Some(&c))), "invalid_request");
        let good = params(&[
            ("code_challenge", CHALLENGE),
            ("code_challenge_method", "S256"),
        ]);
        assert_eq!(
            validate(&good, Some(&c)).unwrap().code_challenge.as_deref(),
            Some(CHALLENGE)
        );
    }

    #[test]
    fn a_public_client_must_send_a_code_challenge() {
        assert_eq!(
            code_of(validate(&params(&[]), Some(&client(true)))),
            "invalid_request"
        );
        let good = params(&[
            ("code_challenge", CHALLENGE),
            ("code_challenge_method", "S256"),
        ]);
        assert!(validate(&good, Some(&client(true))).is_ok());
    }

    #[test]
    fn response_mode_is_query_or_form_post() {
        let c = client(false);
        assert_eq!(
            validate(&params(&[("response_mode", "query")]), Some(&c))
                .unwrap()
                .response_mode,
            ResponseMode::Query
        );
        for bad in ["fragment", "web_message", "jwt"] {
            let e = redirect_error(validate(&params(&[("response_mode", bad)]), Some(&c)));
            assert_eq!(
                (e.error, e.response_mode),
                ("invalid_request", ResponseMode::Query),
                "{bad}"
            );
        }
    }

    #[test]
    fn prompt_none_stands_alone_and_unknown_values_are_refused() {
        let c = client(false);
        assert!(validate(&params(&[("prompt", "none")]), Some(&c))
            .unwrap()
            .has_prompt(Prompt::None));
        assert_eq!(
            code_of(validate(&params(&[("prompt", "none login")]), Some(&c))),
            "invalid_request"
        );
        assert_eq!(
            code_of(validate(&params(&[("prompt", "none consent")]), Some(&c))),
            "invalid_request"
        );
        assert_eq!(
            code_of(validate(
                &params(&[("prompt", "select_everything")]),
                Some(&c)
            )),
            "invalid_request"
        );
        assert_eq!(
            validate(&params(&[("prompt", "login login")]), Some(&c))
                .unwrap()
                .prompt
                .len(),
            1
        );
    }

    #[test]
    fn max_age_is_a_non_negative_integer() {
        let c = client(false);
        assert_eq!(
            validate(&params(&[("max_age", "3600")]), Some(&c))
                .unwrap()
                .max_age,
            Some(3600)
        );
        for bad in ["-1", "1.5", "abc", " 1", "+1", "99999999999999999999999"] {
            assert_eq!(
                code_of(validate(&params(&[("max_age", bad)]), Some(&c))),
                "invalid_request",
                "{bad}"
            );
        }
    }

    #[test]
    fn repeated_parameters_are_refused() {
        let c = client(false);
        for name in ["scope", "response_type", "nonce", "prompt"] {
            let mut p = params(&[(name, "openid")]);
            p.push((name.into(), "openid".into()));
            assert_eq!(code_of(validate(&p, Some(&c))), "invalid_request", "{name}");
        }
        let mut p = params(&[]);
        p.push(("state".into(), "other".into()));
        let e = redirect_error(validate(&p, Some(&c)));
        assert_eq!(
            (e.error, e.state),
            ("invalid_request", None),
            "an ambiguous state is not echoed"
        );
    }

    #[test]
    fn empty_parameters_count_as_absent() {
        let c = client(false);
        let v = validate(
            &params(&[
                ("nonce", ""),
                ("prompt", ""),
                ("response_mode", ""),
                ("max_age", ""),
            ]),
            Some(&c),
        )
        .unwrap();
        assert_eq!(
            (v.nonce, v.max_age, v.response_mode),
            (None, None, ResponseMode::Query)
        );
        assert!(v.prompt.is_empty());
    }

    #[test]
    fn the_client_must_be_allowed_the_authorization_code_grant() {
        let mut c = client(false);
        c.grant_types = vec!["client_credentials".into()];
        assert_eq!(
            code_of(validate(&params(&[]), Some(&c))),
            "unauthorized_client"
        );
    }

    #[test]
    fn request_objects_are_not_supported() {
        let c = client(false);
        assert_eq!(
            code_of(validate(&params(&[("request", "e30.e30.")]), Some(&c))),
            "request_not_supported"
        );
        assert_eq!(
            code_of(validate(&params(&[("request_uri", "urn:x")]), Some(&c))),
            "request_uri_not_supported"
        );
    }

    #[test]
    fn descriptions_are_printable_ascii_without_quotes() {
        let e = redirect_error(validate(
            &params(&[("scope", "openid \"x\\y\u{e9}")]),
            Some(&client(false)),
        ));
        assert_eq!(e.description, "scope ''x'y?' is not supported");
        assert_eq!(error_description(&"x".repeat(500)).len(), 200);
    }

    #[test]
    fn overlong_values_are_refused() {
        let c = client(false);
        let long = "n".repeat(MAX_PARAM_LEN + 1);
        assert_eq!(
            code_of(validate(&params(&[("nonce", &long)]), Some(&c))),
            "invalid_request"
        );
        let e = redirect_error(validate(&params(&[("state", &long)]), Some(&c)));
        assert_eq!((e.error, e.state), ("invalid_request", None));
    }
}
