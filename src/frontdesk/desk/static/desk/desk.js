// Desk queue: refreshes the list when the clinic's desk work changes, without reloading
// (frontdesk/live.js; polls every two seconds where no event stream is offered). Once a minute
// it refreshes anyway: deadlines come closer and snoozes end without any change being made.
// Never while the officer is typing in the list or has a snooze/hand-over form open.
(function () {
  "use strict";
  var desk = document.getElementById("desk");
  if (!desk || !window.frontdeskLive) return;

  function busy() {
    var active = document.activeElement;
    if (active && desk.contains(active) && (active.tagName === "INPUT" || active.tagName === "SELECT")) return true;
    return desk.querySelector(".desk-item-forms") !== null;
  }

  window.frontdeskLive({
    part: desk,
    inner: ".desk-inner",
    event: "desk",
    pollMs: 2000,
    pollWords: "checking every two seconds",
    busy: busy,
    everyMs: 60000
  });
})();
