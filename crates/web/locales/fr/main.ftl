# Pages Gatehouse pour les utilisateurs, français.

language-switch = Langue

## Connexion
login-title = Se connecter
login-continue-to = pour continuer vers { $client }
login-username = Nom d’utilisateur
login-password = Mot de passe
login-submit = Se connecter
login-invalid = Nom d’utilisateur ou mot de passe incorrect.

## Consentement
consent-title = Autoriser l’accès
consent-heading = { $client } souhaite accéder à votre compte
consent-intro = Connecté en tant que { $user }. Si vous l’autorisez, { $client } pourra :
consent-deny = Refuser
consent-allow = Autoriser
scope-openid-title = Savoir qui vous êtes
scope-openid-detail = Un identifiant stable de votre compte, pour que l’application vous reconnaisse.
scope-profile-title = Voir votre profil
scope-profile-detail = Votre nom, votre nom d’utilisateur, votre langue et la date de modification de votre profil.
scope-email-title = Voir votre adresse e-mail
scope-email-detail = Votre adresse e-mail et si elle a été vérifiée.
scope-phone-title = Voir votre numéro de téléphone
scope-phone-detail = Votre numéro de téléphone et s’il a été vérifié.
scope-address-title = Voir votre adresse postale
scope-address-detail = L’adresse de votre profil.
scope-roles-title = Voir vos rôles
scope-roles-detail = Les rôles qu’un administrateur vous a attribués, qui décident de ce que vous pouvez faire dans l’application.
scope-offline_access-title = Rester connecté
scope-offline_access-detail = Garder l’accès à ces informations lorsque vous n’utilisez pas l’application, jusqu’à ce que vous le retiriez.

## Retour à l’application (form_post)
formpost-title = Retour à l’application
formpost-manual = Si rien ne se passe, continuez manuellement.
formpost-continue = Continuer

## Déconnexion
logout-title = Se déconnecter
logout-heading = Se déconnecter ?
logout-text = Voulez-vous vous déconnecter de { $tenant } ? Si vous n’avez pas demandé à vous déconnecter, fermez cette page.
logout-submit = Se déconnecter
loggedout-title = Déconnecté
loggedout-heading = Vous êtes déconnecté
loggedout-text = Vous vous êtes déconnecté de { $tenant }. Vous pouvez fermer cette fenêtre.

## Erreurs
error-details = Détails : { $detail }
error-internal-title = Une erreur s’est produite
error-internal-message = La demande n’a pas pu aboutir. Veuillez réessayer dans un instant.
error-expired-title = Cette demande de connexion a expiré
error-expired-message = Retournez à l’application et recommencez.
error-csrf-title = Ce formulaire a expiré
error-csrf-message = La page envoyée était périmée ou ne provenait pas de ce site. Revenez en arrière, rechargez la page et réessayez.
error-request-title = Cette demande ne peut pas aboutir
error-request-unreadable = La demande de connexion n’a pas pu être lue. Retournez à l’application et réessayez.
error-request-invalid = L’application a envoyé une demande de connexion que ce service ne peut pas accepter. Si cela se reproduit, contactez le support de l’application.
error-client-gone = L’application qui vous a envoyé ici n’est plus enregistrée.
error-signed-out-title = Vous n’êtes pas connecté
error-signed-out-message = Votre session a pris fin. Retournez à l’application et connectez-vous à nouveau.
error-consent-choice = Choisissez « Autoriser » ou « Refuser ».
error-logout-title = Cette déconnexion ne peut pas aboutir
error-logout-unreadable = La demande de déconnexion n’a pas pu être lue.
error-logout-hint = L’application a envoyé un id_token_hint qui n’a pas été émis ici.
error-logout-client-mismatch = Le client_id ne correspond pas au client de l’id_token_hint.
error-logout-no-client = La demande indique une adresse de retour mais aucune application (client_id ou id_token_hint).
error-logout-unregistered = L’adresse de retour n’est pas enregistrée pour cette application.
error-language-title = Cette langue ne peut pas être choisie
error-language-message = Revenez en arrière et choisissez l’une des langues proposées.

## Liens de la page de connexion
login-forgot = Mot de passe oublié ?
login-signup = Créer un compte
login-unverified = Confirmez d’abord votre adresse e-mail. Nous vous avons envoyé un nouveau lien.
continue-sign-in = Continuer vers la connexion
return-to-app = Retournez à l’application et connectez-vous.

