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

## Links on the sign-in page
login-forgot = Forgot your password?
login-signup = Create an account
login-unverified = Confirm your email address first. We have sent you a new link.
continue-sign-in = Continue to sign in
return-to-app = Return to the application and sign in.

## Sign up
signup-title = Create your account
signup-lead = at { $tenant }
signup-name = Name (optional)
signup-email = Email address
signup-password = Password
signup-password-hint = At least { $min } characters. Long passphrases are welcome.
signup-submit = Create account
signup-have-account = Already have an account?
signup-unavailable-title = Sign-up is not available
signup-unavailable-message = New accounts cannot be created here. Ask your administrator for an invitation.
signup-domain = Sign-up with this email address is not allowed here.
signup-email-invalid = Enter a valid email address.
check-email-title = Check your email
check-email-text = We have sent a message to { $email }. Open the link in it to confirm your address. If it does not arrive within a few minutes, look in your spam folder.

## Email verification
verify-title = Confirm your email address
verify-text = Confirm that { $email } is your email address.
verify-submit = Confirm
verified-title = Email address confirmed
verified-text = Thank you. The address { $email } is confirmed.

## Password reset
forgot-title = Reset your password
forgot-lead = Enter your username or email address. We will send you a link to choose a new password.
forgot-login = Username or email address
forgot-submit = Send link
forgot-sent-text = If an account exists for { $login }, an email with a link is on its way. The link works for one hour.
reset-title = Choose a new password
reset-password = New password
reset-confirm = Repeat the new password
reset-submit = Change password
reset-mismatch = The two passwords differ.
reset-done-title = Password changed
reset-done-text = Your password has been changed, and every other session of your account has been signed out.
link-invalid-title = This link cannot be used
link-invalid-message = It has expired or was already used. Ask for a new one.

## Password rules
password-too-short = Use at least { $min } characters.
password-too-long = Use at most { $max } characters.
password-common = This password is too common. Choose one that is harder to guess.
password-context = Do not use your name or email address in your password.

## Too many attempts
throttled-title = Too many attempts
throttled-message = For your security, wait { $seconds } seconds before trying again.

## Emails
email-verify-subject = Confirm your email address for { $company }
email-verify-heading = Confirm your email address
email-verify-text = Open the link below to confirm that this is your email address. The link works for 24 hours.
email-verify-button = Confirm email address
email-reset-subject = Reset your password for { $company }
email-reset-heading = Reset your password
email-reset-text = Someone asked to reset the password of your account. If it was you, open the link below within one hour. If not, ignore this message: your password stays as it is.
email-reset-button = Choose a new password
email-exists-subject = Your account at { $company }
email-exists-heading = You already have an account
email-exists-text = Someone tried to create an account with this email address, but it already has one. If it was you, sign in, or reset your password if you have forgotten it. If not, ignore this message.
email-exists-button = Reset your password
email-link-fallback = If the button does not work, copy this address into your browser:
email-footer = This message was sent by { $company }. If you did not expect it, you can ignore it.
