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
