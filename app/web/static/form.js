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

  document.addEventListener("DOMContentLoaded", function () {
    var summary = document.querySelector("[data-autofocus]");
    if (summary) summary.focus();
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
