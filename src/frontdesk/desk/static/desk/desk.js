// Desk queue: refreshes the list when the clinic's desk work changes, without reloading.
// Listens to the server's event stream (fetch, so the request can say it is background work
// and does not keep an idle session alive); where no stream is offered (answer 204) or it
// breaks, polls the list with the version it shows (204 when nothing changed). Once a minute
// it refreshes anyway: deadlines come closer and snoozes end without any change being made.
// Never while the officer is typing in the list or has a snooze/hand-over form open.
(function () {
  "use strict";
  var desk = document.getElementById("desk");
  if (!desk) return;
  var fragmentUrl = desk.getAttribute("data-fragment-url");
  var eventsUrl = desk.getAttribute("data-events-url");
  var state = document.getElementById("live-state");
  var background = { "X-Frontdesk-Background": "1" };

  function version() {
    var inner = desk.querySelector(".desk-inner");
    return inner ? inner.getAttribute("data-version") || "0" : "0";
  }

  function withParam(url, name, value) {
    return url + (url.indexOf("?") === -1 ? "?" : "&") + name + "=" + encodeURIComponent(value);
  }

  function busy() {
    var active = document.activeElement;
    if (active && desk.contains(active) && (active.tagName === "INPUT" || active.tagName === "SELECT")) return true;
    return desk.querySelector(".desk-item-forms") !== null;
  }

  function refresh(always) {
    if (busy()) return Promise.resolve();
    var url = always ? fragmentUrl : withParam(fragmentUrl, "since", version());
    return fetch(url, { credentials: "same-origin", headers: background }).then(function (response) {
      if (response.status === 401 || response.redirected) { window.location.reload(); return; }
      if (response.status !== 200) return;
      return response.text().then(function (html) {
        if (busy()) return;
        desk.innerHTML = html;
        if (window.htmx) window.htmx.process(desk);
      });
    });
  }

  function poll() {
    if (state) state.textContent = "Live (checking every two seconds)";
    window.setInterval(function () { refresh(false).catch(function () {}); }, 2000);
  }

  function stream() {
    fetch(withParam(eventsUrl, "since", version()), {
      credentials: "same-origin",
      headers: background
    }).then(function (response) {
      if (response.status !== 200 || !response.body) { poll(); return; }
      if (state) state.textContent = "Live";
      var reader = response.body.getReader();
      var decoder = new TextDecoder();
      var buffer = "";
      function read() {
        return reader.read().then(function (chunk) {
          if (chunk.done) { window.setTimeout(stream, 1000); return; }
          buffer += decoder.decode(chunk.value, { stream: true });
          var parts = buffer.split("\n\n");
          buffer = parts.pop();
          if (parts.some(function (p) { return p.indexOf("event: desk") !== -1; })) refresh(false);
          return read();
        });
      }
      return read();
    }).catch(function () { window.setTimeout(stream, 1000); });
  }

  window.setInterval(function () { refresh(true).catch(function () {}); }, 60000);
  stream();
})();
