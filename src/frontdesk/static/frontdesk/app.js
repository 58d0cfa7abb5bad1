// Frontdesk page behaviour: "/" focuses patient search; idle sign-out with a warning.
(function () {
  "use strict";

  function csrfToken() {
    var match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    return match ? decodeURIComponent(match[1]) : "";
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
  var lastActivity = Date.now();
  var lastPing = Date.now();
  var ticker = null;

  function ping() {
    lastPing = Date.now();
    return fetch(pingUrl, {
      method: "POST",
      credentials: "same-origin",
      headers: { "X-CSRFToken": csrfToken() }
    });
  }

  function hideWarning() {
    if (dialog && dialog.open) dialog.close();
  }

  function activity() {
    lastActivity = Date.now();
    hideWarning();
    // Typing in a long form makes no request; tell the server at most once a minute.
    if (Date.now() - lastPing > 60000) ping();
  }

  ["keydown", "mousedown", "touchstart", "input"].forEach(function (name) {
    document.addEventListener(name, activity, { passive: true, capture: true });
  });
  document.addEventListener("htmx:afterRequest", function () { lastPing = Date.now(); lastActivity = Date.now(); });

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
    var idle = (Date.now() - lastActivity) / 1000;
    var left = Math.ceil(idleSeconds - idle);
    if (left <= 0) {
      window.clearInterval(ticker);
      var next = window.location.pathname + window.location.search;
      window.location.assign(loginUrl + "?timed_out=1&next=" + encodeURIComponent(next));
      return;
    }
    if (left <= warnSeconds && dialog) {
      if (countdown) countdown.textContent = String(left);
      if (!dialog.open) dialog.showModal();
    }
  }
  ticker = window.setInterval(check, 1000);
})();
