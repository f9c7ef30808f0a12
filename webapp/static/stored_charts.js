/* Draw the charts model versions store (metrics.charts, see chart_spec) from each canvas's data-spec. */
(function () {
  const palette = window.matchloopCharts.palette;
  const colour = (i, alpha) => {
    const hex = palette[i % palette.length];
    if (alpha === undefined) return hex;
    const n = parseInt(hex.slice(1), 16);
    return `rgba(${n >> 16}, ${(n >> 8) & 255}, ${n & 255}, ${alpha})`;
  };
  const dataset = (spec, d, i) => {
    const kind = d.kind || spec.kind;
    const out = { label: d.label, data: d.data, borderColor: colour(i), backgroundColor: colour(i, 0.6) };
    if (spec.kind === "bar" && kind === "line") {
      Object.assign(out, { type: "line", pointRadius: 0, borderWidth: 2 });
    } else if (kind === "line") {
      Object.assign(out, { showLine: true, pointRadius: 0, borderWidth: 1.5 });
    } else if (kind === "scatter") {
      Object.assign(out, { showLine: false, pointRadius: 2 });
    }
    if (d.dashed) out.borderDash = [6, 4];
    if (d.fill) {
      const target = spec.datasets.findIndex((other) => other.label === d.fill);
      if (target >= 0) Object.assign(out, { fill: target, backgroundColor: colour(i, 0.15) });
    }
    return out;
  };
  document.querySelectorAll("canvas.stored-chart").forEach((canvas) => {
    const spec = JSON.parse(canvas.dataset.spec);
    const axis = (text) => ({ title: { display: Boolean(text), text } });
    new Chart(canvas, {
      type: spec.kind === "bar" ? "bar" : "scatter",
      data: {
        labels: spec.labels || undefined,
        datasets: spec.datasets.map((d, i) => dataset(spec, d, i)),
      },
      options: {
        maintainAspectRatio: false, animation: false,
        scales: { x: axis(spec.x_label), y: axis(spec.y_label) },
      },
    });
  });
})();
