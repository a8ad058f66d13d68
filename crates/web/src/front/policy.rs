//! The password policy of a tenant's pages: the tenant's `security`
//! settings, never weaker than the platform's (its own `[settings.security]`
//! and the built-in floor), with each problem in the page's language.

use gatehouse_core::password_policy::{PasswordPolicy, PolicyViolation};
use gatehouse_tenancy::settings::EffectiveSettings;

use super::Front;

/// The policy that applies on `f`'s tenant.
pub(crate) fn of(f: &Front) -> PasswordPolicy {
    let platform = EffectiveSettings::platform(&f.state.config.settings);
    let none = serde_json::Value::Null;
    let floor = PasswordPolicy::from_settings(
        platform.section("security").unwrap_or(&none),
        &PasswordPolicy::default(),
    );
    PasswordPolicy::from_settings(
        f.provider.settings.section("security").unwrap_or(&none),
        &floor,
    )
}

/// What is wrong with `password`, in words (empty: nothing). `context`:
/// the user's name, username and email address, which a password must not
/// contain.
pub(crate) fn problems(f: &Front, password: &str, context: &[&str]) -> Vec<String> {
    match of(f).check(password, context) {
        Ok(()) => Vec::new(),
        Err(violations) => violations
            .iter()
            .map(|v| match v {
                PolicyViolation::TooShort { min } => {
                    f.lang.t1("password-too-short", "min", &min.to_string())
                }
                PolicyViolation::TooLong { max } => {
                    f.lang.t1("password-too-long", "max", &max.to_string())
                }
                PolicyViolation::Common => f.lang.t("password-common"),
                PolicyViolation::ContainsContext => f.lang.t("password-context"),
            })
            .collect(),
    }
}
