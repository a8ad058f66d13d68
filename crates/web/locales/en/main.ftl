# Gatehouse end-user pages, English (the reference catalogue: every message
# here must exist in every other language).

language-switch = Language

## Sign in
login-title = Sign in
login-continue-to = to continue to { $client }
login-username = Username
login-password = Password
login-submit = Sign in
login-invalid = Invalid username or password.

## Consent
consent-title = Allow access
consent-heading = { $client } wants to access your account
consent-intro = Signed in as { $user }. If you allow it, { $client } will be able to:
consent-deny = Deny
consent-allow = Allow
scope-openid-title = Know who you are
scope-openid-detail = A stable identifier for your account, so the application can recognise you.
scope-profile-title = See your profile
scope-profile-detail = Your name, username, language and when your profile changed.
scope-email-title = See your email address
scope-email-detail = Your email address and whether it has been verified.
scope-phone-title = See your phone number
scope-phone-detail = Your phone number and whether it has been verified.
scope-address-title = See your postal address
scope-address-detail = The address in your profile.
scope-offline_access-title = Stay connected
scope-offline_access-detail = Keep access to this information while you are not using the application, until you withdraw it.

## Returning to the application (form_post)
formpost-title = Returning to the application
formpost-manual = If nothing happens, continue manually.
formpost-continue = Continue

## Sign out
logout-title = Sign out
logout-heading = Sign out?
logout-text = Do you want to sign out of { $tenant }? If you did not ask to sign out, close this page.
logout-submit = Sign out
loggedout-title = Signed out
loggedout-heading = You are signed out
loggedout-text = You have signed out of { $tenant }. You can close this window.

## Errors
error-details = Details: { $detail }
error-internal-title = Something went wrong
error-internal-message = The request could not be completed. Please try again in a moment.
error-expired-title = This sign-in request has expired
error-expired-message = Go back to the application and start again.
error-csrf-title = This form has expired
error-csrf-message = The page you submitted was stale or did not come from this site. Go back, reload the page and try again.
error-request-title = This request cannot be completed
error-request-unreadable = The sign-in request could not be read. Go back to the application and try again.
error-request-invalid = The application sent a sign-in request that this service cannot accept. If this keeps happening, tell the application's support.
error-client-gone = The application that sent you here is no longer registered.
error-signed-out-title = You are not signed in
error-signed-out-message = Your session has ended. Go back to the application and sign in again.
error-consent-choice = Choose Allow or Deny.
error-logout-title = This sign-out request cannot be completed
error-logout-unreadable = The sign-out request could not be read.
error-logout-hint = The application sent an id_token_hint that was not issued here.
error-logout-client-mismatch = The client_id does not match the client of the id_token_hint.
error-logout-no-client = The request names a return address but no application (client_id or id_token_hint).
error-logout-unregistered = The return address is not registered for this application.
error-language-title = This language cannot be chosen
error-language-message = Go back and choose one of the languages offered.
