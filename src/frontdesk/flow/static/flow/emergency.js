// The emergency banner on every page of the roles that answer it: asks the server every two
// seconds whether the alerts changed (204 when not, one small query), and while an alert is
// open for this user plays a short tone every 30 seconds. Browsers allow sound only after a
// gesture on the page: any click or key unlocks it, and a button says so until then. The
// alert is shown whether or not sound plays.
(function () {
  "use strict";
  var banner = document.getElementById("emergency-banner");
  if (!banner) return;
  var url = banner.getAttribute("data-url");
  var next = banner.getAttribute("data-next") || "";
  var background = { "X-Frontdesk-Background": "1" };
  var audio = null;
  var lastTone = 0;
  var TONE_EVERY_MS = 30000;

  function alerts() { return banner.querySelector(".emergency-alerts"); }

  function wantsSound() {
    var shown = alerts();
    return !!shown && shown.getAttribute("data-sound") === "1";
  }

  function context() {
    if (audio) return audio;
    var Audio = window.AudioContext || window.webkitAudioContext;
    if (!Audio) return null;
    try { audio = new Audio(); } catch (e) { audio = null; }
    return audio;
  }

  function playable() {
    var ctx = context();
    return !!ctx && ctx.state !== "suspended";
  }

  function tone() {
    var ctx = context();
    if (!ctx) return;
    try {
      var osc = ctx.createOscillator();
      osc.frequency.value = 880;
      osc.connect(ctx.destination);
      osc.start();
      osc.stop(ctx.currentTime + 0.6);
    } catch (e) { /* no audio device */ }
  }

  function update() {
    var button = banner.querySelector(".emergency-sound");
    if (!wantsSound()) { lastTone = 0; return; }
    var ok = playable();
    if (button) button.hidden = ok;
    if (ok && Date.now() - lastTone >= TONE_EVERY_MS) {
      lastTone = Date.now();
      tone();
    }
  }

  function unlock() {
    if (!wantsSound()) return;
    var ctx = context();
    if (ctx && ctx.state === "suspended" && ctx.resume) {
      ctx.resume().then(update, function () {});
    } else {
      update();
    }
  }

  function poll() {
    var shown = alerts();
    var state = shown ? shown.getAttribute("data-state") || "" : "";
    var ask = url + "?since=" + encodeURIComponent(state) + "&next=" + encodeURIComponent(next);
    fetch(ask, { credentials: "same-origin", headers: background }).then(function (response) {
      if (response.redirected || response.status === 401 || response.status === 403) {
        window.clearInterval(timer);
        return;
      }
      if (response.status !== 200) return;
      return response.text().then(function (html) {
        banner.innerHTML = html;
        if (window.htmx) window.htmx.process(banner);
        update();
      });
    }).catch(function () { /* the next poll tries again */ });
  }

  banner.addEventListener("click", function (event) {
    if (event.target.classList && event.target.classList.contains("emergency-sound")) unlock();
  });
  document.addEventListener("click", unlock, { capture: true });
  document.addEventListener("keydown", unlock, { capture: true });
  var timer = window.setInterval(poll, 2000);
  window.setInterval(update, 1000);
  update();
})();
