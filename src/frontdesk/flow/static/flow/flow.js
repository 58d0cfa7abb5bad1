// Flow board: refreshes the board when the flow changes, without reloading the page
// (frontdesk/live.js; polls twice a second where no event stream is offered), except while
// the officer types in it. An emergency's sound comes from the banner every page carries
// (emergency.js).
(function () {
  "use strict";
  var board = document.getElementById("board");
  if (!board || !window.frontdeskLive) return;

  window.frontdeskLive({
    part: board,
    inner: ".board-inner",
    event: "flow",
    pollMs: 500,
    pollWords: "checking twice a second",
    busy: function () {
      var active = document.activeElement;
      return Boolean(active && board.contains(active) && active.tagName === "INPUT");
    }
  });
})();
