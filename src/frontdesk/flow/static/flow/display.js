// Waiting-room screen: reloads its content every two seconds; a failed request is retried.
// A wall screen cannot scroll, so when the waiting lines do not all fit, they are shown a
// page at a time, turning every PAGE_MS, with "page 1 of 3" beside the heading.
(function () {
  "use strict";
  var screen = document.getElementById("display");
  if (!screen) return;
  var url = screen.getAttribute("data-live-url");
  var PAGE_MS = 8000;
  var page = 0;

  // Splits the rows into pages that fit the box (measured, since row heights vary), shows
  // the current one and labels it.
  function paginate() {
    // Now serving lists the latest calls first; one that does not fit is left off.
    var serving = screen.querySelector(".display-serving");
    if (serving) {
      var bottom = serving.getBoundingClientRect().bottom;
      Array.prototype.forEach.call(serving.querySelectorAll("li"), function (item) {
        item.hidden = false;
        item.hidden = item.getBoundingClientRect().bottom > bottom;
      });
    }
    var box = screen.querySelector("[data-pager]");
    if (!box) return;
    var rows = Array.prototype.slice.call(box.querySelectorAll("tbody [data-row]"));
    var head = box.querySelector("thead");
    rows.forEach(function (row) { row.hidden = false; });
    var room = box.clientHeight - (head ? head.offsetHeight : 0);
    var pages = [[]];
    var used = 0;
    rows.forEach(function (row) {
      var height = row.offsetHeight;
      if (used + height > room && pages[pages.length - 1].length) {
        pages.push([]);
        used = 0;
      }
      pages[pages.length - 1].push(row);
      used += height;
    });
    page = page % pages.length;
    rows.forEach(function (row) { row.hidden = pages[page].indexOf(row) < 0; });
    var label = screen.querySelector("[data-page-label]");
    if (label) label.textContent = pages.length > 1 ? "page " + (page + 1) + " of " + pages.length : "";
    screen.setAttribute("data-pages", String(pages.length));
    screen.setAttribute("data-page", String(page + 1));
  }

  paginate();
  window.addEventListener("resize", paginate);
  window.setInterval(function () {
    page += 1;
    paginate();
  }, PAGE_MS);
  window.setInterval(function () {
    fetch(url, { credentials: "omit" }).then(function (response) {
      if (response.status !== 200) return;
      return response.text().then(function (html) {
        screen.innerHTML = html;
        paginate();
      });
    }).catch(function () {});
  }, 2000);
})();
