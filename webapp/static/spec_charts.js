/* Draw the charts model types store with their versions (contract.chart_spec):
   every canvas.spec-chart carries its spec as JSON in data-spec. */
(function () {
  const palette = window.matchloopCharts.palette;
  const colour = (i) => palette[i % palette.length];
  function dataset(d, i, spec, labels) {
    const kind = d.kind || spec.kind;
    const style = {
      label: d.label, data: d.data, borderColor: colour(i), backgroundColor: colour(i),
      borderWidth: 2, pointRadius: kind === "scatter" ? 3 : 0, type: kind === "bar" ? "bar" : "line",
      showLine: kind !== "scatter", spanGaps: false,
    };
    if (d.dashed) style.borderDash = [6, 4];
    if (d.fill) {
      const target = labels.indexOf(d.fill);
      if (target >= 0) { style.fill = target; style.backgroundColor = colour(i) + "33"; style.borderWidth = 0; }
    }
    return style;
  }
  document.querySelectorAll("canvas.spec-chart").forEach((canvas) => {
    const spec = JSON.parse(canvas.dataset.spec);
    const labels = spec.datasets.map((d) => d.label);
    const bar = spec.kind === "bar";
    // With category labels, line data are arrays aligned with them (null = no point).
    const categorical = !!spec.labels;
    new Chart(canvas, {
      type: bar ? "bar" : categorical ? "line" : "scatter",
      data: { labels: spec.labels || undefined, datasets: spec.datasets.map((d, i) => dataset(d, i, spec, labels)) },
      options: {
        maintainAspectRatio: false, animation: false,
        scales: {
          x: { title: { display: !!spec.x_label, text: spec.x_label } },
          y: { title: { display: !!spec.y_label, text: spec.y_label } },
        },
      },
    });
  });
})();
