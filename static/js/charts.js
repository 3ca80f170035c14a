/* Draws every chart on the page: an element with data-chart="<id>" gets the figure
   stored as JSON in <script type="application/json" id="<id>"> (Django's json_script).
   No inline script, so the strict CSP (script-src 'self') holds. A point whose
   customdata is a site-relative URL links there (e.g. heatmap cell -> filtered list).
   plotly.js (5.2 MB, 1.6 MB gzipped) is fetched from this script's data-plotly URL
   only when the page has a chart to draw: a page with none never downloads it. */
(function () {
  "use strict";

  var PLOTLY_URL = document.currentScript && document.currentScript.dataset.plotly;

  var CONFIG = { displayModeBar: false, responsive: true, displaylogo: false };

  function draw(el) {
    var source = document.getElementById(el.dataset.chart);
    if (!source || typeof Plotly === "undefined") {
      return;
    }
    var figure = JSON.parse(source.textContent);
    Plotly.newPlot(el, figure.data, figure.layout || {}, CONFIG).then(function (gd) {
      gd.on("plotly_click", function (event) {
        var point = event && event.points && event.points[0];
        var url = point && point.customdata;
        if (typeof url === "string" && url.charAt(0) === "/" && url.charAt(1) !== "/") {
          window.location.assign(url);
        }
      });
    });
  }

  function drawAll() {
    var charts = document.querySelectorAll("[data-chart]");
    if (!charts.length) {
      return;
    }
    if (typeof Plotly !== "undefined" || !PLOTLY_URL) {
      charts.forEach(draw);
      return;
    }
    var script = document.createElement("script");
    script.src = PLOTLY_URL;
    script.onload = function () {
      charts.forEach(draw);
    };
    document.head.appendChild(script);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", drawAll);
  } else {
    drawAll();
  }
})();
