/*
 * ESCO skill type-ahead: turns each <input data-esco-typeahead="/api/v1/esco/skills"> into an
 * ARIA 1.2 combobox with a list of suggestions. Choosing one puts the skill's URI in the input
 * (what the form submits) and its label in [data-esco-label-for="<input id>"], which is made
 * after the input when the page has none. Without this script the input takes a pasted URI.
 *
 * Optional attributes on the input, for translated text: data-esco-text-empty ("No matching
 * skill") and data-esco-text-count ("{count} skills found"). Rows added later (a formset's
 * "add another"): MesheEscoTypeahead.enhance(input). Each choice fires "change" and an
 * "esco:select" event whose detail is {uri, label}.
 */
(function () {
  "use strict";

  var DEBOUNCE_MS = 200;
  var MIN_CHARS = 2;
  var LIMIT = 10;
  var SKILL_URI = /^\s*https?:\/\/data\.europa\.eu\/esco\/skill\/[0-9a-f-]{36}\/*\s*$/i;
  var made = 0;

  function enhance(input) {
    if (input.dataset.escoEnhanced) return;
    input.dataset.escoEnhanced = "true";
    made += 1;
    if (!input.id) input.id = "esco-typeahead-" + made;

    var listbox = document.createElement("ul");
    listbox.id = input.id + "-listbox";
    listbox.className = "esco-typeahead-list";
    listbox.setAttribute("role", "listbox");
    listbox.hidden = true;
    if (input.labels && input.labels.length) {
      if (!input.labels[0].id) input.labels[0].id = input.id + "-label";
      listbox.setAttribute("aria-labelledby", input.labels[0].id);
    }
    var status = document.createElement("span");
    status.className = "visually-hidden";
    status.setAttribute("role", "status");

    input.after(listbox, status);
    var shown = document.querySelector('[data-esco-label-for="' + input.id + '"]');
    if (!shown) {
      shown = document.createElement("span");
      shown.className = "esco-typeahead-label";
      shown.setAttribute("data-esco-label-for", input.id);
      status.after(shown);
    }
    if (!shown.id) shown.id = input.id + "-chosen";
    var describedBy = (input.getAttribute("aria-describedby") || "").split(/\s+/);
    if (describedBy.indexOf(shown.id) === -1) {
      input.setAttribute("aria-describedby", describedBy.concat(shown.id).join(" ").trim());
    }

    input.setAttribute("role", "combobox");
    input.setAttribute("aria-autocomplete", "list");
    input.setAttribute("aria-expanded", "false");
    input.setAttribute("aria-controls", listbox.id);
    input.setAttribute("autocomplete", "off");
    input.setAttribute("spellcheck", "false");

    var endpoint = input.dataset.escoTypeahead;
    var results = [];
    var active = -1;
    var timer = null;
    var pending = null;
    var chosen = input.value;

    function say(text) {
      status.textContent = text;
    }

    function open() {
      if (!results.length) return;
      listbox.hidden = false;
      input.setAttribute("aria-expanded", "true");
    }

    function close() {
      listbox.hidden = true;
      input.setAttribute("aria-expanded", "false");
      setActive(-1);
    }

    function setActive(index) {
      var options = listbox.children;
      if (active >= 0 && options[active]) options[active].setAttribute("aria-selected", "false");
      active = index;
      if (active >= 0 && options[active]) {
        options[active].setAttribute("aria-selected", "true");
        input.setAttribute("aria-activedescendant", options[active].id);
        options[active].scrollIntoView({ block: "nearest" });
      } else {
        input.removeAttribute("aria-activedescendant");
      }
    }

    function choose(index) {
      var skill = results[index];
      if (!skill) return;
      input.value = skill.uri;
      chosen = skill.uri;
      shown.textContent = skill.label;
      close();
      input.dispatchEvent(new Event("change", { bubbles: true }));
      input.dispatchEvent(
        new CustomEvent("esco:select", { bubbles: true, detail: { uri: skill.uri, label: skill.label } })
      );
    }

    function render(found) {
      results = found;
      listbox.replaceChildren();
      active = -1;
      input.removeAttribute("aria-activedescendant");
      found.forEach(function (skill, index) {
        var option = document.createElement("li");
        option.id = listbox.id + "-" + index;
        option.className = "esco-typeahead-option";
        option.setAttribute("role", "option");
        option.setAttribute("aria-selected", "false");
        var label = document.createElement("span");
        label.className = "esco-typeahead-option-label";
        label.textContent = skill.label;
        option.append(label);
        if (skill.description) {
          var description = document.createElement("span");
          description.className = "esco-typeahead-option-description";
          description.textContent = " — " + skill.description;
          option.append(description);
        }
        option.addEventListener("click", function () {
          choose(index);
        });
        listbox.append(option);
      });
      if (found.length) {
        var counted = input.dataset.escoTextCount || "{count} skills found";
        say(counted.replace("{count}", String(found.length)));
        open();
      } else {
        say(input.dataset.escoTextEmpty || "No matching skill");
        close();
      }
    }

    function fetchSuggestions() {
      var query = input.value.trim();
      if (pending) pending.abort();
      if (query.length < MIN_CHARS) {
        render([]);
        say("");
        return;
      }
      var url = new URL(endpoint, window.location.href);
      url.searchParams.set("q", query);
      url.searchParams.set("limit", String(LIMIT));
      var controller = new AbortController();
      pending = controller;
      fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin", signal: controller.signal })
        .then(function (response) {
          return response.json().then(function (body) {
            if (!response.ok) throw new Error(body.error || response.statusText);
            return body.results;
          });
        })
        .then(function (found) {
          if (pending !== controller) return;
          pending = null;
          if (SKILL_URI.test(query) && found.length === 1) {
            // A pasted URI that the index knows: show its label, nothing to choose.
            results = found;
            chosen = input.value;
            shown.textContent = found[0].label;
            render([]);
            say(found[0].label);
            return;
          }
          render(found);
        })
        .catch(function (error) {
          if (error.name === "AbortError") return;
          pending = null;
          render([]);
          say(error.message);
        });
    }

    input.addEventListener("input", function () {
      if (input.value !== chosen) shown.textContent = "";
      clearTimeout(timer);
      timer = setTimeout(fetchSuggestions, DEBOUNCE_MS);
    });

    input.addEventListener("keydown", function (event) {
      var expanded = !listbox.hidden;
      switch (event.key) {
        case "ArrowDown":
          event.preventDefault();
          if (!expanded) {
            if (results.length) open();
            else fetchSuggestions();
            if (event.altKey) return;
          }
          if (results.length) setActive((active + 1) % results.length);
          break;
        case "ArrowUp":
          if (!expanded) return;
          event.preventDefault();
          setActive(active <= 0 ? results.length - 1 : active - 1);
          break;
        case "Enter":
          if (expanded && active >= 0) {
            event.preventDefault();
            choose(active);
          }
          break;
        case "Escape":
          if (expanded) {
            event.preventDefault();
            close();
          }
          break;
        case "Tab":
          close();
          break;
      }
    });

    // Keep the focus in the input while a click picks an option.
    listbox.addEventListener("mousedown", function (event) {
      event.preventDefault();
    });
    input.addEventListener("blur", close);
  }

  function enhanceAll(root) {
    (root || document).querySelectorAll("input[data-esco-typeahead]").forEach(enhance);
  }

  window.MesheEscoTypeahead = { enhance: enhance, enhanceAll: enhanceAll };
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () {
      enhanceAll();
    });
  } else {
    enhanceAll();
  }
})();
