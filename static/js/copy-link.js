// A "Copy link" button beside each address on the credential page. Without JavaScript the
// buttons stay hidden and the address is plain selectable text in its field.
(function () {
  "use strict";
  document.querySelectorAll("button[data-copy]").forEach(function (button) {
    var field = document.getElementById(button.dataset.copy);
    var status = document.getElementById(button.dataset.copyStatus);
    if (!field || !status) {
      return;
    }
    button.hidden = false;
    field.addEventListener("focus", function () {
      field.select();
    });
    button.addEventListener("click", function () {
      var copied = function () {
        status.textContent = button.dataset.copied;
      };
      var byCommand = function () {
        field.select();
        if (document.execCommand("copy")) {
          copied();
        }
      };
      status.textContent = "";
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(field.value).then(copied, byCommand);
      } else {
        byCommand();
      }
    });
  });
})();
