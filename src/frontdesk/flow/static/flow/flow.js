// Flow board: refreshes the board when the flow changes, without reloading the page.
// Listens to the server's event stream (fetch, so the request can say it is background work
// and does not keep an idle session alive); where no stream is offered (answer 204) or it
// breaks, polls the board twice a second with the version it shows (204 when nothing changed).
// An emergency's sound comes from the banner every page carries (emergency.js).
(function () {
  "use strict";
  var board = document.getElementById("board");
  if (!board) return;
  var fragmentUrl = board.getAttribute("data-fragment-url");
  var eventsUrl = board.getAttribute("data-events-url");
  var state = document.getElementById("live-state");
  var background = { "X-Frontdesk-Background": "1" };

  function version() {
    var inner = board.querySelector(".board-inner");
    return inner ? inner.getAttribute("data-version") || "0" : "0";
  }

  function withParam(url, name, value) {
    return url + (url.indexOf("?") === -1 ? "?" : "&") + name + "=" + encodeURIComponent(value);
  }

  function refresh() {
    var focused = document.activeElement && board.contains(document.activeElement);
    if (focused && document.activeElement.tagName === "INPUT") return Promise.resolve();
    return fetch(withParam(fragmentUrl, "since", version()), {
      credentials: "same-origin",
      headers: background
    }).then(function (response) {
      if (response.status === 401 || response.redirected) { window.location.reload(); return; }
      if (response.status !== 200) return;
      return response.text().then(function (html) {
        board.innerHTML = html;
        if (window.htmx) window.htmx.process(board);
      });
    });
  }

  function poll() {
    if (state) state.textContent = "Live (checking twice a second)";
    window.setInterval(function () { refresh().catch(function () {}); }, 500);
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
          if (parts.some(function (p) { return p.indexOf("event: flow") !== -1; })) refresh();
          return read();
        });
      }
      return read();
    }).catch(function () { window.setTimeout(stream, 1000); });
  }

  stream();
})();
