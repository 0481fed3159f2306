// The console's only script: the Now page refreshes its list in place, and command blocks
// get a Copy button. No build step, no library.
(function () {
  "use strict";

  function refreshNow(body) {
    var seconds = parseFloat(body.getAttribute("data-refresh-s")) || 5;
    var url = new URL(window.location.href);
    url.searchParams.set("fragment", "1");
    var busy = false;
    function tick() {
      if (busy || document.hidden) return;
      busy = true;
      fetch(url.toString(), { credentials: "same-origin", headers: { Accept: "text/html" } })
        .then(function (response) {
          // Signed out or the server is down: keep what is shown, try again next time.
          if (!response.ok || response.redirected) return null;
          return response.text();
        })
        .then(function (html) {
          if (html === null) return;
          body.innerHTML = html;
          var now = body.querySelector("[data-title]");
          if (now) document.title = now.getAttribute("data-title");
          body.setAttribute("data-refreshed", new Date().toISOString());
        })
        .catch(function () {})
        .then(function () { busy = false; });
    }
    window.setInterval(tick, seconds * 1000);
  }

  function copyButtons() {
    document.querySelectorAll("button.copy").forEach(function (button) {
      button.addEventListener("click", function () {
        var code = button.parentElement.querySelector("code");
        var text = code ? code.textContent : "";
        function done() { button.textContent = "Copied"; }
        if (navigator.clipboard && window.isSecureContext) {
          navigator.clipboard.writeText(text).then(done, function () {});
        } else {
          var range = document.createRange();
          range.selectNodeContents(code);
          var selection = window.getSelection();
          selection.removeAllRanges();
          selection.addRange(range);
          button.textContent = "Selected: press Ctrl+C";
        }
      });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var body = document.getElementById("now-body");
    if (body) refreshNow(body);
    copyButtons();
  });
})();
