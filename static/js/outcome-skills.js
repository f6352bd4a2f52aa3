// Adds each skill chosen in a learning outcome's ESCO search to that outcome's list of skill
// links, then clears the search for the next one. Without JavaScript, links are pasted.
(function () {
  "use strict";
  document.addEventListener("esco:select", function (event) {
    var search = event.target;
    var list = document.getElementById(search.dataset.skillsTarget || "");
    if (!list || !event.detail || !event.detail.uri) {
      return;
    }
    var lines = list.value.split("\n").map(function (line) { return line.trim(); }).filter(Boolean);
    if (lines.indexOf(event.detail.uri) === -1) {
      lines.push(event.detail.uri);
    }
    list.value = lines.join("\n") + "\n";
    search.value = "";
  });
})();
