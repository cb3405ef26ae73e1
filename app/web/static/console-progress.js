// The console's reports page: while report jobs are being made, ask how far they are every
// few seconds and show it; once every job has finished, reload to show the download links.
// Optional: without JavaScript the page has a "Refresh" link that does the same.
(function () {
  "use strict";
  var line = document.querySelector("[data-progress-url]");
  if (!line || line.getAttribute("data-finished") === "true" || !window.fetch) {
    return;
  }
  var bar = line.querySelector("progress");
  var text = line.querySelector(".progress-text");
  var url = line.getAttribute("data-progress-url");

  function show(state) {
    bar.max = state.total;
    bar.value = state.done;
    bar.textContent = state.done + " of " + state.total;
    var words = state.done + " of " + state.total + " done";
    if (state.failed) {
      words += ", " + state.failed + " failed";
    }
    text.textContent = words + (state.finished ? "." : "; the rest are still being made.");
  }

  function poll() {
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        if (!response.ok) {
          throw new Error("progress " + response.status);
        }
        return response.json();
      })
      .then(function (state) {
        show(state);
        if (state.finished) {
          window.location.reload();
        } else {
          window.setTimeout(poll, 2000);
        }
      })
      .catch(function () {
        // Leave the page as it is: the Refresh link still works.
      });
  }

  window.setTimeout(poll, 2000);
})();
