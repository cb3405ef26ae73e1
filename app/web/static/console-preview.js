// The console's roadmap settings: the preview panel follows the form as it is changed.
// Optional: without it the form's Preview button shows the same preview on a page of its
// own. Loaded as a file (the Content-Security-Policy allows no inline script).
(function () {
  "use strict";
  var DELAY = 400;

  function query(form) {
    var params = new URLSearchParams();
    new FormData(form).forEach(function (value, name) {
      if (name !== "csrf_token" && typeof value === "string") {
        params.append(name, value);
      }
    });
    return params.toString();
  }

  function follow(form) {
    var url = form.getAttribute("data-preview-url");
    var panel = document.getElementById(form.getAttribute("data-preview-target"));
    if (!url || !panel || !window.fetch) {
      return;
    }
    var timer = null;
    var asked = 0;
    function refresh() {
      var number = ++asked;
      panel.setAttribute("aria-busy", "true");
      fetch(url + "?" + query(form), {
        credentials: "same-origin",
        headers: { "X-Console-Fragment": "1" },
      })
        .then(function (response) {
          return response.text();
        })
        .then(function (html) {
          if (number === asked) {
            panel.innerHTML = html; // the server's own escaped HTML, from this origin
            panel.removeAttribute("aria-busy");
          }
        })
        .catch(function () {
          panel.removeAttribute("aria-busy");
        });
    }
    function later() {
      window.clearTimeout(timer);
      timer = window.setTimeout(refresh, DELAY);
    }
    form.addEventListener("input", later);
    form.addEventListener("change", later);
  }

  document.querySelectorAll("form[data-preview-url]").forEach(follow);
})();
