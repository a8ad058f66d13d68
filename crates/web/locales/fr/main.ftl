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
