// Waiting-room screen: reloads its content every two seconds; a failed request is retried.
(function () {
  "use strict";
  var screen = document.getElementById("display");
  if (!screen) return;
  var url = screen.getAttribute("data-live-url");
  window.setInterval(function () {
    fetch(url, { credentials: "omit" }).then(function (response) {
      if (response.status !== 200) return;
      return response.text().then(function (html) { screen.innerHTML = html; });
    }).catch(function () {});
  }, 2000);
})();
