# Gatehouse-Seiten für Endnutzer, Deutsch.

language-switch = Sprache

## Anmelden
login-title = Anmelden
login-continue-to = weiter zu { $client }
login-username = Benutzername
login-password = Passwort
login-submit = Anmelden
login-invalid = Benutzername oder Passwort ist falsch.

## Zustimmung
consent-title = Zugriff erlauben
consent-heading = { $client } möchte auf Ihr Konto zugreifen
consent-intro = Angemeldet als { $user }. Wenn Sie zustimmen, kann { $client }:
consent-deny = Ablehnen
consent-allow = Erlauben
scope-openid-title = Wissen, wer Sie sind
scope-openid-detail = Eine gleichbleibende Kennung Ihres Kontos, damit die Anwendung Sie wiedererkennt.
scope-profile-title = Ihr Profil sehen
scope-profile-detail = Ihr Name, Benutzername, Ihre Sprache und wann Ihr Profil geändert wurde.
scope-email-title = Ihre E-Mail-Adresse sehen
scope-email-detail = Ihre E-Mail-Adresse und ob sie bestätigt ist.
scope-phone-title = Ihre Telefonnummer sehen
scope-phone-detail = Ihre Telefonnummer und ob sie bestätigt ist.
scope-address-title = Ihre Postanschrift sehen
scope-address-detail = Die Anschrift in Ihrem Profil.
scope-roles-title = Ihre Rollen sehen
scope-roles-detail = Die Rollen, die Ihnen eine Administratorin oder ein Administrator gegeben hat und die bestimmen, was Sie in der Anwendung tun dürfen.
scope-offline_access-title = Verbunden bleiben
scope-offline_access-detail = Auf diese Angaben auch zugreifen, während Sie die Anwendung nicht nutzen, bis Sie es widerrufen.

## Zurück zur Anwendung (form_post)
formpost-title = Zurück zur Anwendung
formpost-manual = Wenn nichts passiert, fahren Sie von Hand fort.
formpost-continue = Weiter

## Abmelden
logout-title = Abmelden
logout-heading = Abmelden?
logout-text = Möchten Sie sich von { $tenant } abmelden? Wenn Sie das nicht veranlasst haben, schließen Sie diese Seite.
logout-submit = Abmelden
loggedout-title = Abgemeldet
loggedout-heading = Sie sind abgemeldet
loggedout-text = Sie haben sich von { $tenant } abgemeldet. Sie können dieses Fenster schließen.

## Fehler
error-details = Einzelheiten: { $detail }
error-internal-title = Etwas ist schiefgegangen
error-internal-message = Die Anfrage konnte nicht abgeschlossen werden. Bitte versuchen Sie es gleich noch einmal.
error-expired-title = Diese Anmeldeanfrage ist abgelaufen
error-expired-message = Gehen Sie zurück zur Anwendung und beginnen Sie von vorn.
error-csrf-title = Dieses Formular ist abgelaufen
error-csrf-message = Die gesendete Seite war veraltet oder stammte nicht von dieser Website. Gehen Sie zurück, laden Sie die Seite neu und versuchen Sie es noch einmal.
error-request-title = Diese Anfrage kann nicht abgeschlossen werden
error-request-unreadable = Die Anmeldeanfrage konnte nicht gelesen werden. Gehen Sie zurück zur Anwendung und versuchen Sie es noch einmal.
error-request-invalid = Die Anwendung hat eine Anmeldeanfrage gesendet, die dieser Dienst nicht annehmen kann. Wenn das wieder geschieht, wenden Sie sich an den Support der Anwendung.
error-client-gone = Die Anwendung, die Sie hierher geschickt hat, ist nicht mehr registriert.
error-signed-out-title = Sie sind nicht angemeldet
error-signed-out-message = Ihre Sitzung ist beendet. Gehen Sie zurück zur Anwendung und melden Sie sich erneut an.
error-consent-choice = Wählen Sie „Erlauben“ oder „Ablehnen“.
error-logout-title = Diese Abmeldung kann nicht abgeschlossen werden
error-logout-unreadable = Die Abmeldeanfrage konnte nicht gelesen werden.
error-logout-hint = Die Anwendung hat einen id_token_hint gesendet, der nicht hier ausgestellt wurde.
error-logout-client-mismatch = Die client_id passt nicht zum Client des id_token_hint.
error-logout-no-client = Die Anfrage nennt eine Rücksprungadresse, aber keine Anwendung (client_id oder id_token_hint).
error-logout-unregistered = Die Rücksprungadresse ist für diese Anwendung nicht registriert.
error-language-title = Diese Sprache kann nicht gewählt werden
error-language-message = Gehen Sie zurück und wählen Sie eine der angebotenen Sprachen.

