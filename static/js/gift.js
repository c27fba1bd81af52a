// The gift form shows only the field that fits the chosen gift: how many points, or which
// reward. Without this script both fields show and the server checks the one that applies.
(function () {
  "use strict";
  document.querySelectorAll("form[data-gift-form]").forEach(function (form) {
    var choices = form.querySelectorAll('input[name="what"]');
    var fields = {
      points: form.querySelector('[data-field="points"]'),
      reward: form.querySelector('[data-field="reward"]'),
    };
    function show() {
      var chosen = form.querySelector('input[name="what"]:checked');
      Object.keys(fields).forEach(function (name) {
        if (fields[name]) {
          fields[name].hidden = chosen !== null && chosen.value !== name;
        }
      });
    }
    choices.forEach(function (choice) {
      choice.addEventListener("change", show);
    });
    show();
  });
})();
