// Updates a bulk issue's progress bar while the job runs; reloads the page when it ends.
// Without JavaScript the page refreshes itself instead (see the <noscript> in its head).
(function () {
  "use strict";
  var section = document.querySelector("[data-progress-url]");
  if (!section || section.dataset.status !== "running") {
    return;
  }
  var bar = document.getElementById("bulk-progress");
  var text = document.getElementById("progress-text");

  function poll() {
    fetch(section.dataset.progressUrl, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (response) { return response.json(); })
      .then(function (job) {
        bar.value = job.percent;
        bar.textContent = job.percent + "%";
        text.textContent = job.issued + " / " + job.total;
        if (job.status === "running") {
          window.setTimeout(poll, 1000);
        } else {
          window.location.reload();
        }
      })
      .catch(function () { window.setTimeout(poll, 3000); });
  }
  window.setTimeout(poll, 1000);
})();