## Verweise auf der Anmeldeseite
login-forgot = Passwort vergessen?
login-signup = Konto erstellen
login-unverified = Bestätigen Sie zuerst Ihre E-Mail-Adresse. Wir haben Ihnen einen neuen Link gesendet.
continue-sign-in = Weiter zur Anmeldung
return-to-app = Kehren Sie zur Anwendung zurück und melden Sie sich an.

## Registrierung
signup-title = Konto erstellen
signup-lead = bei { $tenant }
signup-name = Name (optional)
signup-email = E-Mail-Adresse
signup-password = Passwort
signup-password-hint = Mindestens { $min } Zeichen. Lange Passphrasen sind willkommen.
signup-submit = Konto erstellen
signup-have-account = Sie haben schon ein Konto?
signup-unavailable-title = Registrierung nicht möglich
signup-unavailable-message = Hier können keine neuen Konten erstellt werden. Bitten Sie Ihre Administration um eine Einladung.
signup-domain = Mit dieser E-Mail-Adresse ist eine Registrierung hier nicht möglich.
signup-email-invalid = Geben Sie eine gültige E-Mail-Adresse ein.
check-email-title = Prüfen Sie Ihre E-Mails
check-email-text = Wir haben eine Nachricht an { $email } gesendet. Öffnen Sie den Link darin, um Ihre Adresse zu bestätigen. Kommt sie nicht innerhalb weniger Minuten an, sehen Sie im Spam-Ordner nach.

## E-Mail-Bestätigung
verify-title = E-Mail-Adresse bestätigen
verify-text = Bestätigen Sie, dass { $email } Ihre E-Mail-Adresse ist.
verify-submit = Bestätigen
verified-title = E-Mail-Adresse bestätigt
verified-text = Danke. Die Adresse { $email } ist bestätigt.

## Passwort zurücksetzen
forgot-title = Passwort zurücksetzen
forgot-lead = Geben Sie Ihren Benutzernamen oder Ihre E-Mail-Adresse ein. Wir senden Ihnen einen Link, mit dem Sie ein neues Passwort wählen.
forgot-login = Benutzername oder E-Mail-Adresse
forgot-submit = Link senden
forgot-sent-text = Falls es ein Konto für { $login } gibt, ist eine E-Mail mit einem Link unterwegs. Der Link gilt eine Stunde.
reset-title = Neues Passwort wählen
reset-password = Neues Passwort
reset-confirm = Neues Passwort wiederholen
reset-submit = Passwort ändern
reset-mismatch = Die beiden Passwörter stimmen nicht überein.
reset-done-title = Passwort geändert
reset-done-text = Ihr Passwort wurde geändert, und alle anderen Sitzungen Ihres Kontos wurden abgemeldet.
link-invalid-title = Dieser Link kann nicht verwendet werden
link-invalid-message = Er ist abgelaufen oder wurde schon benutzt. Fordern Sie einen neuen an.

## Passwortregeln
password-too-short = Verwenden Sie mindestens { $min } Zeichen.
password-too-long = Verwenden Sie höchstens { $max } Zeichen.
password-common = Dieses Passwort ist zu verbreitet. Wählen Sie eines, das schwerer zu erraten ist.
password-context = Verwenden Sie Ihren Namen oder Ihre E-Mail-Adresse nicht im Passwort.

## Zu viele Versuche
throttled-title = Zu viele Versuche
throttled-message = Zu Ihrer Sicherheit warten Sie { $seconds } Sekunden, bevor Sie es erneut versuchen.

