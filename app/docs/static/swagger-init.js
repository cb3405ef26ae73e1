// Starts Swagger UI on this page. A file of its own, not an inline script, so the page
// runs under a Content-Security-Policy of script-src 'self'.
window.addEventListener("load", function () {
  window.ui = SwaggerUIBundle({
    url: document.body.dataset.openapiUrl,
    dom_id: "#swagger-ui",
    deepLinking: true,
    // The default validator badge is fetched from another site; there is none here.
    validatorUrl: null,
    presets: [SwaggerUIBundle.presets.apis],
    layout: "BaseLayout",
  });
});
