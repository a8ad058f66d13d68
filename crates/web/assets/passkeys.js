/*
 * Passkeys in the browser: runs the WebAuthn ceremony whose options the
 * page embeds, and posts the result with the page's form. Plain ES2019, no
 * build step, no inline handlers (the pages' CSP allows none).
 *
 * Contract with the pages:
 *
 *   <script type="application/json" id="webauthn-options">{"publicKey": …}</script>
 *     The options exactly as the server's start_registration /
 *     start_authentication return them (webauthn-rs' CreationChallengeResponse
 *     or RequestChallengeResponse: binary fields are base64url strings).
 *
 *   <form method="post" …>
 *     <input type="hidden" name="credential">
 *     <button type="submit" data-webauthn="register">…</button>      (or "authenticate")
 *   </form>
 *     A click runs navigator.credentials.create (register) or .get
 *     (authenticate), writes the result as JSON into the form's
 *     input[name=credential] (the shape webauthn-rs reads:
 *     RegisterPublicKeyCredential or PublicKeyCredential, binary fields as
 *     base64url) and submits the form, with the button as submitter.
 *
 *   <p data-webauthn-error data-message="(translated text)" hidden></p>
 *     Shown with its data-message when the ceremony fails (cancelled, timed
 *     out, no suitable authenticator); nothing is submitted then. The one
 *     inside the button's form is used, else the first in the page.
 *
 *   <form … data-webauthn-js hidden>
 *     Shown by the script when the browser has WebAuthn: without
 *     JavaScript (or without WebAuthn) the page keeps it hidden.
 *
 *   <p data-webauthn-unsupported hidden>…</p>
 *     Shown, and every [data-webauthn] button hidden, when the browser has
 *     no WebAuthn (window.PublicKeyCredential missing, e.g. not a secure
 *     context).
 *
 *   data-webauthn="conditional" (optional, passwordless sign-in page), on
 *     the form or on an element inside it, typically the username input,
 *     which must then carry autocomplete="username webauthn": the browser
 *     offers the tenant's passkeys among the autofill suggestions
 *     (conditional mediation, WebAuthn Level 3 §5.1.4 with mediation
 *     "conditional"). Choosing one fills input[name=credential] of that form
 *     and submits it. Failures stay silent (the user asked for nothing); a
 *     click on an authenticate button cancels the pending request first.
 *     The options must be those of a discoverable sign-in (no user).
 */
