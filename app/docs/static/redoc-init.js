// Starts ReDoc on this page (a file of its own: the page has no inline script).
window.addEventListener("load", function () {
  Redoc.init(document.body.dataset.openapiUrl, {}, document.getElementById("redoc"));
});
