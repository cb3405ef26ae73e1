// Progressive enhancement for the assessment form: follow-up questions appear as soon as
// their condition holds, "exclusive" checkboxes clear the others, and an error summary takes
// the focus. Everything works without this file; the server re-checks all of it.
(function () {
  "use strict";

  function valuesOf(form, questionId) {
    var inputs = form.querySelectorAll('[name="q-' + questionId + '"]');
    var values = [];
    inputs.forEach(function (input) {
      if ((input.type === "radio" || input.type === "checkbox") && !input.checked) return;
      if (input.value !== "") values.push(input.value);
    });
    return values;
  }

  function holds(condition, values) {
    if (values.length === 0 || values.indexOf("__na__") !== -1) return false;
    var value = values[0];
    switch (condition.op) {
      case "equals":
        if (typeof condition.value === "boolean") return value === (condition.value ? "yes" : "no");
        return String(condition.value) === value;
      case "any_of":
        return condition.value.indexOf(value) !== -1;
      case "includes":
        return values.indexOf(condition.value) !== -1;
      case "at_least":
        var number = parseFloat(value.replace(/,/g, ""));
        return !isNaN(number) && number >= condition.value;
    }
    return false;
  }

  function updateFollowUps(form) {
    form.querySelectorAll("[data-show-if]").forEach(function (block) {
      var condition = JSON.parse(block.getAttribute("data-show-if"));
      var parent = document.getElementById("q-" + condition.question);
      var parentShown = !parent || !parent.hidden;
      var show = parentShown && holds(condition, valuesOf(form, condition.question));
      if (block.hidden === show) {
        block.hidden = !show;
      }
    });
  }

  function exclusive(event) {
    var box = event.target;
    if (box.type !== "checkbox" || !box.checked) return;
    var fieldset = box.closest("fieldset");
    if (!fieldset) return;
    fieldset.querySelectorAll('input[type="checkbox"]').forEach(function (other) {
      if (other === box) return;
      if (box.hasAttribute("data-exclusive") || other.hasAttribute("data-exclusive")) {
        other.checked = false;
      }
    });
  }

  // The results page while its PDF is being prepared: ask the server every few seconds
  // instead of reloading the page (which is what happens without this script), then show
  // the download link. The message is a live region, so the change is announced.
  var READY_TEXT = "Your PDF is ready.";
  var FAILED_TEXT = "Your PDF could not be prepared in advance. The download below makes it " +
    "now, which can take up to a minute; if that does not work either, try again later or " +
    "contact the Center team.";
  var SLOW_TEXT = "Preparing your PDF is taking longer than usual. You can download it now " +
    "(it is made when you ask, which can take up to a minute) or reload this page later.";

  function watchReport(status) {
    var url = status.getAttribute("data-status-url");
    var message = status.querySelector(".report-message");
    var tries = 0;
    function show(state, text) {
      status.setAttribute("data-state", state);
      message.textContent = text;
      document.querySelectorAll(".report-link").forEach(function (link) { link.hidden = false; });
      document.querySelectorAll(".report-pending").forEach(function (note) { note.hidden = true; });
    }
    function ask() {
      tries += 1;
      fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
        .then(function (response) { return response.ok ? response.json() : { state: "preparing" }; })
        .catch(function () { return { state: "preparing" }; })
        .then(function (answer) {
          if (answer.state === "ready") return show("ready", READY_TEXT);
          if (answer.state === "failed") return show("failed", FAILED_TEXT);
          if (tries >= 60) return show("ready", SLOW_TEXT);
          window.setTimeout(ask, 2000);
        });
    }
    window.setTimeout(ask, 1000);
  }

  document.addEventListener("DOMContentLoaded", function () {
    var summary = document.querySelector("[data-autofocus]");
    if (summary) summary.focus();
    var status = document.getElementById("report-status");
    if (status && status.getAttribute("data-state") === "preparing") watchReport(status);
    var form = document.getElementById("page-form");
    if (!form) return;
    updateFollowUps(form);
    form.addEventListener("change", function (event) {
      exclusive(event);
      updateFollowUps(form);
    });
    form.addEventListener("input", function () { updateFollowUps(form); });
  });
})();
