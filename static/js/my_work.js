/* The navigation's "My work" count: fetched after the page has loaded (so no page pays
   for it), from the link's data-counts URL; shown only when something waits. */
(function () {
  "use strict";

  var link = document.querySelector("a[data-my-work-counts]");
  if (!link || !window.fetch) {
    return;
  }
  fetch(link.dataset.myWorkCounts, { credentials: "same-origin", headers: { Accept: "application/json" } })
    .then(function (response) {
      return response.ok ? response.json() : null;
    })
    .then(function (counts) {
      var badge = link.querySelector(".nav-count");
      if (!counts || !badge || !counts.total) {
        return;
      }
      var shown = String(counts.total) + (counts.at_least ? "+" : "");
      badge.textContent = shown;
      badge.hidden = false;
      link.setAttribute("aria-label", "My work: " + shown + " waiting");
    })
    .catch(function () {
      /* The count is a convenience: the page works without it. */
    });
})();
