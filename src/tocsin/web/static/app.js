// Tocsin UI behaviour that htmx does not cover: conditional intake fields ("show X when Y").
(function () {
  "use strict";

  function fieldValue(form, key) {
    var inputs = form.querySelectorAll('[name="a_' + key + '"]');
    if (!inputs.length) return null;
    var el = inputs[0];
    if (el.type === "checkbox") return el.checked;
    if (el.multiple) return Array.from(el.selectedOptions).map(function (o) { return o.value; });
    return el.value === "" ? null : el.value;
  }

  function matches(value, allowed) {
    return allowed.some(function (a) { return String(a) === String(value); });
  }

  function applyConditions(form) {
    form.querySelectorAll(".field[data-show-when]").forEach(function (wrap) {
      var rules = JSON.parse(wrap.dataset.showWhen);
      var visible = Object.keys(rules).every(function (k) {
        return matches(fieldValue(form, k), rules[k]);
      });
      wrap.hidden = !visible;
      // Hidden inputs are disabled so they are neither validated nor submitted.
      wrap.querySelectorAll("input, select, textarea").forEach(function (i) { i.disabled = !visible; });
    });
  }

  function wire(root) {
    var form = (root || document).querySelector ? document.getElementById("intake") : null;
    if (!form) return;
    applyConditions(form);
  }

  document.addEventListener("change", function (ev) {
    var form = ev.target.closest && ev.target.closest("#intake");
    if (form) applyConditions(form);
  });
  document.addEventListener("DOMContentLoaded", function () { wire(document); });
  document.addEventListener("htmx:afterSettle", function () { wire(document); });

  // Status-update fields only matter for the "update" kind.
  document.addEventListener("change", function (ev) {
    var f = ev.target.closest && ev.target.closest(".note-form");
    if (f && ev.target.name === "kind") f.classList.toggle("is-update", ev.target.value === "update");
  });
})();
