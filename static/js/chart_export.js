/* Exports every figure of a print page as SVG (vector) and PNG (its fallback) for the
   Word file: each <script type="application/json" data-figure="<name>"> is drawn off
   screen by plotly.js and exported with Plotly.toImage; the results are written, as
   JSON, into <pre id="exported"> for Chromium's --dump-dom. Used by
   documents/rendering.py only; no network, no inline script. */
(function () {
  "use strict";

  var WIDTH = 900;
  var out = {};
  var errors = [];

  function exportOne(node) {
    var name = node.dataset.figure;
    var figure = JSON.parse(node.textContent);
    var layout = Object.assign({}, figure.layout || {});
    var height = layout.height || 480;
    layout.width = WIDTH;
    layout.height = height;
    var div = document.createElement("div");
    document.body.appendChild(div);
    return Plotly.newPlot(div, figure.data, layout, { staticPlot: true })
      .then(function (gd) {
        var size = { width: WIDTH, height: height };
        return Promise.all([
          Plotly.toImage(gd, Object.assign({ format: "svg" }, size)),
          Plotly.toImage(gd, Object.assign({ format: "png", scale: 2 }, size)),
        ]);
      })
      .then(function (images) {
        out[name] = { svg: images[0], png: images[1], width: WIDTH, height: height };
      })
      .catch(function (error) {
        errors.push(name + ": " + error);
      });
  }

  function done() {
    var pre = document.createElement("pre");
    pre.id = "exported";
    pre.textContent = JSON.stringify({ figures: out, errors: errors });
    document.body.appendChild(pre);
  }

  var nodes = Array.prototype.slice.call(
    document.querySelectorAll('script[type="application/json"][data-figure]')
  );
  if (typeof Plotly === "undefined") {
    errors.push("plotly.js did not load");
    done();
  } else {
    Promise.all(nodes.map(exportOne)).then(done, done);
  }
})();
