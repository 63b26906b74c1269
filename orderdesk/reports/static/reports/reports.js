// Draws the Reports page's charts from the JSON the page carries (json_script), with the
// vendored Chart.js. No inline script or style: the Content-Security-Policy allows neither.
(function () {
  "use strict";
  var palette = ["#4338ca", "#16a34a", "#b45309", "#dc2626", "#0891b2", "#7c3aed"];

  function draw(canvas) {
    var source = document.getElementById(canvas.dataset.chart);
    if (!source || !window.Chart) return;
    var spec = JSON.parse(source.textContent);
    var horizontal = !!spec.horizontal;
    var datasets = spec.datasets.map(function (set, index) {
      var colour = palette[index % palette.length];
      return {
        label: set.label,
        data: set.data,
        backgroundColor: spec.type === "line" ? colour : colour + "cc",
        borderColor: colour,
        borderWidth: spec.type === "line" ? 2 : 0,
        pointRadius: spec.type === "line" ? 2 : 0,
        spanGaps: true,
        tension: 0.2,
      };
    });
    var valueAxis = { beginAtZero: true, ticks: { precision: 0 } };
    if (spec.percent) {
      valueAxis.max = 100;
    }
    new window.Chart(canvas, {
      type: spec.type,
      data: { labels: spec.labels, datasets: datasets },
      options: {
        indexAxis: horizontal ? "y" : "x",
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        plugins: {
          legend: { display: datasets.length > 1, position: "bottom" },
        },
        scales: horizontal
          ? { x: valueAxis, y: { ticks: { autoSkip: false } } }
          : { y: valueAxis, x: { ticks: { maxRotation: 0, autoSkipPadding: 12 } } },
      },
    });
  }

  function drawAll() {
    document.querySelectorAll("canvas[data-chart]").forEach(draw);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", drawAll);
  } else {
    drawAll();
  }
})();
