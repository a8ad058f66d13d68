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
scope-roles-title = See your roles
scope-roles-detail = The roles an administrator gave you, which decide what you may do in the application.
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

## Second step of sign-in
mfa-title = Two-step verification
mfa-lead = Enter the 6-digit code from your authenticator app.
mfa-code = Verification code
mfa-submit = Verify
mfa-invalid = That code is not right. Enter the newest code from your app.
mfa-use-recovery = Use a recovery code instead
mfa-recovery-lead = Enter one of your recovery codes. Each code works once.
mfa-recovery-code = Recovery code
mfa-use-app = Use your authenticator app instead
mfa-recovery-invalid = That recovery code is not valid.
mfa-setup-title = Set up two-step verification
mfa-setup-required = { $tenant } asks for a second step at every sign-in.
mfa-setup-lead = Scan this code with an authenticator app, then enter the 6-digit code it shows.
mfa-setup-qr = QR code for your authenticator app
mfa-setup-secret = Cannot scan it? Enter this key in the app instead:
mfa-setup-submit = Turn on
recovery-title = Save your recovery codes
recovery-lead = If you lose your authenticator, each of these codes lets you sign in once. Keep them somewhere safe: they are shown only now.
recovery-shown = Your recovery codes were shown when two-step verification was turned on. Continue to finish signing in.
recovery-continue = I have saved them, continue

## Account page
account-title = Your account
account-signed-in-as = Signed in as { $user }.
account-profile = Profile
account-name = Name
account-given-name = Given name
account-family-name = Family name
account-language = Language
account-save = Save
account-profile-invalid = Each field takes at most 200 characters.
account-email = Email address
account-email-verified = confirmed
account-email-unverified = not confirmed
account-email-new = New email address
account-email-submit = Send a confirmation link
account-email-taken-title = This address cannot be used
account-email-taken = Another account already uses this email address.
account-password = Password
account-password-current = Current password
account-password-wrong = The current password is not right.
account-totp-on = Sign-in asks for a code from your authenticator app.
account-totp-off = Add a second step to sign-in: a code from an authenticator app.
account-totp-add = Set up an authenticator app
account-totp-remove = Turn off
account-recovery-left = Recovery codes left: { $count }
account-recovery-new = Show new recovery codes
account-sessions = Where you are signed in
account-device-unknown = Unknown browser
account-this-device = this browser
account-session-since = Signed in { $time }
account-session-mfa = with two steps
account-session-end = Sign out
account-sessions-end-others = Sign out everywhere else
account-apps = Applications with access
account-apps-none = No application has access to your account.
account-app-revoke = Remove access
account-done-profile = Your profile is saved.
account-done-email-sent = A confirmation link is on its way to the new address. Your address changes when you open it.
account-done-email-changed = Your email address has changed.
account-done-password = Your password has changed. Every other session has been signed out.
account-done-totp-on = Two-step verification is on.
account-done-totp-off = Two-step verification is off.
account-done-session-ended = The session has been signed out.
account-done-others-ended = Every other session has been signed out.
account-done-app-revoked = The application no longer has access.
account-done-recovery = Your recovery codes are saved.

## Passkeys
passkey-or = or
passkey-sign-in = Sign in with a passkey
passkey-use = Use a passkey
passkey-mfa-lead = Confirm it is you with your passkey.
passkey-cancelled = The passkey was not used. Try again, or choose another way.
passkey-unsupported = This browser cannot use passkeys.
passkey-failed-title = The passkey did not work
passkey-failed-message = This passkey is not known here, or it could not be checked. Go back and try again, or sign in with your password.
passkey-unavailable-title = Passkeys are not available here
passkey-unavailable-message = Passkeys need a secure address (https with a domain name).
passkey-title = Passkeys
passkey-none = Sign in with your fingerprint, face or device PIN instead of a password.
passkey-add = Add a passkey
passkey-add-title = Add a passkey
passkey-add-lead = Your browser or phone creates a passkey for this account. It stays on your device; only its public key is stored here.
passkey-name = Name of the passkey
passkey-default-name = Passkey
passkey-add-submit = Create passkey
passkey-register-failed = The passkey could not be checked. Try again.
passkey-name-invalid = Give the passkey a name of at most 64 characters.
passkey-rename = Rename
passkey-remove = Remove
passkey-created = Added { $time }
passkey-last-used = last used { $time }
account-done-passkey-added = The passkey was added.
account-done-passkey-renamed = The passkey was renamed.
account-done-passkey-removed = The passkey was removed.
account-done-passkey-name-invalid = Give the passkey a name of at most 64 characters.