## E-Mails
email-verify-subject = Bestätigen Sie Ihre E-Mail-Adresse für { $company }
email-verify-heading = E-Mail-Adresse bestätigen
email-verify-text = Öffnen Sie den Link unten, um zu bestätigen, dass dies Ihre E-Mail-Adresse ist. Der Link gilt 24 Stunden.
email-verify-button = E-Mail-Adresse bestätigen
email-reset-subject = Passwort zurücksetzen für { $company }
email-reset-heading = Passwort zurücksetzen
email-reset-text = Jemand hat das Zurücksetzen des Passworts Ihres Kontos angefordert. Wenn Sie es waren, öffnen Sie den Link unten innerhalb einer Stunde. Wenn nicht, ignorieren Sie diese Nachricht: Ihr Passwort bleibt unverändert.
email-reset-button = Neues Passwort wählen
email-exists-subject = Ihr Konto bei { $company }
email-exists-heading = Sie haben bereits ein Konto
email-exists-text = Jemand hat versucht, mit dieser E-Mail-Adresse ein Konto zu erstellen, aber es gibt bereits eines. Wenn Sie es waren, melden Sie sich an oder setzen Sie Ihr Passwort zurück, falls Sie es vergessen haben. Wenn nicht, ignorieren Sie diese Nachricht.
email-exists-button = Passwort zurücksetzen
email-link-fallback = Wenn die Schaltfläche nicht funktioniert, kopieren Sie diese Adresse in Ihren Browser:
email-footer = Diese Nachricht wurde von { $company } gesendet. Wenn Sie sie nicht erwartet haben, können Sie sie ignorieren.

## Zweiter Schritt der Anmeldung
mfa-title = Bestätigung in zwei Schritten
mfa-lead = Geben Sie den 6-stelligen Code aus Ihrer Authenticator-App ein.
mfa-code = Bestätigungscode
mfa-submit = Bestätigen
mfa-invalid = Dieser Code stimmt nicht. Geben Sie den neuesten Code aus Ihrer App ein.
mfa-use-recovery = Stattdessen einen Wiederherstellungscode verwenden
mfa-recovery-lead = Geben Sie einen Ihrer Wiederherstellungscodes ein. Jeder Code gilt einmal.
mfa-recovery-code = Wiederherstellungscode
mfa-use-app = Stattdessen die Authenticator-App verwenden
mfa-recovery-invalid = Dieser Wiederherstellungscode ist nicht gültig.
mfa-setup-title = Bestätigung in zwei Schritten einrichten
mfa-setup-required = { $tenant } verlangt bei jeder Anmeldung einen zweiten Schritt.
mfa-setup-lead = Scannen Sie diesen Code mit einer Authenticator-App und geben Sie dann den 6-stelligen Code ein, den sie anzeigt.
mfa-setup-qr = QR-Code für Ihre Authenticator-App
mfa-setup-secret = Scannen nicht möglich? Geben Sie stattdessen diesen Schlüssel in der App ein:
mfa-setup-submit = Einschalten
recovery-title = Speichern Sie Ihre Wiederherstellungscodes
recovery-lead = Wenn Sie Ihren Authenticator verlieren, können Sie sich mit jedem dieser Codes einmal anmelden. Bewahren Sie sie sicher auf: Sie werden nur jetzt angezeigt.
recovery-shown = Ihre Wiederherstellungscodes wurden beim Einschalten der Bestätigung in zwei Schritten angezeigt. Fahren Sie fort, um die Anmeldung abzuschließen.
recovery-continue = Ich habe sie gespeichert, weiter

