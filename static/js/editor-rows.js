// The micro-credential editor's learning outcomes, added and removed in place.
//
// Without JavaScript the page works as it is: "Add another outcome" submits and the page comes
// back with one more empty row, and each row has a "Remove this outcome" checkbox (Django's
// formset DELETE). With it, "Add" copies the <template> of an empty row (Django's empty_form,
// numbered __prefix__) and counts it in the management form's TOTAL_FORMS; "Remove" ticks the
// row's DELETE box and hides it, so the server drops it whatever it holds. The error summary,
// when there is one, takes the focus so that it is read first.
(function () {
  "use strict";

  function setUp(fieldset) {
    var prefix = fieldset.dataset.formset;
    var total = fieldset.querySelector("input[name='" + prefix + "-TOTAL_FORMS']");
    var rows = fieldset.querySelector("[data-formset-rows]");
    var template = fieldset.querySelector("template[data-formset-template]");
    var add = fieldset.querySelector("[data-formset-add]");
    var status = fieldset.querySelector("[data-formset-status]");
    if (!total || !rows || !template || !add) return;

    function say(text) {
      if (!status) return;
      status.textContent = "";
      window.setTimeout(function () { status.textContent = text; }, 50);
    }

    function visibleRows() {
      return Array.prototype.filter.call(
        rows.querySelectorAll("[data-formset-row]"), function (row) { return !row.hidden; }
      );
    }

    function enhanceRow(row) {
      var box = row.querySelector("[data-formset-delete]");
      var remove = row.querySelector("[data-formset-remove]");
      if (!remove) return;
      if (box) box.hidden = true;
      remove.hidden = false;
      remove.querySelector("button").addEventListener("click", function () {
        var checkbox = box && box.querySelector("input[type=checkbox]");
        if (checkbox) checkbox.checked = true;
        row.hidden = true;
        var left = visibleRows();
        var next = left.length ? left[left.length - 1].querySelector("textarea") : add;
        (next || add).focus();
        say(status.dataset.textRemoved);
      });
      if (window.MesheEscoTypeahead) {
        row.querySelectorAll("input[data-esco-typeahead]").forEach(window.MesheEscoTypeahead.enhance);
      }
    }

    rows.querySelectorAll("[data-formset-row]").forEach(enhanceRow);

    add.addEventListener("click", function (event) {
      event.preventDefault();
      var index = parseInt(total.value, 10) || 0;
      var holder = document.createElement("div");
      holder.innerHTML = template.innerHTML.replace(/__prefix__/g, String(index));
      var row = holder.firstElementChild;
      rows.appendChild(row);
      total.value = String(index + 1);
      enhanceRow(row);
      var text = row.querySelector("textarea");
      if (text) text.focus();
      say(status.dataset.textAdded);
    });
  }

  function start() {
    document.querySelectorAll("[data-formset]").forEach(setUp);
    var summary = document.getElementById("error-summary");
    if (summary) summary.focus();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