(function () {
  'use strict';

  var OPTIONS_ID = 'webauthn-options';

  // base64url (RFC 4648 §5, padding optional) → ArrayBuffer.
  function toBuffer(value) {
    var base64 = String(value).replace(/-/g, '+').replace(/_/g, '/');
    var rest = base64.length % 4;
    if (rest) {
      base64 += '===='.slice(rest);
    }
    var binary = atob(base64);
    var bytes = new Uint8Array(binary.length);
    for (var i = 0; i < binary.length; i++) {
      bytes[i] = binary.charCodeAt(i);
    }
    return bytes.buffer;
  }

  // ArrayBuffer (or view) → base64url without padding.
  function toBase64url(buffer) {
    var bytes = buffer instanceof ArrayBuffer
      ? new Uint8Array(buffer)
      : new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
    var binary = '';
    for (var i = 0; i < bytes.length; i++) {
      binary += String.fromCharCode(bytes[i]);
    }
    return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
  }

  function readOptions() {
    var element = document.getElementById(OPTIONS_ID);
    if (!element) {
      return null;
    }
    try {
      var options = JSON.parse(element.textContent);
      return options && options.publicKey ? options : null;
    } catch (e) {
      return null;
    }
  }

  function descriptors(list) {
    return (list || []).map(function (descriptor) {
      var out = { type: descriptor.type, id: toBuffer(descriptor.id) };
      if (descriptor.transports) {
        out.transports = descriptor.transports;
      }
      return out;
    });
  }

  // A fresh copy of the options with the binary fields as ArrayBuffers.
  function creationOptions(options) {
    var publicKey = Object.assign({}, options.publicKey);
    publicKey.challenge = toBuffer(publicKey.challenge);
    publicKey.user = Object.assign({}, publicKey.user, { id: toBuffer(publicKey.user.id) });
    if (publicKey.excludeCredentials) {
      publicKey.excludeCredentials = descriptors(publicKey.excludeCredentials);
    }
    return { publicKey: publicKey };
  }

  function requestOptions(options) {
    var publicKey = Object.assign({}, options.publicKey);
    publicKey.challenge = toBuffer(publicKey.challenge);
    publicKey.allowCredentials = descriptors(publicKey.allowCredentials);
    return { publicKey: publicKey };
  }

  // Only the client extension outputs the server understands, in JSON
  // form; others (ArrayBuffers, unknown shapes) are left out rather than
  // sent in a form the server would refuse.
  function extensionResults(credential) {
    var results = {};
    var all = typeof credential.getClientExtensionResults === 'function'
      ? credential.getClientExtensionResults()
      : {};
    if (typeof all.appid === 'boolean') {
      results.appid = all.appid;
    }
    if (all.credProps && typeof all.credProps.rk === 'boolean') {
      results.credProps = { rk: all.credProps.rk };
    }
    return results;
  }

  // RegisterPublicKeyCredential, as webauthn-rs reads it.
  function registrationJson(credential) {
    var response = credential.response;
    var json = {
      id: credential.id,
      rawId: toBase64url(credential.rawId),
      type: credential.type,
      response: {
        attestationObject: toBase64url(response.attestationObject),
        clientDataJSON: toBase64url(response.clientDataJSON)
      },
      clientExtensionResults: extensionResults(credential)
    };
    if (typeof response.getTransports === 'function') {
      json.response.transports = response.getTransports();
    }
    return json;
  }

  // PublicKeyCredential (an assertion), as webauthn-rs reads it.
  function assertionJson(credential) {
    var response = credential.response;
    return {
      id: credential.id,
      rawId: toBase64url(credential.rawId),
      type: credential.type,
      response: {
        authenticatorData: toBase64url(response.authenticatorData),
        clientDataJSON: toBase64url(response.clientDataJSON),
        signature: toBase64url(response.signature),
        userHandle: response.userHandle && response.userHandle.byteLength
          ? toBase64url(response.userHandle)
          : null
      },
      clientExtensionResults: extensionResults(credential)
    };
  }

  function errorElement(form) {
    return (form && form.querySelector('[data-webauthn-error]')) ||
      document.querySelector('[data-webauthn-error]');
  }

  function showError(form) {
    var element = errorElement(form);
    if (element) {
      element.textContent = element.getAttribute('data-message') || '';
      element.hidden = false;
    }
  }

  function hideError(form) {
    var element = errorElement(form);
    if (element) {
      element.hidden = true;
    }
  }

  // Set once a credential has been handed to a form: the page is leaving,
  // and a second ceremony would only be refused.
  var submitted = false;

  function submit(form, credentialJson, submitter) {
    var input = form.querySelector('input[name="credential"]');
    if (!input) {
      return false;
    }
    input.value = JSON.stringify(credentialJson);
    submitted = true;
    if (typeof form.requestSubmit === 'function') {
      form.requestSubmit(submitter || undefined);
    } else {
      form.submit();
    }
    return true;
  }

  // The pending conditional request, if any: {controller, done}.
  var conditional = null;

  function cancelConditional() {
    if (!conditional) {
      return Promise.resolve();
    }
    var pending = conditional;
    conditional = null;
    pending.controller.abort();
    return pending.done;
  }

  async function runCeremony(button, kind) {
    if (submitted || button.disabled) {
      return;
    }
    var form = button.form || button.closest('form');
    hideError(form);
    var options = readOptions();
    if (!form || !options) {
      showError(form);
      return;
    }
    button.disabled = true;
    try {
      await cancelConditional();
      var json;
      if (kind === 'register') {
        json = registrationJson(await navigator.credentials.create(creationOptions(options)));
      } else {
        json = assertionJson(await navigator.credentials.get(requestOptions(options)));
      }
      button.disabled = false;
      if (!submit(form, json, button)) {
        showError(form);
      }
    } catch (e) {
      // NotAllowedError (cancelled, timed out), InvalidStateError (already
      // registered), SecurityError, AbortError: the page's one message.
      button.disabled = false;
      showError(form);
    }
  }

  async function startConditional(element) {
    var form = element.closest('form');
    var options = readOptions();
    if (!form || !options || typeof PublicKeyCredential.isConditionalMediationAvailable !== 'function') {
      return;
    }
    try {
      if (!(await PublicKeyCredential.isConditionalMediationAvailable())) {
        return;
      }
    } catch (e) {
      return;
    }
    var controller = new AbortController();
    var request = requestOptions(options);
    request.mediation = 'conditional';
    request.signal = controller.signal;
    var pending = { controller: controller, done: null };
    pending.done = navigator.credentials.get(request).then(function (credential) {
      if (conditional === pending) {
        conditional = null;
      }
      if (credential && !controller.signal.aborted) {
        submit(form, assertionJson(credential));
      }
    }, function () {
      // Aborted, or the browser gave up: stay silent.
      if (conditional === pending) {
        conditional = null;
      }
    });
    conditional = pending;
  }

  function init() {
    var buttons = document.querySelectorAll(
      '[data-webauthn="register"], [data-webauthn="authenticate"]'
    );
    if (!window.PublicKeyCredential || !navigator.credentials) {
      Array.prototype.forEach.call(buttons, function (button) {
        button.hidden = true;
      });
      Array.prototype.forEach.call(
        document.querySelectorAll('[data-webauthn-unsupported]'),
        function (element) {
          element.hidden = false;
        }
      );
      return;
    }
    Array.prototype.forEach.call(
      document.querySelectorAll('[data-webauthn-js]'),
      function (element) {
        element.hidden = false;
      }
    );
    Array.prototype.forEach.call(buttons, function (button) {
      button.addEventListener('click', function (event) {
        event.preventDefault();
        runCeremony(button, button.getAttribute('data-webauthn'));
      });
    });
    var autofill = document.querySelector('[data-webauthn="conditional"]');
    if (autofill) {
      startConditional(autofill);
    }
  }

  if (document.readyState === 'loading') {
    document.addEventListener('DOMContentLoaded', init);
  } else {
    init();
  }
})();
