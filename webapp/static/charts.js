/* Small wrappers around Chart.js so templates only pass data. */
window.matchloopCharts = {
  bar(id, labels, values, label) {
    return new Chart(document.getElementById(id), {
      type: "bar",
      data: { labels, datasets: [{ label, data: values, backgroundColor: "#1095c1" }] },
      options: { maintainAspectRatio: false, animation: false, plugins: { legend: { display: false } } },
    });
  },
  horizontalBar(id, labels, values, label) {
    return new Chart(document.getElementById(id), {
      type: "bar",
      data: { labels, datasets: [{ label, data: values, backgroundColor: "#1095c1" }] },
      options: { indexAxis: "y", maintainAspectRatio: false, animation: false, plugins: { legend: { display: false } } },
    });
  },
  lines(id, datasets, xLabel, yLabel) {
    return new Chart(document.getElementById(id), {
      type: "scatter",
      data: { datasets: datasets.map((d) => ({ showLine: true, pointRadius: 0, borderWidth: 2, ...d })) },
      options: {
        maintainAspectRatio: false, animation: false,
        scales: { x: { min: 0, max: 1, title: { display: true, text: xLabel } },
                  y: { min: 0, max: 1, title: { display: true, text: yLabel } } },
      },
    });
  },
};