## Kontoseite
account-title = Ihr Konto
account-signed-in-as = Angemeldet als { $user }.
account-profile = Profil
account-name = Name
account-given-name = Vorname
account-family-name = Nachname
account-language = Sprache
account-save = Speichern
account-profile-invalid = Jedes Feld fasst höchstens 200 Zeichen.
account-email = E-Mail-Adresse
account-email-verified = bestätigt
account-email-unverified = nicht bestätigt
account-email-new = Neue E-Mail-Adresse
account-email-submit = Bestätigungslink senden
account-email-taken-title = Diese Adresse kann nicht verwendet werden
account-email-taken = Ein anderes Konto verwendet diese E-Mail-Adresse bereits.
account-password = Passwort
account-password-current = Aktuelles Passwort
account-password-wrong = Das aktuelle Passwort stimmt nicht.
account-totp-on = Die Anmeldung fragt nach einem Code aus Ihrer Authenticator-App.
account-totp-off = Fügen Sie der Anmeldung einen zweiten Schritt hinzu: einen Code aus einer Authenticator-App.
account-totp-add = Authenticator-App einrichten
account-totp-remove = Ausschalten
account-recovery-left = Verbleibende Wiederherstellungscodes: { $count }
account-recovery-new = Neue Wiederherstellungscodes anzeigen
account-sessions = Wo Sie angemeldet sind
account-device-unknown = Unbekannter Browser
account-this-device = dieser Browser
account-session-since = Angemeldet { $time }
account-session-mfa = in zwei Schritten
account-session-end = Abmelden
account-sessions-end-others = Überall sonst abmelden
account-apps = Anwendungen mit Zugriff
account-apps-none = Keine Anwendung hat Zugriff auf Ihr Konto.
account-app-revoke = Zugriff entziehen
account-done-profile = Ihr Profil ist gespeichert.
account-done-email-sent = Ein Bestätigungslink ist an die neue Adresse unterwegs. Ihre Adresse ändert sich, wenn Sie ihn öffnen.
account-done-email-changed = Ihre E-Mail-Adresse wurde geändert.
account-done-password = Ihr Passwort wurde geändert. Alle anderen Sitzungen wurden abgemeldet.
account-done-totp-on = Die Bestätigung in zwei Schritten ist eingeschaltet.
account-done-totp-off = Die Bestätigung in zwei Schritten ist ausgeschaltet.
account-done-session-ended = Die Sitzung wurde abgemeldet.
account-done-others-ended = Alle anderen Sitzungen wurden abgemeldet.
account-done-app-revoked = Die Anwendung hat keinen Zugriff mehr.
account-done-recovery = Ihre Wiederherstellungscodes sind gespeichert.

## Passkeys
passkey-or = oder
passkey-sign-in = Mit einem Passkey anmelden
passkey-use = Passkey verwenden
passkey-mfa-lead = Bestätigen Sie mit Ihrem Passkey, dass Sie es sind.
passkey-cancelled = Der Passkey wurde nicht verwendet. Versuchen Sie es erneut oder wählen Sie einen anderen Weg.
passkey-unsupported = Dieser Browser kann keine Passkeys verwenden.
passkey-failed-title = Der Passkey hat nicht funktioniert
passkey-failed-message = Dieser Passkey ist hier nicht bekannt oder konnte nicht geprüft werden. Gehen Sie zurück und versuchen Sie es erneut, oder melden Sie sich mit Ihrem Passwort an.
passkey-unavailable-title = Passkeys sind hier nicht verfügbar
passkey-unavailable-message = Passkeys brauchen eine sichere Adresse (https mit einem Domainnamen).
passkey-title = Passkeys
passkey-none = Melden Sie sich mit Fingerabdruck, Gesicht oder Geräte-PIN statt mit einem Passwort an.
passkey-add = Passkey hinzufügen
passkey-add-title = Passkey hinzufügen
passkey-add-lead = Ihr Browser oder Telefon erstellt einen Passkey für dieses Konto. Er bleibt auf Ihrem Gerät; hier wird nur sein öffentlicher Schlüssel gespeichert.
passkey-name = Name des Passkeys
passkey-default-name = Passkey
passkey-add-submit = Passkey erstellen
passkey-register-failed = Der Passkey konnte nicht geprüft werden. Versuchen Sie es erneut.
passkey-name-invalid = Geben Sie dem Passkey einen Namen mit höchstens 64 Zeichen.
passkey-rename = Umbenennen
passkey-remove = Entfernen
passkey-created = Hinzugefügt { $time }
passkey-last-used = zuletzt verwendet { $time }
account-done-passkey-added = Der Passkey wurde hinzugefügt.
account-done-passkey-renamed = Der Passkey wurde umbenannt.
account-done-passkey-removed = Der Passkey wurde entfernt.
account-done-passkey-name-invalid = Geben Sie dem Passkey einen Namen mit höchstens 64 Zeichen.
