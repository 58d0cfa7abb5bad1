// Live parts of a page (the flow board, the desk queue): the part is swapped for a fresh copy
// when the server says its data changed, without reloading the page.
// Listens to the server's event stream (fetch, so the request can say it is background work
// and does not keep an idle session alive); where no stream is offered (answer 204) or it
// breaks, polls the part with the version it shows (204 when nothing changed).
//
//   frontdeskLive({
//     part: element,           // holds data-fragment-url and data-events-url
//     inner: ".board-inner",   // the swapped markup's root, carrying data-version
//     event: "flow",           // the stream's event name that means "changed"
//     pollMs: 500, pollWords: "checking twice a second",
//     busy: function () { return false; },  // true: leave the part alone for now
//     everyMs: 0               // > 0: refresh anyway this often (time-based changes)
//   });
(function () {
  "use strict";
  var background = { "X-Frontdesk-Background": "1" };

  function withParam(url, name, value) {
    return url + (url.indexOf("?") === -1 ? "?" : "&") + name + "=" + encodeURIComponent(value);
  }

  window.frontdeskLive = function (options) {
    var part = options.part;
    var fragmentUrl = part.getAttribute("data-fragment-url");
    var eventsUrl = part.getAttribute("data-events-url");
    var state = document.getElementById("live-state");
    var busy = options.busy || function () { return false; };

    function version() {
      var inner = part.querySelector(options.inner);
      return inner ? inner.getAttribute("data-version") || "0" : "0";
    }

    function refresh(always) {
      if (busy()) return Promise.resolve();
      var url = always ? fragmentUrl : withParam(fragmentUrl, "since", version());
      return fetch(url, { credentials: "same-origin", headers: background }).then(function (response) {
        if (response.status === 401 || response.redirected) { window.location.reload(); return; }
        if (response.status !== 200) return;
        return response.text().then(function (html) {
          if (busy()) return;
          part.innerHTML = html;
          if (window.htmx) window.htmx.process(part);
        });
      });
    }

    function poll() {
      if (state) state.textContent = "Live (" + options.pollWords + ")";
      window.setInterval(function () { refresh(false).catch(function () {}); }, options.pollMs);
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
        var marker = "event: " + options.event;
        function read() {
          return reader.read().then(function (chunk) {
            if (chunk.done) { window.setTimeout(stream, 1000); return; }
            buffer += decoder.decode(chunk.value, { stream: true });
            var parts = buffer.split("\n\n");
            buffer = parts.pop();
            if (parts.some(function (p) { return p.indexOf(marker) !== -1; })) refresh(false);
            return read();
          });
        }
        return read();
      }).catch(function () { window.setTimeout(stream, 1000); });
    }

    if (options.everyMs > 0) {
      window.setInterval(function () { refresh(true).catch(function () {}); }, options.everyMs);
    }
    stream();
  };
})();
