// Log a call: someone else's name, relationship and number typed on one line ("Maria Alvarez,
// neighbour, 202 555 0143") go into their fields as the officer moves on, by the rule the
// server applies without this script (inquiries/forms.py, caller_line_split); and typing a
// name while "Who is calling" is still unchosen says it is someone else (the disclosure
// sentence follows).
(function () {
  "use strict";
  var name = document.getElementById("id_caller_name");
  if (!name || !name.form) return;
  var form = name.form;
  var status = document.getElementById("caller-split-status");

  function split(line) {
    if (line.indexOf(",") === -1) return [line.trim(), "", ""];
    var who = "", number = "", rest = [];
    line.split(",").forEach(function (raw) {
      var part = raw.trim();
      if (!part) return;
      if (!number && (part.match(/\d/g) || []).length >= 7) number = part;
      else if (!who) who = part;
      else rest.push(part);
    });
    return [who, rest.join(", "), number];
  }

  function apply() {
    var parts = split(name.value);
    var relationship = form.elements.namedItem("caller_relationship");
    var phone = form.elements.namedItem("callback_phone");
    if (parts[1] || parts[2]) {
      name.value = parts[0];
      if (parts[1] && relationship) relationship.value = parts[1];
      if (parts[2] && phone) phone.value = parts[2];
      if (status) status.textContent = "Split into the caller's name, relationship and number below: check them.";
    }
    var caller = form.elements.namedItem("caller");
    if (caller && !caller.value && parts[0]) {
      caller.value = "other";
      caller.dispatchEvent(new Event("change", { bubbles: true }));
    }
  }

  // As the officer moves on: when the name field changes, or any other field does while the
  // name still holds the whole line (a choice made with the mouse may leave the focus there).
  name.addEventListener("change", apply);
  form.addEventListener("change", function (event) { if (event.target !== name) apply(); });
  form.addEventListener("submit", apply);

  // Come back to with the browser's Back button (or chosen before the page's scripts ran), the
  // page holds a caller and words the browser put back but not the sentence and the emergency
  // script that go with them: ask for them again. On "pageshow": the browser puts the fields
  // back after "load", and htmx has started on the page by then.
  function askAgain(field, shown) {
    var box = document.getElementById(shown);
    if (field && field.value.trim() && box && !box.textContent.trim()) {
      field.dispatchEvent(new Event("change", { bubbles: true }));
    }
  }
  window.addEventListener("pageshow", function () {
    askAgain(form.elements.namedItem("caller"), "disclosure");
    askAgain(form.elements.namedItem("message"), "red-flag");
  });
})();
