//! Emails to end users (verification, password reset, "you already have an
//! account"), rendered from `templates/email/link.{html,txt}` in the
//! tenant's brand and the language of the page that caused them, and sent
//! through the tenant's own SMTP server (settings `notifications.smtp`) or
//! the platform's.
//!
//! Sending happens in the background: the page answers at once, and its
//! timing does not depend on whether a mail was sent (so it cannot tell
//! whether an account exists). A failure is logged without the address or
//! the link.

use askama::Template;
use gatehouse_core::mail::{OutgoingMail, SmtpSettings};

use super::brand::Brand;
use super::i18n::Lang;
use super::Front;

/// Which email.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    VerifyEmail,
    ResetPassword,
    AccountExists,
}

impl Kind {
    fn prefix(self) -> &'static str {
        match self {
            Self::VerifyEmail => "email-verify",
            Self::ResetPassword => "email-reset",
            Self::AccountExists => "email-exists",
        }
    }
}

/// What both parts of a link email show.
#[derive(Template)]
#[template(path = "email/link.html", config = "src/front/askama.toml")]
struct LinkHtml<'a> {
    lang: &'a Lang,
    subject: &'a str,
    company: &'a str,
    logo: Option<&'a str>,
    font: &'a str,
    heading: &'a str,
    text: &'a str,
    button: &'a str,
    button_bg: &'a str,
    button_fg: &'a str,
    link: &'a str,
    url: &'a str,
    fallback: &'a str,
    footer: &'a str,
}

#[derive(Template)]
#[template(path = "email/link.txt", config = "src/front/askama.toml")]
struct LinkText<'a> {
    company: &'a str,
    heading: &'a str,
    text: &'a str,
    button: &'a str,
    url: &'a str,
    footer: &'a str,
}

/// Renders email `kind` with `url` for the tenant of `f`, in `f`'s language.
pub(crate) fn render(
    f: &Front,
    kind: Kind,
    to: &str,
    url: &str,
) -> Result<OutgoingMail, askama::Error> {
    let brand = Brand::of(&f.provider.settings, &f.provider.tenant.display_name);
    let lang = &f.lang;
    let company = brand.company_name.as_str();
    let p = kind.prefix();
    let subject = lang.t1(&format!("{p}-subject"), "company", company);
    let heading = lang.t(&format!("{p}-heading"));
    let text = lang.t(&format!("{p}-text"));
    let button = lang.t(&format!("{p}-button"));
    let footer = lang.t1("email-footer", "company", company);
    let (button_bg, button_fg) = brand.email_button();
    let html = LinkHtml {
        lang,
        subject: &subject,
        company,
        logo: brand.logo.as_deref().filter(|l| l.starts_with("https://")),
        font: brand.email_font(),
        heading: &heading,
        text: &text,
        button: &button,
        button_bg: &button_bg,
        button_fg: &button_fg,
        link: &brand.email_link(),
        url,
        fallback: &lang.t("email-link-fallback"),
        footer: &footer,
    }
    .render()?;
    let text = LinkText {
        company,
        heading: &heading,
        text: &text,
        button: &button,
        url,
        footer: &footer,
    }
    .render()?;
    Ok(OutgoingMail {
        to: to.to_owned(),
        subject,
        text,
        html,
    })
}

/// Renders and sends email `kind` in the background.
pub(crate) fn send(f: &Front, kind: Kind, to: &str, url: &str) {
    let mail = match render(f, kind, to, url) {
        Ok(m) => m,
        Err(e) => {
            tracing::error!(error = %e, "email rendering failed");
            return;
        }
    };
    let tenant_smtp = match f.provider.settings.section("notifications") {
        Some(n) => match SmtpSettings::from_notifications(n, &f.state.keyring, f.tenant_id()) {
            Ok(s) => s,
            Err(e) => {
                tracing::warn!(tenant = %f.provider.tenant.slug, error = %e, "the tenant's SMTP settings are unusable; using the platform's");
                None
            }
        },
        None => None,
    };
    let mailer = f.state.mailer.clone();
    let slug = f.provider.tenant.slug.to_string();
    tokio::spawn(async move {
        if let Err(e) = mailer.send(tenant_smtp.as_ref(), mail).await {
            tracing::warn!(tenant = %slug, kind = ?kind, error = %e, "email not sent");
        }
    });
}
