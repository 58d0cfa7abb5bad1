// Frontdesk page behaviour: "/" focuses patient search; idle sign-out with a warning.
(function () {
  "use strict";

  // The CSRF cookie is HttpOnly; the page carries the token (base.html).
  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute("content") : "";
  }

  // "/" jumps to the patient search box unless the person is already typing somewhere.
  document.addEventListener("keydown", function (event) {
    if (event.key !== "/" || event.ctrlKey || event.metaKey || event.altKey) return;
    var target = event.target;
    var tag = target && target.tagName ? target.tagName.toLowerCase() : "";
    if (tag === "input" || tag === "textarea" || tag === "select" || (target && target.isContentEditable)) return;
    var box = document.getElementById("page-search") || document.getElementById("global-search");
    if (box) {
      event.preventDefault();
      box.focus();
      box.select();
    }
  });

  // htmx sends the CSRF token with its requests.
  document.addEventListener("htmx:configRequest", function (event) {
    event.detail.headers["X-CSRFToken"] = csrfToken();
  });

  var body = document.body;
  var idleSeconds = parseInt(body.getAttribute("data-idle-seconds") || "0", 10);
  if (!idleSeconds) return;
  var pingUrl = body.getAttribute("data-ping-url");
  var loginUrl = body.getAttribute("data-login-url");
  var warnSeconds = Math.min(60, Math.floor(idleSeconds / 2));
  var dialog = document.getElementById("idle-warning");
  var countdown = document.getElementById("idle-countdown");
  // The server ends the session SESSION_IDLE_MINUTES after the last request it counted, so the
  // countdown runs from when the server last heard from this page (this page's load, a ping
  // or an htmx request), not from the last keystroke: typing is told to the server at most
  // once a minute, and counting from it would promise time the server does not give.
  var serverSeen = Date.now();
  var lastPing = Date.now();
  var pinging = false;
  var ticker = null;

  function goToSignIn(timedOut) {
    window.clearInterval(ticker);
    var next = window.location.pathname + window.location.search;
    window.location.assign(
      loginUrl + "?" + (timedOut ? "timed_out=1&" : "") + "next=" + encodeURIComponent(next)
    );
  }

  function ping() {
    lastPing = Date.now();
    pinging = true;
    return fetch(pingUrl, {
      method: "POST",
      credentials: "same-origin",
      headers: { "X-CSRFToken": csrfToken() }
    }).then(function (response) {
      var landed = response.redirected ? new URL(response.url) : null;
      if (landed && landed.pathname === loginUrl) {
        // The session had already ended (timed out, or signed out in another tab): say so
        // now rather than let the person carry on typing into a page that cannot be saved.
        goToSignIn(landed.searchParams.get("timed_out") === "1");
      } else if (response.ok) {
        serverSeen = Date.now();
      }
    }).catch(function () {
      // Offline or the server is down: the countdown carries on from the last answer.
    }).then(function () {
      pinging = false;
    });
  }

  function hideWarning() {
    if (dialog && dialog.open) dialog.close();
  }

  function activity() {
    hideWarning();
    // Typing in a long form makes no request; tell the server at most once a minute.
    if (Date.now() - lastPing > 60000) ping();
  }

  ["keydown", "mousedown", "touchstart", "input"].forEach(function (name) {
    document.addEventListener(name, activity, { passive: true, capture: true });
  });
  document.addEventListener("htmx:afterRequest", function (event) {
    var detail = event.detail || {};
    var headers = (detail.requestConfig && detail.requestConfig.headers) || {};
    // Requests that never reached the server, and background polling (which the server does
    // not count as activity), do not move the server's idle clock.
    if (!detail.xhr || !detail.xhr.status || headers["X-Frontdesk-Background"]) return;
    serverSeen = lastPing = Date.now();
  });

  var stay = document.getElementById("idle-stay");
  if (stay) {
    stay.addEventListener("click", function () {
      activity();
      // The mousedown or keydown that pressed the button has usually told the server already;
      // a click without them (assistive technology) still must, but once is enough.
      if (Date.now() - lastPing > 1000) ping();
    });
  }

  function check() {
    // While the server is answering a ping, wait for its answer (up to ten seconds).
    if (pinging && Date.now() - lastPing < 10000) return;
    var idle = (Date.now() - serverSeen) / 1000;
    var left = Math.ceil(idleSeconds - idle);
    if (left <= 0) {
      goToSignIn(true);
      return;
    }
    if (left <= warnSeconds && dialog) {
      if (countdown) countdown.textContent = String(left);
      if (!dialog.open) dialog.showModal();
    }
  }
  ticker = window.setInterval(check, 1000);
})();
