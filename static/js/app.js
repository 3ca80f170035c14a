/* Small progressive enhancements; every page works without them.
   - form[data-autosubmit]: a changed filter (checkbox, select) submits the form.
   - button[data-formset-add="<prefix>"]: appends a row from <template id="<prefix>-empty-row">
     to the formset's tbody and bumps <prefix>-TOTAL_FORMS. */
(function () {
  "use strict";

  document.querySelectorAll("form[data-autosubmit]").forEach(function (form) {
    form.addEventListener("change", function (event) {
      var target = event.target;
      if (target.matches("input[type=checkbox], select")) {
        var page = form.querySelector("input[name=page]");
        if (page) {
          page.remove();
        }
        form.requestSubmit();
      }
    });
  });

  document.querySelectorAll("[data-formset-add]").forEach(function (button) {
    var prefix = button.dataset.formsetAdd;
    var total = document.getElementById("id_" + prefix + "-TOTAL_FORMS");
    var template = document.getElementById(prefix + "-empty-row");
    var body = document.querySelector("[data-formset-body]");
    if (!total || !template || !body) {
      return;
    }
    button.addEventListener("click", function () {
      var index = parseInt(total.value, 10) || 0;
      var html = template.innerHTML.replace(/__prefix__/g, String(index));
      body.insertAdjacentHTML("beforeend", html);
      total.value = String(index + 1);
      var first = body.lastElementChild && body.lastElementChild.querySelector("input");
      if (first) {
        first.focus();
      }
    });
  });
})();