## Inscription
signup-title = Créer votre compte
signup-lead = chez { $tenant }
signup-name = Nom (facultatif)
signup-email = Adresse e-mail
signup-password = Mot de passe
signup-password-hint = Au moins { $min } caractères. Les longues phrases de passe sont bienvenues.
signup-submit = Créer le compte
signup-have-account = Vous avez déjà un compte ?
signup-unavailable-title = L’inscription n’est pas disponible
signup-unavailable-message = Aucun compte ne peut être créé ici. Demandez une invitation à votre administrateur.
signup-domain = L’inscription avec cette adresse e-mail n’est pas autorisée ici.
signup-email-invalid = Saisissez une adresse e-mail valide.
check-email-title = Consultez vos e-mails
check-email-text = Nous avons envoyé un message à { $email }. Ouvrez le lien qu’il contient pour confirmer votre adresse. S’il n’arrive pas d’ici quelques minutes, regardez dans vos indésirables.

## Vérification de l’adresse
verify-title = Confirmer votre adresse e-mail
verify-text = Confirmez que { $email } est votre adresse e-mail.
verify-submit = Confirmer
verified-title = Adresse e-mail confirmée
verified-text = Merci. L’adresse { $email } est confirmée.

## Réinitialisation du mot de passe
forgot-title = Réinitialiser votre mot de passe
forgot-lead = Saisissez votre nom d’utilisateur ou votre adresse e-mail. Nous vous enverrons un lien pour choisir un nouveau mot de passe.
forgot-login = Nom d’utilisateur ou adresse e-mail
forgot-submit = Envoyer le lien
forgot-sent-text = Si un compte existe pour { $login }, un e-mail avec un lien est en route. Le lien est valable une heure.
reset-title = Choisir un nouveau mot de passe
reset-password = Nouveau mot de passe
reset-confirm = Répétez le nouveau mot de passe
reset-submit = Changer le mot de passe
reset-mismatch = Les deux mots de passe diffèrent.
reset-done-title = Mot de passe changé
reset-done-text = Votre mot de passe a été changé et toutes les autres sessions de votre compte ont été déconnectées.
link-invalid-title = Ce lien ne peut pas être utilisé
link-invalid-message = Il a expiré ou a déjà été utilisé. Demandez-en un nouveau.

## Règles de mot de passe
password-too-short = Utilisez au moins { $min } caractères.
password-too-long = Utilisez au plus { $max } caractères.
password-common = Ce mot de passe est trop courant. Choisissez-en un plus difficile à deviner.
password-context = N’utilisez pas votre nom ni votre adresse e-mail dans votre mot de passe.

## Trop de tentatives
throttled-title = Trop de tentatives
throttled-message = Pour votre sécurité, attendez { $seconds } secondes avant de réessayer.

## E-mails
email-verify-subject = Confirmez votre adresse e-mail pour { $company }
email-verify-heading = Confirmez votre adresse e-mail
email-verify-text = Ouvrez le lien ci-dessous pour confirmer qu’il s’agit bien de votre adresse e-mail. Le lien est valable 24 heures.
email-verify-button = Confirmer l’adresse e-mail
email-reset-subject = Réinitialisez votre mot de passe pour { $company }
email-reset-heading = Réinitialisez votre mot de passe
email-reset-text = Quelqu’un a demandé la réinitialisation du mot de passe de votre compte. Si c’était vous, ouvrez le lien ci-dessous dans l’heure. Sinon, ignorez ce message : votre mot de passe reste inchangé.
email-reset-button = Choisir un nouveau mot de passe
email-exists-subject = Votre compte chez { $company }
email-exists-heading = Vous avez déjà un compte
email-exists-text = Quelqu’un a essayé de créer un compte avec cette adresse e-mail, mais elle en a déjà un. Si c’était vous, connectez-vous, ou réinitialisez votre mot de passe si vous l’avez oublié. Sinon, ignorez ce message.
email-exists-button = Réinitialiser votre mot de passe
email-link-fallback = Si le bouton ne fonctionne pas, copiez cette adresse dans votre navigateur :
email-footer = Ce message a été envoyé par { $company }. Si vous ne l’attendiez pas, vous pouvez l’ignorer.

## Deuxième étape de connexion
mfa-title = Validation en deux étapes
mfa-lead = Saisissez le code à 6 chiffres de votre application d’authentification.
mfa-code = Code de validation
mfa-submit = Valider
mfa-invalid = Ce code n’est pas correct. Saisissez le code le plus récent de votre application.
mfa-use-recovery = Utiliser plutôt un code de récupération
mfa-recovery-lead = Saisissez l’un de vos codes de récupération. Chaque code n’est valable qu’une fois.
mfa-recovery-code = Code de récupération
mfa-use-app = Utiliser plutôt votre application d’authentification
mfa-recovery-invalid = Ce code de récupération n’est pas valide.
mfa-setup-title = Configurer la validation en deux étapes
mfa-setup-required = { $tenant } demande une deuxième étape à chaque connexion.
mfa-setup-lead = Scannez ce code avec une application d’authentification, puis saisissez le code à 6 chiffres qu’elle affiche.
mfa-setup-qr = Code QR pour votre application d’authentification
mfa-setup-secret = Impossible de le scanner ? Saisissez plutôt cette clé dans l’application :
mfa-setup-submit = Activer
recovery-title = Enregistrez vos codes de récupération
recovery-lead = Si vous perdez votre application d’authentification, chacun de ces codes vous permet de vous connecter une fois. Conservez-les en lieu sûr : ils ne sont affichés que maintenant.
recovery-shown = Vos codes de récupération ont été affichés à l’activation de la validation en deux étapes. Continuez pour terminer la connexion.
recovery-continue = Je les ai enregistrés, continuer

