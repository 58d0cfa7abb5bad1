// The registration page: a home address typed or pasted on one line in the street field
// ("40 Valencia St, San Francisco, CA 94103") goes into its fields as soon as the officer
// leaves the field, when town, state and postal code are still empty and the line has exactly
// its country's shape. The rules and tables are lib/addresses.py's (address_split), given in
// the field's data-address-split; the server splits the same way and is the authority, so
// without this file the read-back shows the same split.
(function () {
  "use strict";
  var PARTS = ["address_line1", "city", "state", "postal_code"];

  function words(text) {
    return text.split(/\s+/).filter(function (w) { return w; });
  }

  function fits(code, shape) {
    return new RegExp("^(?:" + shape.postal + ")$", "i").test(code);
  }

  // The postal code at the start (or end) of the words, as one word or two (K1A 0B1).
  function postalAt(ws, shape, first) {
    for (var size = 2; size >= 1; size--) {
      if (ws.length < size) continue;
      var code = first ? ws.slice(0, size) : ws.slice(ws.length - size);
      var rest = first ? ws.slice(size) : ws.slice(0, ws.length - size);
      if (fits(code.join(" "), shape)) return [code.join(" ").toUpperCase(), rest];
    }
    return [null, ws];
  }

  function split(line, shape) {
    var parts = line.split(",").map(function (p) { return words(p).join(" "); });
    if (!shape || (parts.length !== 2 && parts.length !== 3)) return null;
    if (parts.some(function (p) { return !p; })) return null;
    var street = parts[0];
    var tail = words(parts[parts.length - 1]);
    var town = parts.length === 3 ? words(parts[1]) : [];
    var state = "";
    var found;
    if (shape.order === "postal_first") {
      if (parts.length !== 2) return null;
      found = postalAt(tail, shape, true);
      town = found[1];
    } else {
      found = postalAt(tail, shape, false);
      var rest = found[1];
      if (shape.order === "region") {
        if (!rest.length) return null;
        state = rest[rest.length - 1].replace(/\.+$/, "").toUpperCase();
        if (shape.regions.indexOf(state) < 0) return null;
        rest = rest.slice(0, -1);
      }
      if (parts.length === 3 && rest.length) return null;
      if (!town.length) town = rest;
    }
    var city = town.join(" ");
    if (found[0] === null || !city || /\d/.test(city) || !/\p{L}/u.test(street)) return null;
    return [street, city, state, found[0]];
  }

  function trySplit(line1, status) {
    var fields = PARTS.map(function (name) { return line1.form.elements.namedItem(name); });
    if (fields.some(function (f) { return !f; })) return;
    if (fields.slice(1).some(function (f) { return f.value.trim(); })) return;
    var country = line1.form.elements.namedItem("country");
    var shapes = JSON.parse(line1.getAttribute("data-address-split"));
    var parts = split(line1.value, shapes[country ? country.value.toUpperCase() : ""]);
    if (!parts) return;
    // As on the server: a "town" longer than the town field holds is no town.
    if (parts.some(function (v, i) { return fields[i].maxLength > 0 && v.length > fields[i].maxLength; })) return;
    fields.forEach(function (field, i) { field.value = parts[i]; });
    if (status) status.textContent = "The address was split into its fields below: check them.";
  }

  // Under Node, for the test that runs the server's cases through this file too
  // (src/frontdesk/lib/tests/test_address_split_browser.py).
  if (typeof document === "undefined") {
    module.exports = { split: split };
    return;
  }
  document.querySelectorAll("input[data-address-split]").forEach(function (line1) {
    if (!line1.form) return;
    var status = document.getElementById(line1.getAttribute("data-address-split-status"));
    line1.addEventListener("change", function () { trySplit(line1, status); });
    var country = line1.form.elements.namedItem("country");
    if (country) country.addEventListener("change", function () { trySplit(line1, status); });
  });
})();
