// The catalogue compares up to a few offers side by side: ticking one more says so beside the
// button and leaves it unticked. Without JavaScript the compare page says it instead.
(function () {
  "use strict";
  document.querySelectorAll("form[data-compare-limit]").forEach(function (form) {
    var limit = parseInt(form.dataset.compareLimit, 10);
    var message = form.querySelector("[data-compare-limit-message]");
    form.addEventListener("change", function (event) {
      var box = event.target;
      if (box.name !== "offer") {
        return;
      }
      var ticked = form.querySelectorAll("input[name=offer]:checked").length;
      if (box.checked && ticked > limit) {
        box.checked = false;
        message.textContent = form.dataset.compareLimitText;
        message.classList.add("message", "message-warning");
      } else if (ticked <= limit) {
        message.textContent = "";
        message.classList.remove("message", "message-warning");
      }
    });
  });
})();