## Page du compte
account-title = Votre compte
account-signed-in-as = Connecté en tant que { $user }.
account-profile = Profil
account-name = Nom
account-given-name = Prénom
account-family-name = Nom de famille
account-language = Langue
account-save = Enregistrer
account-profile-invalid = Chaque champ accepte au plus 200 caractères.
account-email = Adresse e-mail
account-email-verified = confirmée
account-email-unverified = non confirmée
account-email-new = Nouvelle adresse e-mail
account-email-submit = Envoyer un lien de confirmation
account-email-taken-title = Cette adresse ne peut pas être utilisée
account-email-taken = Un autre compte utilise déjà cette adresse e-mail.
account-password = Mot de passe
account-password-current = Mot de passe actuel
account-password-wrong = Le mot de passe actuel n’est pas correct.
account-totp-on = La connexion demande un code de votre application d’authentification.
account-totp-off = Ajoutez une deuxième étape à la connexion : un code d’une application d’authentification.
account-totp-add = Configurer une application d’authentification
account-totp-remove = Désactiver
account-recovery-left = Codes de récupération restants : { $count }
account-recovery-new = Afficher de nouveaux codes de récupération
account-sessions = Où vous êtes connecté
account-device-unknown = Navigateur inconnu
account-this-device = ce navigateur
account-session-since = Connecté { $time }
account-session-mfa = en deux étapes
account-session-end = Se déconnecter
account-sessions-end-others = Se déconnecter partout ailleurs
account-apps = Applications ayant accès
account-apps-none = Aucune application n’a accès à votre compte.
account-app-revoke = Retirer l’accès
account-done-profile = Votre profil est enregistré.
account-done-email-sent = Un lien de confirmation est en route vers la nouvelle adresse. Votre adresse change lorsque vous l’ouvrez.
account-done-email-changed = Votre adresse e-mail a changé.
account-done-password = Votre mot de passe a changé. Toutes les autres sessions ont été déconnectées.
account-done-totp-on = La validation en deux étapes est activée.
account-done-totp-off = La validation en deux étapes est désactivée.
account-done-session-ended = La session a été déconnectée.
account-done-others-ended = Toutes les autres sessions ont été déconnectées.
account-done-app-revoked = L’application n’a plus accès.
account-done-recovery = Vos codes de récupération sont enregistrés.

## Clés d’accès
passkey-or = ou
passkey-sign-in = Se connecter avec une clé d’accès
passkey-use = Utiliser une clé d’accès
passkey-mfa-lead = Confirmez votre identité avec votre clé d’accès.
passkey-cancelled = La clé d’accès n’a pas été utilisée. Réessayez ou choisissez un autre moyen.
passkey-unsupported = Ce navigateur ne peut pas utiliser de clés d’accès.
passkey-failed-title = La clé d’accès n’a pas fonctionné
passkey-failed-message = Cette clé d’accès n’est pas connue ici ou n’a pas pu être vérifiée. Revenez en arrière et réessayez, ou connectez-vous avec votre mot de passe.
passkey-unavailable-title = Les clés d’accès ne sont pas disponibles ici
passkey-unavailable-message = Les clés d’accès demandent une adresse sécurisée (https avec un nom de domaine).
passkey-title = Clés d’accès
passkey-none = Connectez-vous avec votre empreinte, votre visage ou le code de votre appareil plutôt qu’avec un mot de passe.
passkey-add = Ajouter une clé d’accès
passkey-add-title = Ajouter une clé d’accès
passkey-add-lead = Votre navigateur ou votre téléphone crée une clé d’accès pour ce compte. Elle reste sur votre appareil ; seule sa clé publique est enregistrée ici.
passkey-name = Nom de la clé d’accès
passkey-default-name = Clé d’accès
passkey-add-submit = Créer la clé d’accès
passkey-register-failed = La clé d’accès n’a pas pu être vérifiée. Réessayez.
passkey-name-invalid = Donnez à la clé d’accès un nom d’au plus 64 caractères.
passkey-rename = Renommer
passkey-remove = Supprimer
passkey-created = Ajoutée { $time }
passkey-last-used = dernière utilisation { $time }
account-done-passkey-added = La clé d’accès a été ajoutée.
account-done-passkey-renamed = La clé d’accès a été renommée.
account-done-passkey-removed = La clé d’accès a été supprimée.
account-done-passkey-name-invalid = Donnez à la clé d’accès un nom d’au plus 64 caractères.
